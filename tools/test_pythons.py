"""The non-TensorFlow tests, and a start of the service, on other Pythons (`make test-pythons`).

pyproject.toml promises Python 3.10 and later, and the suite runs on one interpreter; this runs
the tests that need neither TensorFlow nor a browser (`-m light`, see tests/conftest.py) and
starts `python -m server serve` until `/api/health` answers, on each Python named, each in a
light environment of its own (`.venv-py3.10/`...: requirements/light.txt, about a tenth of the
full one, kept between runs while the lock is unchanged). A Python that is not on this machine
is an error that names it, never a skip.

Usage: python tools/test_pythons.py UV VERSION [VERSION...]
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIGHT_LOCK = ROOT / "requirements" / "light.txt"
HEALTH_WAIT_SECONDS = 120.0


def find_python(version: str) -> str:
    """pyenv's interpreter of that version, else `pythonX.Y` on PATH."""
    pyenv = shutil.which("pyenv")
    if pyenv:
        prefix = subprocess.run([pyenv, "prefix", version], capture_output=True, text=True,
                                check=False).stdout.strip()
        candidate = Path(prefix) / "bin" / f"python{version}"
        if prefix and candidate.is_file():
            return str(candidate)
    found = shutil.which(f"python{version}")
    if found:
        return found
    # pyenv's versions folder, where pyenv itself is not on PATH (a non-login shell in CI).
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}")):
        return str(candidate)
    raise SystemExit(f"test-pythons: Python {version} is not on this machine: install it "
                     f"(pyenv install {version}, or the system's python{version}), or choose "
                     "others with make test-pythons PYTHONS=\"3.X ...\".")


def light_environment(uv: str, version: str, python: str) -> Path:
    """`.venv-pyX.Y/` with the light lock installed; rebuilt only when the lock changed."""
    venv = ROOT / f".venv-py{version}"
    stamp = venv / ".light-stamp"
    digest = hashlib.sha256(LIGHT_LOCK.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return venv
    subprocess.run([uv, "venv", "--quiet", "--clear", "--python", python, str(venv)], check=True)
    subprocess.run([sys.executable, str(ROOT / "tools" / "uv_install.py"), uv,
                    str(venv / "bin" / "python"), "--quiet", "--only-binary", ":all:", "--no-deps",
                    "-r", str(LIGHT_LOCK)], check=True)
    stamp.write_text(digest)
    return venv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_starts(python: Path, env: dict[str, str]) -> str | None:
    """None when `serve` answered /api/health, else why not (with the end of its output)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        log = Path(home) / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(python), "-m", "server", "serve", "--port", str(port), "--home", home,
                 "--no-browser", "--no-token"], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + HEALTH_WAIT_SECONDS
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5):
                        return None
                except OSError:
                    time.sleep(0.5)
            return (f"exited with {process.returncode}" if process.poll() is not None
                    else f"no answer in {HEALTH_WAIT_SECONDS:.0f} s") + ":\n" + \
                log.read_text(errors="replace")[-3000:]
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    uv, versions = argv[1], argv[2:]
    failed = []
    for version in versions:
        python = find_python(version)
        print(f"==> Python {version} ({python}): light environment, the non-TensorFlow tests, "
              "a start of the service", flush=True)
        venv = light_environment(uv, version, python)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        env["PYTHONPATH"] = str(ROOT)
        tests = subprocess.call([str(venv / "bin" / "python"), "-m", "pytest", "-m", "light",
                                 "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
                                cwd=ROOT, env=env)
        if tests != 0:
            failed.append(f"Python {version}: the light tests failed (exit {tests})")
        why = service_starts(venv / "bin" / "python", env)
        if why:
            failed.append(f"Python {version}: the service did not start ({why})")
        else:
            print(f"    the service started and answered /api/health on Python {version}")
    for line in failed:
        print(f"test-pythons: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
