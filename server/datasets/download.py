"""One catalogued file from its official URL, or a sentence why not: bounded in time, retried,
and checked before it is kept.

A download is the one step of creating a session that waits on someone else's server, so a stall
must not hang the start (a connection silent for `silence_seconds` is given up, and no attempt
runs past `attempt_seconds`), a dropped connection or a server error is tried again after a
pause, and what arrives is kept only if it is the published file: its sha256 where it is
published, else its record count (see the catalogue for which data sets have no published
checksum). Nothing half-downloaded is ever left under the final name.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from server.datasets.catalogue import DataFile

CHUNK = 1 << 16
USER_AGENT = "tfexam (dataset download)"


@dataclass(frozen=True)
class DownloadPolicy:
    """The limits of fetching one file; tests shrink them, learners never need to."""

    silence_seconds: float = 30.0     # a connection that sends nothing this long has stalled
    attempt_seconds: float = 30 * 60  # even a trickle ends: ~200 MB at 120 kB/s
    attempts: int = 3
    pauses: tuple[float, ...] = (2.0, 8.0)  # before the 2nd and 3rd attempts


class DownloadFailed(Exception):
    """The file could not be had; the message says why in a few words (not a whole sentence)."""


class _Permanent(DownloadFailed):
    """A failure that another attempt would only repeat (404, 403)."""


def count_records(path: Path, kind: str | None = None) -> int | None:
    """Records in a JSON list or a CSV file with a header (`kind` is the suffix when the path's
    own is not the file's, as for a `.partial`); None for other files."""
    kind = kind or path.suffix
    if kind == ".json":
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return len(data) if isinstance(data, list) else None
    if kind == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            return max(0, sum(1 for _ in csv.reader(handle)) - 1)
    return None


def verify(data_file: DataFile, path: Path) -> None:
    """Raises DownloadFailed unless `path` is the published file (sha256, else record count)."""
    if data_file.sha256:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != data_file.sha256:
            raise DownloadFailed(f"its sha256 is not the published {data_file.sha256[:12]}…")
        return
    if data_file.rows is not None:
        try:
            found = count_records(path, Path(data_file.name).suffix)
        except (ValueError, UnicodeDecodeError) as error:
            raise DownloadFailed(f"it does not parse ({type(error).__name__})") from error
        if found != data_file.rows:
            raise DownloadFailed(f"it holds {found} records, not the official {data_file.rows}")


def _progress(name: str, done: int, total: int | None) -> None:
    """A one-line progress bar on stderr: a large download must not look like a hang."""
    if total:
        share = min(1.0, done / total)
        sys.stderr.write(f"\r{name}: [{'#' * int(share * 30):<30}] {share:4.0%} of "
                         f"{total / 1e6:.1f} MB")
    else:
        sys.stderr.write(f"\r{name}: {done / 1e6:.1f} MB")
    sys.stderr.flush()


def _attempt(data_file: DataFile, partial: Path, policy: DownloadPolicy) -> None:
    request = urllib.request.Request(data_file.url, headers={"User-Agent": USER_AGENT})
    ends = time.monotonic() + policy.attempt_seconds
    try:
        with urllib.request.urlopen(request, timeout=policy.silence_seconds) as response, \
                open(partial, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while block := response.read(CHUNK):
                out.write(block)
                done += len(block)
                _progress(data_file.name, done, total)
                if time.monotonic() > ends:
                    raise DownloadFailed(f"it took longer than {policy.attempt_seconds:g} s")
            sys.stderr.write("\n")
            if total is not None and done != total:
                raise DownloadFailed(f"the connection ended after {done} of {total} bytes")
    except urllib.error.HTTPError as error:
        failure = f"the server answered {error.code} {error.reason}"
        raise (_Permanent if 400 <= error.code < 500 and error.code not in (408, 429)
               else DownloadFailed)(failure) from error
    except TimeoutError as error:
        raise DownloadFailed(f"the connection stalled (nothing for {policy.silence_seconds:g} s)"
                             ) from error
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        if isinstance(reason, TimeoutError):
            raise DownloadFailed(f"the connection stalled (nothing for "
                                 f"{policy.silence_seconds:g} s)") from error
        raise DownloadFailed(str(reason) or type(error).__name__) from error
    verify(data_file, partial)


def fetch(data_file: DataFile, final: Path, policy: DownloadPolicy | None = None) -> Path:
    """Download `data_file` to `final` (through `final.partial`), trying up to `policy.attempts`
    times; raises DownloadFailed with the last reason and the number of attempts."""
    policy = policy or DownloadPolicy()
    partial = final.with_name(final.name + ".partial")
    reason = "no attempt was made"
    for attempt in range(policy.attempts):
        if attempt:
            time.sleep(policy.pauses[min(attempt - 1, len(policy.pauses) - 1)]
                       if policy.pauses else 0.0)
        try:
            _attempt(data_file, partial, policy)
        except _Permanent as why:
            partial.unlink(missing_ok=True)
            raise DownloadFailed(f"{why} (not tried again)") from why
        except DownloadFailed as why:
            partial.unlink(missing_ok=True)
            reason = str(why)
            continue
        partial.replace(final)
        return final
    tries = "once" if policy.attempts == 1 else f"{policy.attempts} times"
    raise DownloadFailed(f"{reason} (tried {tries})")
