"""Install into the project's environment with uv, honouring the machine's pip configuration.

uv resolves and installs TensorFlow's ~50 wheels in parallel, several times faster than pip, but it
reads none of pip's settings. A machine (or a company) that points pip at a mirror, an extra
index, a folder of wheels, a certificate or a constraints file would silently get a different
environment, or none. So this helper reads what pip itself would use (`pip config list`, which
merges the config files and the PIP_* variables) and passes the same settings to uv, with pip's
"best version across all indexes" rule. It runs with the standard library only, before anything
is installed.

Usage: python tools/uv_install.py UV PYTHON [uv pip install arguments...]
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterable

# pip setting -> (uv option, whether pip's value is a whitespace-separated list)
OPTIONS = {
    "index-url": ("--index-url", False),
    "extra-index-url": ("--extra-index-url", True),
    "find-links": ("--find-links", True),
    "constraint": ("--constraint", True),
}
SCOPES = ("global", "install", ":env:")


def read_pip_config(lines: Iterable[str]) -> dict[str, str]:
    """`pip config list` prints `scope.key='value'`; later scopes (install, env) win, as in pip."""
    found: dict[str, tuple[int, str]] = {}
    for line in lines:
        name, sep, raw = line.strip().partition("=")
        if not sep or "." not in name:
            continue
        scope, _, key = name.rpartition(".")
        if scope not in SCOPES:
            continue
        value = raw.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        rank = SCOPES.index(scope)
        if key not in found or rank >= found[key][0]:
            found[key] = (rank, value)
    return {key: value for key, (_, value) in found.items()}


def uv_arguments(config: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """uv's command-line options and environment for pip's settings."""
    args = ["--index-strategy", "unsafe-best-match"]  # pip's rule: the best version of any index
    for key, (option, is_list) in OPTIONS.items():
        value = config.get(key, "").strip()
        for item in value.split() if is_list else ([value] if value else []):
            if key == "find-links" and "://" not in item and not os.path.exists(item):
                continue  # pip skips a missing folder with a warning; uv would stop
            args += [option, item]
    if config.get("no-index", "").lower() in ("1", "true", "yes", "on"):
        args.append("--no-index")
    for host in config.get("trusted-host", "").split():
        args += ["--allow-insecure-host", host]
    env: dict[str, str] = {}
    if config.get("cert"):
        env["SSL_CERT_FILE"] = config["cert"]
    if config.get("proxy"):
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = config["proxy"]
    if config.get("timeout") or config.get("default-timeout"):
        env["UV_HTTP_TIMEOUT"] = config.get("timeout") or config["default-timeout"]
    return args, env


def pip_config(python: str) -> dict[str, str]:
    """pip's settings as the target's pip reads them; an environment without pip (made by
    `uv venv`) is read by the pip of the Python running this helper, which sees the same files
    and variables."""
    for reader in (python, sys.executable):
        listed = subprocess.run([reader, "-m", "pip", "config", "list"], capture_output=True,
                                text=True, check=False)
        if listed.returncode == 0:
            return read_pip_config(listed.stdout.splitlines())
    return {}


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    uv, python, rest = argv[1], argv[2], argv[3:]
    args, env = uv_arguments(pip_config(python))
    command = [uv, "pip", "install", "--python", python, *args, *rest]
    print("   ", shlex.join(command), flush=True)
    return subprocess.call(command, env={**os.environ, **env})


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
