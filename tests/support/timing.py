"""Where the suite's time goes, printed at the end of every run: the total against its budget, the
time spent per folder, and the time spent per kind of wait (training, service start-ups, sandbox
warm-ups, polling waits, browser start-ups).

Per-folder figures come from the test reports, which pytest-xdist forwards to the controller.
Per-kind figures are measured where the waiting happens (`spent("training")` around a training
run, and so on); each worker sends its totals to the controller when it ends, through xdist's
`workeroutput`. The kinds overlap the folders, not each other; what is not in any kind is the
tests' own work (and TensorFlow imports in the test process).

The budget is what the suite may take on a quiet 2-core machine; a run over it says so in its last
line, so a slowdown shows up in the run that caused it rather than when CI's limit is hit.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

BUDGET_SECONDS = float(os.environ.get("TFEXAM_TEST_BUDGET_SECONDS", 13 * 60))
KINDS = {
    "training": "TensorFlow training (learner scripts, references)",
    "service-start": "service start-ups (until /api/health answers)",
    "sandbox-warm": "grading sandbox warm-ups waited for (TensorFlow import)",
    "grading": "grading calls outside a service (load, predict, score)",
    "polling": "polling waits for a service's state",
    "browser-start": "browser start-ups (Chromium, code-server)",
    "backing-start": "PostgreSQL and broker start-ups (classroom mode)",
}

_kinds: dict[str, float] = defaultdict(float)
_lock = threading.Lock()


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (all cores, every process): the
    suite's children, services and sandboxes included, which no per-process figure counts."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def spent(kind: str) -> Iterator[None]:
    """Count the time of the block under `kind` (one of KINDS)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        with _lock:
            _kinds[kind] += time.perf_counter() - started


def folder_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else path


class SuiteTiming:
    """The plugin: registered by tests/conftest.py in the controller and in every worker."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.perf_counter()
        self.cpu_started = machine_cpu_seconds()
        self.folders: dict[str, float] = defaultdict(float)
        self.tests: dict[str, float] = defaultdict(float)
        self.kinds: dict[str, float] = defaultdict(float)
        self.workers = 0

    # every process ------------------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Runs in the controller for every worker's report (and in a run without workers)."""
        if hasattr(self.config, "workerinput"):
            return
        self.folders[folder_of(report.nodeid)] += report.duration
        self.tests[report.nodeid] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        with _lock:
            mine = dict(_kinds)
        if hasattr(self.config, "workerinput"):
            self.config.workeroutput["timing_kinds"] = json.dumps(mine)  # type: ignore[attr-defined]
        else:
            self._add_kinds(mine)

    # controller only ----------------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.workers += 1
        self._add_kinds(json.loads(getattr(node, "workeroutput", {}).get("timing_kinds", "{}")))

    def _add_kinds(self, kinds: dict[str, float]) -> None:
        for kind, seconds in kinds.items():
            self.kinds[kind] += seconds

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if hasattr(self.config, "workerinput"):
            return
        write = terminalreporter.write_line
        wall = time.perf_counter() - self.started
        busy = sum(self.tests.values())
        terminalreporter.section("where the time went")
        write(f"{'folder':<32} {'tests':>6} {'seconds':>9}")
        counts: dict[str, int] = defaultdict(int)
        for nodeid in self.tests:
            counts[folder_of(nodeid)] += 1
        for folder, seconds in sorted(self.folders.items(), key=lambda kv: -kv[1]):
            write(f"{folder:<32} {counts[folder]:>6} {seconds:>9.1f}")
        write(f"{'all tests (summed over workers)':<32} {len(self.tests):>6} {busy:>9.1f}")
        write("")
        write(f"{'kind of wait (summed over workers)':<58} {'seconds':>9}")
        for kind, label in KINDS.items():
            write(f"{label:<58} {self.kinds.get(kind, 0.0):>9.1f}")
        write("")
        cpu = machine_cpu_seconds() - self.cpu_started
        cores = os.cpu_count() or 1
        write(f"machine CPU busy during the run: {cpu:.0f} s, {cpu / max(wall, 1):.2f} of {cores} "
              f"cores on average (everything on the machine, not only the suite)")
        workers = f" on {self.workers} workers" if self.workers else ""
        verdict = "within" if wall <= BUDGET_SECONDS else "OVER"
        write(f"suite total: {wall / 60:.1f} min ({wall:.0f} s){workers}, {verdict} the budget of "
              f"{BUDGET_SECONDS / 60:.0f} min (TFEXAM_TEST_BUDGET_SECONDS); load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
