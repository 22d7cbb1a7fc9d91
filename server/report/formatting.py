"""Small text conversions shared by the report's HTML and its plots.

The API speaks ISO 8601 in UTC; people read local wall-clock times, sizes in kB and short hashes,
so the conversions live in one place and the pages and the downloaded file never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


def parse_iso(value: str | None) -> float | None:
    """Seconds since the epoch from the API's ISO strings (Python 3.10 rejects a bare 'Z')."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def local_time(value: str | None, with_date: bool = True) -> str:
    """The service runs on the learner's machine, so its local time zone is the learner's."""
    ts = parse_iso(value)
    if ts is None:
        return "—"
    moment = datetime.fromtimestamp(ts).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def elapsed(value: str | None, since: str | None) -> str:
    """'+12:05' after the start: how far into the exam a model was saved."""
    at, start = parse_iso(value), parse_iso(since)
    if at is None or start is None:
        return ""
    seconds = int(round(at - start))
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{secs:02d}" if hours else f"{sign}{minutes}:{secs:02d}"


def human_size(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def metric_value(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.3g}"
    return f"{value:.4g}"


def score_text(score: Any) -> str:
    return "—" if score is None else f"{score}/5"


def data_flags(data: dict[str, Any]) -> list[str]:
    """The provenance warnings a learner must not miss: a score on partial or substitute data
    says less about the real exam than a score on the full set."""
    flags = []
    if data.get("complete") is False:
        flags.append("partial")
    if data.get("source") == "standin":
        flags.append("offline stand-in")
    return flags


def grader_keras(loader: str | None, session_keras: str) -> str | None:
    """Which Keras read the counted file, said against the session's Keras. The grader reads every
    file with Keras 3 first and falls back to tf_keras (Keras 2) only for what Keras 3 refuses, so
    a Keras 2 session's file is usually read by Keras 3: a bare "Graded with Keras 3.x" under a
    session called Keras 2 reads as a contradiction, and it is not one."""
    if not loader:
        return None
    ran = "Keras 2 (tf_keras)" if session_keras == "2" else "Keras 3"
    read_by_keras3 = loader.startswith("Keras 3")
    read_by_keras2 = "Keras 2" in loader or loader.startswith("tf_keras")
    if session_keras == "2" and read_by_keras3:
        return (f"read for grading by {loader}, which also reads files saved by Keras 2; your "
                f"scripts ran {ran}, as in the real exam")
    if session_keras == "3" and read_by_keras2:
        return (f"read for grading by {loader}, because Keras 3 could not read it; your scripts "
                f"ran {ran}")
    return f"read for grading by {loader}; your scripts ran {ran}"
