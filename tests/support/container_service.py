"""tfexam's service in its real container image (podman, or docker where its engine runs), driven
from the host as a learner's tools drive it: over HTTP on the host's loopback address.

`ContainerService` is a `LiveServer` whose process is a container: its port is published on the
host's loopback address only, it keeps its state on a named volume at /data,
and sees the projects folder bind-mounted at the same path as on the host. `kill9` kills the
container with SIGKILL and removes it, so only the volume carries state into the next start.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.live_server import ROOT, LiveServer
from tests.support.timing import spent

sys.path.insert(0, str(ROOT / "tools"))
import container as container_tool  # noqa: E402  (tools/container.py: the engine and its settings)

UNMASK = ["--security-opt", "unmask=/proc/*"]
CONTAINER_UID = 1000  # the image's user "learner", who must be able to write the projects folder


def engine(*argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One command of the container engine, with this machine's settings."""
    return container_tool.run(list(argv), capture_output=True, check=check, timeout=timeout)


class ContainerService(LiveServer):
    def __init__(self, image: str, volume: str, projects: Path, token: str,
                 run_options: list[str], env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        super().__init__(projects, env={"TFEXAM_TOKEN": token}, port=port)
        self.image = image
        self.volume = volume
        self.projects = projects
        self.run_options = run_options
        self.container_env = env or {}
        self.name: str | None = None
        self.starts = 0

    @property
    def log_text(self) -> str:
        if self.name is None:
            return ""
        done = engine("logs", self.name, check=False)
        return (done.stdout + done.stderr)[-4000:]

    def _launch(self, timeout: float) -> None:
        self.starts += 1
        self.name = f"tfexam-test-{self.port}-{self.starts}"
        # As a learner runs it: the service listens on the container's interfaces, and its port
        # is published on the host's loopback address only (the same number inside and out).
        argv = ["run", "-d", "--name", self.name, "-p", f"127.0.0.1:{self.port}:{self.port}",
                *self.run_options,
                "-v", f"{self.volume}:/data", "-v", f"{self.projects}:{self.projects}",
                "-e", f"TFEXAM_TOKEN={self.token}"]
        for key, value in self.container_env.items():
            argv += ["-e", f"{key}={value}"]
        argv += [self.image, "tfexam", "serve", "--host", "0.0.0.0", "--port", str(self.port),
                 "--no-browser"]
        engine(*argv)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/api/health", headers=self.headers, timeout=2).raise_for_status()
                return
            except httpx.HTTPError:
                pass
            state = engine("inspect", "--format", "{{.State.Running}}", self.name, check=False)
            if state.stdout.strip() == "false":
                raise RuntimeError(f"the container exited: {self.log_text}")
            time.sleep(0.3)
        raise TimeoutError(f"the container's service did not answer in {timeout} s: {self.log_text}")

    def start(self, wait_worker: bool = False, timeout: float = 180.0) -> ContainerService:
        with spent("service-start"):
            self._launch(timeout)
        if wait_worker:
            self.wait_worker(600)
        return self

    def exec(self, *argv: str, timeout: float = 120) -> str:
        """A command inside the running container, as its user; its standard output."""
        assert self.name is not None
        return engine("exec", self.name, *argv, timeout=timeout).stdout

    def zombies(self) -> list[str]:
        """The container's processes that ended and that nobody reaped: 'pid (name)' each."""
        script = ("import os\nfor p in os.listdir('/proc'):\n if p.isdigit():\n  try: s=open(f'/proc/"
                  "{p}/stat').read()\n  except OSError: continue\n  n=s[s.index('(')+1:s.rindex(')')]\n"
                  "  if s[s.rindex(')')+2]=='Z': print(p, n)")
        return self.exec("python3", "-c", script).splitlines()

    def pid_one(self) -> str:
        return self.exec("cat", "/proc/1/comm").strip()

    def kill9(self) -> None:
        """SIGKILL the container (every process in it at once), then remove it: what survives is
        on the volume and in the projects folder only."""
        assert self.name is not None
        engine("kill", "--signal", "KILL", self.name, check=False)
        engine("rm", "-f", self.name, check=False)
        self.name = None

    def stop(self) -> None:
        if self.name is not None:
            engine("rm", "-f", "-t", "5", self.name, check=False, timeout=120)
            self.name = None



@contextmanager
def container_service(image: str, projects: Path, run_options: list[str] | None = None,
                      env: dict[str, str] | None = None) -> Iterator[ContainerService]:
    """A service in the image on a volume of its own (removed afterwards), with `projects` (made
    here, the learner's) bind-mounted at the same path; not started yet."""
    projects.mkdir(parents=True, exist_ok=True)
    os.chown(projects, CONTAINER_UID, CONTAINER_UID)
    volume = f"tfexam-test-{secrets.token_hex(4)}"
    engine("volume", "create", volume)
    service = ContainerService(image, volume, projects, secrets.token_urlsafe(24),
                               UNMASK if run_options is None else run_options, env=env)
    try:
        yield service
    finally:
        service.stop()
        engine("volume", "rm", "-f", volume, check=False)
