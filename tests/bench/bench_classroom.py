"""Benchmark: classroom save-to-score against the local mode's, measured in one run.

Real parts throughout: PostgreSQL and Redis (Debian's, started in temporary folders), the service
in classroom mode, `tfexam worker` processes, and N learners' agents (`tfexam join`, real
processes) that each save M models into their own folders, a few seconds apart. Run once with one
worker and once with two. The baseline is the local mode (SQLite, grading in the service's own
sandbox) in the same run, with the same model files saved one after another.

Save-to-score is from the moment a save is written and closed in the learner's folder to the
moment its Result is stored (both on this machine's clock). For classroom mode it includes the
agent's settle time (a file must stay unchanged for 1 s before it is sent), the upload, the
service's own settle (0.5 s, as the local baseline's), publishing, the queue and grading. Queue
wait is from publishing to a worker's claim. Printed: p50 and p95 of save-to-score, each p50 and
p95 as a ratio of the local p50; gradings per minute; the median and p95 queue wait.

    .venv/bin/python tests/bench/bench_classroom.py [--learners 10] [--saves 3] [--gap 4]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if not os.environ.get("TFEXAM_DATASETS") and (ROOT.parent / "shared" / "datasets").is_dir():
    os.environ["TFEXAM_DATASETS"] = str(ROOT.parent / "shared" / "datasets")

import sqlalchemy as sa  # noqa: E402

from tests.support import models  # noqa: E402
from tests.support.classroom import Agent, Classroom, RedisServer, learner_env  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402


def versions(folder: Path, count: int) -> list[Path]:
    """Distinct well-trained line models (a different content for every save)."""
    paths = []
    for i in range(count):
        path = folder / f"line{i}.h5"
        models.line_model(weight=2.0, bias=-1.0 + 0.0005 * i).save(path)
        paths.append(path)
    return paths


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def local_baseline(scratch: Path, files: list[Path]) -> list[float]:
    server = LiveServer(scratch / "local-home").start(wait_worker=True, timeout=300)
    try:
        started = server.start_session(scratch / "local-ws", minutes=30)
        target = Path(started["project_dir"]) / "Q1" / "mymodel.h5"
        db = sqlite3.connect(server.home / "tfexam.sqlite3")
        seen = []
        for index, version in enumerate(files):
            before = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            shutil.copyfile(version, target)
            saved = time.time()
            while db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == before:
                time.sleep(0.01)
            stored = db.execute("SELECT MAX(created_at) FROM results").fetchone()[0]
            if index:  # the first save warms held-out caches, as a session's first save does
                seen.append(stored - saved)
            time.sleep(1.0)
        db.close()
        return seen
    finally:
        server.stop()


def classroom_run(scratch: Path, postgres: PostgresServer, redis_server: RedisServer,
                  workers: int, learners: int, files: list[Path], gap: float) -> dict[str, float]:
    room = Classroom(scratch / f"room{workers}", postgres, redis_server)
    room.start(workers=workers)
    agents: list[Agent] = []
    try:
        for worker in room.workers:
            worker.wait_ready(300)
        service = room.service
        sitting = service.post("/api/classroom/sittings", {"exam": "smoke", "minutes": 60}).json()
        env = learner_env(room.env)
        agents = [Agent(service.url, sitting["join_code"], f"l{n:03d}",
                        scratch / f"room{workers}-agents" / f"l{n:03d}", env)
                  for n in range(learners)]
        sessions = {agent.name: str(agent.wait_joined()["session"]) for agent in agents}
        saved_at: dict[tuple[str, str], float] = {}
        digests = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
        stagger = gap / max(1, learners)
        for round_number, version in enumerate(files):
            for agent in agents:
                shutil.copyfile(version, agent.folder / "Q1" / "mymodel.h5")
                saved_at[(sessions[agent.name], digests[round_number])] = time.time()
                time.sleep(stagger)
        expected = len(saved_at)
        engine = sa.create_engine(room.database_url)
        deadline = time.monotonic() + 900
        rows: list = []
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = conn.execute(sa.text(
                    "SELECT s.session_id, s.sha256, s.state, s.published_at, "
                    "s.grading_started_at, r.created_at FROM submissions s LEFT JOIN results r "
                    "ON r.submission_id = s.id")).fetchall()
            open_ones = [r for r in rows if r.state in ("queued", "grading")]
            if len(rows) >= expected and not open_ones:  # every save arrived and was settled
                break
            time.sleep(0.5)
        engine.dispose()
        graded = [r for r in rows if r.created_at is not None]
        latencies = [r.created_at - saved_at[(r.session_id, r.sha256)] for r in graded
                     if (r.session_id, r.sha256) in saved_at]
        waits = [r.grading_started_at - r.published_at for r in graded
                 if r.grading_started_at and r.published_at]
        first_save = min(saved_at.values())
        last_result = max(r.created_at for r in graded)
        return {"saves": expected, "graded": len(graded),
                "superseded": sum(1 for r in rows if r.state == "superseded"),
                "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
                "per_minute": 60.0 * len(graded) / (last_result - first_save),
                "wait_p50": percentile(waits, 0.5), "wait_p95": percentile(waits, 0.95)}
    finally:
        for agent in agents:
            agent.stop()
        room.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10)
    parser.add_argument("--saves", type=int, default=3, help="saves per learner")
    parser.add_argument("--gap", type=float, default=4.0,
                        help="seconds between one learner's saves")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="tfexam-bench-classroom-"))
    postgres = PostgresServer().start()
    redis_server = RedisServer().start()
    try:
        files = versions(scratch, max(args.saves, 6))
        local = local_baseline(scratch, files[:6])
        local_p50 = statistics.median(local)
        print(f"local mode (SQLite, in-service sandbox): save→score p50 {local_p50:.2f} s, "
              f"p95 {percentile(local, 0.95):.2f} s over {len(local)} saves")
        for workers in (1, 2):
            run = classroom_run(scratch, postgres, redis_server, workers, args.learners,
                                files[:args.saves], args.gap)
            print(f"classroom, {workers} worker(s), {args.learners} learners × {args.saves} "
                  f"saves: graded {run['graded']} of {run['saves']} "
                  f"({run['superseded']} superseded by a newer save first)")
            print(f"  save→score p50 {run['p50']:.2f} s ({run['p50'] / local_p50:.1f}× local "
                  f"p50), p95 {run['p95']:.2f} s ({run['p95'] / local_p50:.1f}× local p50)")
            print(f"  gradings per minute {run['per_minute']:.1f}; queue wait p50 "
                  f"{run['wait_p50']:.2f} s, p95 {run['wait_p95']:.2f} s "
                  f"(p50 {run['wait_p50'] / local_p50:.1f}× local save→score p50)")
    finally:
        redis_server.close()
        postgres.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
