"""The parent's handle on the worker process: start it, hand it a job, enforce the job's limits.

Limits are enforced from outside (the worker cannot be trusted to stop itself): the parent waits
at most the time limit for the reply and samples the worker's resident memory meanwhile; past
either, the process is killed and the caller restarts it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from server.grading import protocol

READY_TIMEOUT = 300.0
MEMORY_SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class WorkerFailure:
    kind: str  # timeout | memory | crash
    detail: str
    peak_mb: float = 0.0


class WorkerProcess:
    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.info: dict[str, Any] = {}
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1",
               "PYTHONUNBUFFERED": "1"}
        self.replies = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.grading.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        log.close()
        self.starts += 1
        threading.Thread(target=self._read, args=(self.process, self.replies),
                         name="worker-reader", daemon=True).start()

    @staticmethod
    def _read(process: subprocess.Popen[bytes], replies: queue.Queue) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                replies.put(protocol.decode(line))
            except ValueError:
                continue
        replies.put(None)  # end of stream: the process is gone

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        try:
            message = self.replies.get(timeout=timeout)
        except queue.Empty:
            return False
        if message and message.get("ready"):
            self.info = message
            return True
        return False

    def run(self, job: dict[str, Any], time_limit: float, memory_limit_mb: float
            ) -> dict[str, Any] | WorkerFailure:
        assert self.process is not None and self.process.stdin is not None
        try:
            self.process.stdin.write(protocol.encode(job))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return WorkerFailure("crash", "the grader process was not running")
        watched = psutil.Process(self.process.pid)
        deadline = time.monotonic() + time_limit
        peak = 0.0
        while True:
            try:
                reply = self.replies.get(timeout=MEMORY_SAMPLE_SECONDS)
            except queue.Empty:
                reply = ...
            if reply is None:
                code = self.process.wait(timeout=5)
                return WorkerFailure("crash", f"the grader process exited with code {code}",
                                     peak)
            if reply is not ...:
                if reply.get("id") == job["id"]:
                    reply["peak_memory_mb"] = round(peak, 1)
                    return reply
                continue
            try:
                peak = max(peak, watched.memory_info().rss / 2**20)
            except psutil.Error:
                continue
            if peak > memory_limit_mb:
                self.kill()
                return WorkerFailure("memory", f"{peak:.0f} MB used", peak)
            if time.monotonic() > deadline:
                self.kill()
                return WorkerFailure("timeout", f"{time_limit:g} s", peak)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
