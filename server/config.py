"""Settings of one running service, read once from the environment and the command line.

Everything the service writes lives under `home`, so one folder is the whole state of a learner's
exams (back it up, delete it, or mount it as a Docker volume).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from server.environment import Environment, check_folders

REPO_EXAMS = Path(__file__).resolve().parent.parent / "exams"


@dataclass(frozen=True)
class Settings:
    home: Path
    host: str = "127.0.0.1"
    port: int = 8765
    exams_dir: Path = REPO_EXAMS
    datasets_mirror: Path | None = None
    keras_home: Path | None = None
    settle_seconds: float = 1.0
    give_up_seconds: float = 10.0
    job_time_limit: float = 180.0
    job_memory_limit_mb: float = 6144.0
    model_size_limit_mb: float = 1024.0  # per question unless its manifest says max_model_mb
    # 0: as the sandboxes need. One where they fork a process per job (bubblewrap), as it serves
    # job after job and a second would hold another TensorFlow import (about 600 MB) for the rare
    # failed job; two where each serves one job (the fallback), so the next is started early.
    warm_sandboxes: int = 0
    sweep_interval: float = 0.2
    start_worker: bool = True
    token: str | None = None
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    # Classroom mode: the central store (`postgresql+psycopg://user@host/db`) and the broker
    # that carries grading jobs to `tfexam worker` processes. Unset: the local mode (SQLite in
    # `home`, grading in this process's own sandboxes).
    database_url: str | None = None
    broker_url: str | None = None
    # Classroom mode: how long a job may stay "grading" before the service publishes it again
    # (its worker vanished). None: the job's hard limit plus a margin (server/classroom).
    grading_lease: float | None = None

    @property
    def database(self) -> Path:
        return self.home / "tfexam.sqlite3"

    @property
    def store_target(self) -> Path | str:
        """What the store opens: the central database's URL, else the home's SQLite file."""
        return self.database_url or self.database

    @property
    def classroom(self) -> bool:
        return self.broker_url is not None

    @property
    def sessions_dir(self) -> Path:
        return self.home / "sessions"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """The environment's settings under the caller's overrides. Raises
        `server.environment.BadSetting` (one sentence) for any TFEXAM_* value it does not take,
        so a service never starts with a setting it silently bent."""
        env = Environment.read()
        check_folders(env)
        values: dict[str, object] = {
            "home": env.home or Path(platformdirs.user_data_dir("tfexam")),
            "exams_dir": (env.exams or REPO_EXAMS).expanduser(),
            "datasets_mirror": env.datasets.expanduser() if env.datasets else None,
            "keras_home": env.keras_home.expanduser() if env.keras_home else None,
            "token": env.token,
            # One default per setting: the field's own; the environment only overrides it.
            **env.overrides(),
            "database_url": env.database_url,
            "broker_url": env.broker_url,
            # Names learners reach a central service by (its Host check refuses any other).
            "extra_hosts": tuple(h for h in (env.hosts or "").split(",") if h),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["home"] = Path(values["home"]).expanduser().resolve()  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]
