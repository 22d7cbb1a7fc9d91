"""Real parts of a classroom for tests: a broker (Debian's `redis-server` here, or RabbitMQ from
tests/support/rabbitmq.py), grading workers (`python -m server worker`, real Celery processes),
and a service in classroom mode on a real PostgreSQL (tests/support/postgres.py). Each started on
loopback in a temporary folder, stopped after.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Protocol

import psutil

from tests.support.live_server import ROOT, LiveServer, free_port
from tests.support.postgres import PostgresServer
from tests.support.timing import spent


class Broker(Protocol):
    """What the tests do with a broker, Redis or RabbitMQ alike."""

    url: str

    def start(self) -> object: ...

    def kill9(self) -> None: ...

    def reset(self) -> None: ...


def _end(process: subprocess.Popen) -> None:
    """Ask a process to end, and make it end if it will not within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

class RedisServer:
    """Persistent as a broker must be: every write goes to its append-only file before the reply,
    so a restart loses nothing that was queued."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: install Debian's redis-server "
                               "package (.ci/run does) to run the classroom tests.")
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="tfexam-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        with spent("backing-start"):
            log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - handed to the child
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                 str(self.root), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                 "--protected-mode", "yes", "--daemonize", "no"],
                stdout=log, stderr=log, start_new_session=True)
            log.close()
            import redis

            deadline = time.monotonic() + 30
            while True:
                try:
                    redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping()
                    return self
                except redis.RedisError as error:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        raise RuntimeError("redis-server did not start: " + (
                            self.root / "redis.log").read_text()[-2000:]) from error
                    time.sleep(0.05)

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def reset(self) -> None:
        """Delete what earlier tests left (queued or unacknowledged jobs): a test's workers must
        not take another test's jobs, whose submission ids mean other rows."""
        import redis

        redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5).flushdb()

    def stop(self) -> None:
        if self.process:
            _end(self.process)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Worker:
    """`python -m server worker`: a Celery main process and its pool process(es)."""

    def __init__(self, home: Path, env: dict[str, str], name: str, concurrency: int = 1) -> None:
        self.home = home
        self.env = env
        self.name = name
        self.concurrency = concurrency
        self.log_path = home / f"worker-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server", "worker", "--home", str(self.home), "--name",
             self.name, "--concurrency", str(self.concurrency)],
            cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        return self

    def pool_processes(self) -> list[psutil.Process]:
        """The pool processes that run jobs (the main process's Python children; their own
        children are the sandboxes)."""
        assert self.process is not None
        main = psutil.Process(self.process.pid)
        return [c for c in main.children() if "python" in c.name().lower()
                or "celery" in " ".join(c.cmdline())]

    def wait_ready(self, timeout: float = 180) -> None:
        """Until a pool process's sandbox is warm (the log says so)."""
        with spent("sandbox-warm"):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
                if "sandbox warm" in text:
                    return
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"worker exited: {text[-3000:]}")
                time.sleep(0.2)
            raise TimeoutError(f"worker not ready in {timeout}s")

    def kill9(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


class Agent:
    """A learner's agent: `tfexam join` (a real process, the CLI's own) with its own folder."""

    def __init__(self, url: str, code: str, name: str, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.name = name
        self.log_path = folder.parent / f"agent-{name}.log"
        folder.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "plugin_bridge.cli", "join", url, code, "--name", name,
             "--folder", str(folder)], cwd=folder.parent, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def wait_joined(self, timeout: float = 120) -> dict[str, object]:
        import json

        marker = self.folder / ".tfexam" / "session.json"
        with spent("polling"):
            deadline = time.monotonic() + timeout
            while not marker.is_file():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"agent {self.name} did not join: "
                                       + self.log_path.read_text(errors="replace")[-2000:])
                time.sleep(0.1)
            return dict(json.loads(marker.read_text()))

    def stop(self) -> None:
        _end(self.process)


def learner_env(env: dict[str, str]) -> dict[str, str]:
    """A learner's machine knows nothing of the service's database, broker or token."""
    clean = {k: v for k, v in env.items()
             if not k.startswith(("TFEXAM_DATABASE", "TFEXAM_BROKER", "TFEXAM_TOKEN"))}
    clean["PYTHONPATH"] = str(ROOT)
    return clean


class Classroom:
    """PostgreSQL, a broker, the service in classroom mode, and its workers, sharing one home."""

    def __init__(self, root: Path, postgres: PostgresServer, broker: Broker,
                 env: dict[str, str] | None = None) -> None:
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.postgres = postgres
        self.broker = broker
        broker.reset()
        self.database_url = postgres.create_database()
        self.env = {**os.environ, "TFEXAM_DATABASE_URL": self.database_url,
                    "TFEXAM_BROKER_URL": broker.url, "TFEXAM_SETTLE_SECONDS": "0.5",
                    **(env or {})}
        self.service = LiveServer(self.home, env=self.env)
        self.workers: list[Worker] = []

    def start(self, workers: int = 1) -> Classroom:
        self.service.start(timeout=60)
        for number in range(workers):
            self.add_worker(f"w{number}")
        return self

    def add_worker(self, name: str) -> Worker:
        worker = Worker(self.home, self.env, name).start()
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.service.stop()
