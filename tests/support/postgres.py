"""A real PostgreSQL server for tests: Debian's `postgresql` package, a cluster of its own in a
temporary folder, a loopback port, a socket folder of its own, stopped (and removed) afterwards.

`initdb` refuses to run as root, so as root the cluster belongs to Debian's `postgres` system
user (made by the package), or to a user of our own when that one is missing; the test process
connects over TCP with `trust` authentication on loopback only. `restart()` and `kill9()` let
fault tests take the database away under a running service.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.timing import spent

OWN_USER = "tfexam-pg"


def _binaries() -> Path:
    found = shutil.which("initdb") or shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(Path(p).parts[-3]))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: install Debian's postgresql package "
                           "(.ci/run does) to run the classroom store's tests.")
    return Path(versions[-1]).parent


def _owner() -> pwd.struct_passwd | None:
    """Who runs the server: nobody else when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", OWN_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    # Several test processes may get here at once: "already exists" (9) is fine.
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    OWN_USER], check=False, capture_output=True)
    return pwd.getpwnam(OWN_USER)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.bin = _binaries()
        self.owner = _owner()
        self.root = Path(tempfile.mkdtemp(prefix="tfexam-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.sockets.mkdir()
        if self.owner:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
            os.chown(self.sockets, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.owner:
            command = ["setpriv", f"--reuid={self.owner.pw_uid}", f"--regid={self.owner.pw_gid}",
                       "--clear-groups", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.root, env={**os.environ, "LC_ALL": "C.UTF-8"})
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr or done.stdout}"
                               f"\n{self.log.read_text() if self.log.exists() else ''}")
        return done

    def start(self) -> PostgresServer:
        with spent("backing-start"):
            if not self.data.exists():
                self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                          "-E", "UTF8", "--no-sync")
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                      "-o", f"-h 127.0.0.1 -p {self.port} -k {self.sockets}", "start")
        return self

    @property
    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        """A clean restart: every connection is cut, as a database upgrade or a failover would."""
        self.stop()
        self.start()

    def kill9(self) -> None:
        """The server killed outright; it recovers from its write-ahead log at the next start."""
        pid = self.pid
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        # Its children (backends) end when they see the postmaster gone.
        time.sleep(0.5)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
