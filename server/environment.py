"""Every `TFEXAM_*` setting of the service, parsed once from the environment and refused whole.

A setting that fails quietly is worse than one that fails loudly: `TFEXAM_WARM_SANDBOXES=2.9` used
to become 2, `-3` was taken, and `TFEXAM_JOB_TIMEOUT=3m` ended in a traceback. Here each setting is
a field of one pydantic model with the values it allows, and a bad value is one sentence that
names the setting, the value and what is allowed (`BadSetting`); `tfexam serve` prints it and does
not start.

Only what is set is here: a field left unset (or set to an empty string) is None, and the default
stays where it is written once, on `server.config.Settings`. The sandbox's own variables
(`TFEXAM_CONFINE`, `TFEXAM_JOB_DIR`) are tfexam's channel to its child, not settings, and are not
read here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# Never echoed: a sentence may end up in a log (the URLs may hold passwords).
SECRET = frozenset({"TFEXAM_TOKEN", "TFEXAM_DATABASE_URL", "TFEXAM_BROKER_URL"})


class BadSetting(ValueError):
    """A setting with a value tfexam does not take; the message is the learner's one sentence."""


def _switch(value: Any) -> Any:
    """On/off words only: pydantic would also take "t" or "y", which nobody means."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValueError("not an on/off word")
    return value


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _path(value: Any) -> Any:
    if isinstance(value, str) and "\0" in value:
        raise ValueError("a path cannot hold a NUL character")
    return value


Switch = Annotated[bool | None, BeforeValidator(_switch)]
Folder = Annotated[Path | None, BeforeValidator(_path)]


class Environment(BaseModel):
    """The service's settings as the environment gives them; each field's description is what
    the sentence for a bad value says is allowed."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True,
                              populate_by_name=False)

    home: Folder = Field(None, alias="TFEXAM_HOME",
                         description="a folder path (tfexam creates it if it does not exist)")
    datasets: Folder = Field(None, alias="TFEXAM_DATASETS",
                             description="the path of a folder that mirrors the exam's data sets")
    exams: Folder = Field(None, alias="TFEXAM_EXAMS",
                          description="the path of an existing folder of exam templates")
    keras_home: Folder = Field(None, alias="KERAS_HOME", description="a folder path")
    token: Annotated[str | None, Field(None, alias="TFEXAM_TOKEN", pattern=r"^[!-~]+$",
                                       description="printable ASCII characters without spaces")]
    no_token: Switch = Field(None, alias="TFEXAM_NO_TOKEN",
                             description="1, true, yes or on (no token) or 0, false, no or off "
                             "(the token is needed)")
    offline: Switch = Field(None, alias="TFEXAM_OFFLINE",
                            description="1, true, yes or on (never download) or 0, false, no or "
                            "off (downloads allowed)")
    sandbox: Annotated[Literal["auto", "bwrap", "landlock"] | None, BeforeValidator(_lower)] = Field(
        None, alias="TFEXAM_SANDBOX", description="auto, bwrap or landlock")
    settle_seconds: float | None = Field(
        None, alias="TFEXAM_SETTLE_SECONDS", gt=0, le=600, allow_inf_nan=False,
        description="a number of seconds above 0 and at most 600, for example 1 or 0.5")
    give_up_seconds: float | None = Field(
        None, alias="TFEXAM_GIVE_UP_SECONDS", gt=0, le=3600, allow_inf_nan=False,
        description="a number of seconds above 0 and at most 3600, for example 10")
    job_time_limit: float | None = Field(
        None, alias="TFEXAM_JOB_TIMEOUT", gt=0, le=86400, allow_inf_nan=False,
        description="a number of seconds above 0 and at most 86400, for example 180 for three minutes")
    job_memory_limit_mb: float | None = Field(
        None, alias="TFEXAM_JOB_MEMORY_MB", ge=256, le=1 << 20, allow_inf_nan=False,
        description="a number of megabytes from 256 to 1048576, for example 6144")
    model_size_limit_mb: float | None = Field(
        None, alias="TFEXAM_MODEL_SIZE_MB", gt=0, le=1 << 20, allow_inf_nan=False,
        description="a number of megabytes above 0 and at most 1048576, for example 1024")
    warm_sandboxes: int | None = Field(
        None, alias="TFEXAM_WARM_SANDBOXES", ge=0, le=8, strict=False,
        description="a whole number from 0 to 8 (0: as many as the sandbox needs)")

    # Classroom mode (README, "Classroom").
    database_url: str | None = Field(
        None, alias="TFEXAM_DATABASE_URL", pattern=r"^postgresql(\+psycopg)?://\S+$",
        description="a PostgreSQL URL such as postgresql+psycopg://user@host/database")
    broker_url: str | None = Field(
        None, alias="TFEXAM_BROKER_URL", pattern=r"^(amqps?|rediss?)://\S+$",
        description="a broker URL such as amqp://user@host// (RabbitMQ) or "
        "redis://host:6379/0 (Redis)")
    grading_lease: float | None = Field(
        None, alias="TFEXAM_GRADING_LEASE", ge=1, le=86400, allow_inf_nan=False,
        description="a number of seconds from 1 to 86400, longer than a grading job can take")
    hosts: str | None = Field(
        None, alias="TFEXAM_HOSTS", pattern=r"^[A-Za-z0-9.:\-\[\]]+(,[A-Za-z0-9.:\-\[\]]+)*$",
        description="host names separated by commas, such as exam.example.org,10.0.0.5")

    @classmethod
    def read(cls, env: Mapping[str, str] | None = None) -> Environment:
        """The settings in `env` (the process's environment by default); raises BadSetting."""
        env = os.environ if env is None else env
        given = {alias: value for alias in cls.aliases() if (value := env.get(alias, "").strip())}
        try:
            return cls.model_validate(given)
        except ValidationError as error:
            raise BadSetting(_sentence(error, given)) from None

    @classmethod
    def aliases(cls) -> list[str]:
        return [str(field.alias) for field in cls.model_fields.values()]

    def overrides(self) -> dict[str, Any]:
        """The numeric settings that were set, by their name on `Settings`."""
        names = ("settle_seconds", "give_up_seconds", "job_time_limit", "job_memory_limit_mb",
                 "model_size_limit_mb", "warm_sandboxes", "grading_lease")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def _sentence(error: ValidationError, given: Mapping[str, str]) -> str:
    """The first bad setting as one sentence: its name, its value, what it allows."""
    first = error.errors()[0]
    alias = str(first["loc"][0]) if first["loc"] else "a setting"
    field = next((f for f in Environment.model_fields.values() if f.alias == alias), None)
    allowed = field.description if field is not None else "another value"
    value = "(a value, not shown)" if alias in SECRET else repr(given.get(alias, ""))
    return (f"{alias}={value} is not allowed: it must be {allowed}; change or "
            "unset it, then start tfexam again.")


def check_folders(environment: Environment) -> None:
    """What only the file system can tell: a folder setting that names something else."""
    for alias, path, must_exist in (("TFEXAM_EXAMS", environment.exams, True),
                                    ("TFEXAM_DATASETS", environment.datasets, False),
                                    ("TFEXAM_HOME", environment.home, False)):
        if path is None:
            continue
        folder = path.expanduser()
        if folder.exists() and not folder.is_dir():
            raise BadSetting(f"{alias}={str(path)!r} is not allowed: it names a file, and it must "
                             "be a folder; change or unset it, then start tfexam again.")
        if must_exist and not folder.is_dir():
            raise BadSetting(f"{alias}={str(path)!r} is not allowed: no such folder, and it must "
                             "be an existing folder of exam templates; change or unset it, then "
                             "start tfexam again.")
