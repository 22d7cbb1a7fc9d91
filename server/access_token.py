"""The service's token: only whoever can read the learner's home folder can change an exam.

Jupyter server's model. The token is made at first start and kept in `<home>/token` (mode 0600,
in a home folder of mode 0700), so another user of the machine cannot read it; `TFEXAM_TOKEN`
overrides it, and `--no-token` (or `TFEXAM_NO_TOKEN=1`) turns the check off on purpose.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from server.environment import TRUE_WORDS

TOKEN_FILE = "token"


def private_folder(path: Path) -> Path:
    """Create (or tighten) a folder only its owner may enter."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file that is 0600 from its first byte, then rename it into place (never half-made,
    never readable by others even for a moment)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def token_disabled(env: Mapping[str, str]) -> bool:
    return env.get("TFEXAM_NO_TOKEN", "").strip().lower() in TRUE_WORDS


def resolve_token(home: Path, env: Mapping[str, str] | None = None, disabled: bool = False
                  ) -> str | None:
    """The token the service should demand: None when turned off, else TFEXAM_TOKEN, else the one
    kept in the home folder (made now if there is none yet)."""
    env = os.environ if env is None else env
    if disabled or token_disabled(env):
        return None
    given = env.get("TFEXAM_TOKEN", "").strip()
    if given:
        return given
    private_folder(home)
    path = home / TOKEN_FILE
    if path.is_file():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    token = secrets.token_urlsafe(32)
    write_private(path, token + "\n")
    return token


def read_token(home: Path) -> str | None:
    """The token kept in a home folder, for clients on the same account; None if unreadable."""
    try:
        return (home / TOKEN_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
