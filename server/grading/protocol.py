"""The wire between the trusted side and a sandboxed child: one JSON object per line on a private
socket, each side parsing what it receives with these models (nothing is read with `.get()`).

The child never receives labels, a score, a metric or the held-out file: only the model's file
name, the inputs to predict (a file in its read-only job folder, or a few windows inline) and a
nonce that binds every reply to the job. Its replies carry model facts and predictions, never a
score. A reply that does not parse, names another nonce or answers a question that was not asked is
a failure of that job alone (a process serves exactly one job).
"""

from __future__ import annotations

import base64
import math
import zipfile
from collections.abc import Iterable
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# A reply line longer than this is never read, whatever was asked.
MAX_LINE_BYTES = 64 * 2**20
# Each reply is also held to what its request can need (the sandbox's reader refuses a longer one
# before buffering it): "ready" and the model's report are small and fixed; predictions are the
# values asked for, 8 bytes each at most (float64), in base64, plus the message around them.
READY_BYTES = 64 * 1024
MODEL_REPORT_BYTES = 2**20
REPLY_OVERHEAD = 4096


def predictions_bytes(values: int) -> int:
    """The longest reply line that carries `values` numbers (float64, base64) and nothing else."""
    return REPLY_OVERHEAD + 4 * -(-8 * max(0, values) // 3)


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArrayPayload(_Message):
    """A numeric array in transit: dtype, shape and the raw bytes (base64, C order)."""

    dtype: Literal["float32", "float64"]
    shape: list[Annotated[int, Field(ge=0)]] = Field(max_length=8)
    data: str

    @classmethod
    def of(cls, array: np.ndarray) -> ArrayPayload:
        array = np.ascontiguousarray(array)
        if array.dtype not in (np.float32, np.float64):
            array = array.astype("float32")
        return cls(dtype=str(array.dtype), shape=list(array.shape),  # type: ignore[arg-type]
                   data=base64.b64encode(array.tobytes()).decode("ascii"))

    @property
    def size(self) -> int:
        """How many values the shape claims (exact: no int64 overflow)."""
        return math.prod(self.shape)

    def array(self) -> np.ndarray:
        raw = base64.b64decode(self.data, validate=True)
        dtype = np.dtype(self.dtype)
        count = self.size
        if len(raw) != count * dtype.itemsize:
            raise ValueError(f"payload has {len(raw)} bytes for shape {self.shape}")
        return np.frombuffer(raw, dtype=dtype).reshape(self.shape).copy()


class ConfigLimits(_Message):
    """Bounds on what the child reads of a model's own description before any loader runs."""

    config_bytes: int = 8 * 2**20
    config_depth: int = 200
    zip_entries: int = 64
    zip_total_bytes: int = 4 * 2**30
    zip_ratio: float = 200.0


# An entry this small is never called a bomb, whatever its ratio (a config full of zeros).
ZIP_BOMB_FLOOR = 2**20


def oversized_entry(infos: Iterable[zipfile.ZipInfo], ratio: float) -> zipfile.ZipInfo | None:
    """The first entry of a zip that would unpack more than `ratio` times larger than it is stored
    (a zip bomb), or None. One rule for the service's intake and the child's own check of the same
    bytes, so the two cannot disagree."""
    return next((info for info in infos if info.file_size > ZIP_BOMB_FLOOR
                 and info.file_size > ratio * max(1, info.compress_size)), None)


# parent -> child -------------------------------------------------------------------------------
class LoadRequest(_Message):
    kind: Literal["load"] = "load"
    nonce: str = Field(min_length=16, max_length=64)
    model: str = Field(description="file or folder name inside the job folder")
    format: Literal["h5", "keras", "savedmodel"]
    limits: ConfigLimits = ConfigLimits()


class PredictRequest(_Message):
    kind: Literal["predict"] = "predict"
    nonce: str
    seq: int = Field(ge=0)
    inputs_file: str | None = Field(default=None, description=".npy inside the job folder")
    inputs: ArrayPayload | None = None


class ForkRequest(_Message):
    """To a forking sandbox's first process (its zygote) on the control channel, with the new
    job's own socket passed beside it: fork one child for one job, talking on that socket only."""

    kind: Literal["fork"] = "fork"
    job: int = Field(ge=0)


Request = Annotated[LoadRequest | PredictRequest, Field(discriminator="kind")]
REQUEST = TypeAdapter(Request)


# child -> parent -------------------------------------------------------------------------------
class Ready(_Message):
    kind: Literal["ready"] = "ready"
    import_seconds: float
    versions: dict[str, str]
    confinement: dict[str, str | int | bool | None]
    forks: bool = False  # serves jobs one after another, each in a child forked for it


class Recycled(_Message):
    """From a forking sandbox's zygote, on the control channel only: the job's child has ended, no
    other process is left in the sandbox and its temporary folders are empty (`clean`), or why
    not. Only then is the sandbox given another job."""

    kind: Literal["recycled"] = "recycled"
    job: int
    clean: bool
    ended: str = Field(default="", max_length=200)  # how the job's child ended
    detail: str = Field(default="", max_length=500)


class ModelInfo(_Message):
    """What the child read from the loaded model; claims, checked against the predictions."""

    input_shape: list[int | None] | None
    output_shape: list[int | None] | None
    inputs: int = 1
    outputs: int = 1
    final_activation: str | None
    keras: str
    layers: list[str] = Field(default_factory=list, max_length=10000)
    parameters: int | None = None
    notes: list[str] = Field(default_factory=list, max_length=20)


class ModelReport(_Message):
    kind: Literal["model"] = "model"
    nonce: str
    info: ModelInfo
    seconds: float


class Predictions(_Message):
    kind: Literal["predictions"] = "predictions"
    nonce: str
    seq: int
    outputs: ArrayPayload
    seconds: float


class ChildFailure(_Message):
    """The learner's file could not be taken: refused, unreadable, or it failed at predict time."""

    kind: Literal["failure"] = "failure"
    nonce: str
    status: Literal["refused", "load_error", "evaluation_error"]
    message: str = Field(max_length=2000)


Reply = Annotated[Ready | Recycled | ModelReport | Predictions | ChildFailure,
                  Field(discriminator="kind")]
REPLY = TypeAdapter(Reply)


def encode(message: BaseModel) -> bytes:
    return message.model_dump_json().encode("utf-8") + b"\n"


def decode_reply(line: bytes) -> Ready | Recycled | ModelReport | Predictions | ChildFailure:
    """Raises pydantic.ValidationError (a ValueError) for anything that is not a valid reply."""
    return REPLY.validate_json(line)


def decode_request(line: bytes) -> LoadRequest | PredictRequest:
    return REQUEST.validate_json(line)


def decode_fork(line: bytes) -> ForkRequest:
    return ForkRequest.model_validate_json(line)
