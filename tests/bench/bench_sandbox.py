"""Benchmark: save-to-score with the sandbox against tfexam without it, measured in one run.

The same saves (the quick exam's Category1, a one-neuron model; and a Fashion-MNIST-size CNN),
a few seconds apart, go through three real services started one after the other:
- baseline: tfexam as it was before the sandbox (a git ref, checked out into a temporary worktree),
  whose single worker process is reused for every job, unconfined;
- sandbox: this tree: a bubblewrap sandbox whose zygote imported TensorFlow once forks a child
  per job (server/grading/sandboxed/zygote.py);
- fallback: this tree with TFEXAM_SANDBOX=landlock (Landlock and seccomp, no namespaces).
Latency is from the moment a save completes in the project folder to the moment its Result is
stored. Printed: p50 and p95 per service, each p50 as a ratio of the baseline's, where the seconds
of a job go (median per step, from the Result's timings: waiting for a sandbox, copying in,
forking and loading the model, predicting, scoring), the sandbox's one TensorFlow import, and the
resident memory of the service's whole process tree with its ready sandboxes.
`--load N` runs N CPU-bound processes at normal priority beside the saves (a learner training).

    .venv/bin/python tests/bench/bench_sandbox.py [--saves 10] [--gap 3] [--load 2] [--no-cnn]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if not os.environ.get("TFEXAM_DATASETS") and (ROOT.parent / "shared" / "datasets").is_dir():
    os.environ["TFEXAM_DATASETS"] = str(ROOT.parent / "shared" / "datasets")

from tests.support import models  # noqa: E402
from tests.support.live_server import LiveServer  # noqa: E402

BASELINE_REF = "22e6d41"  # main just before the sandbox landed


def line_versions(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"line{i}.h5"
        models.line_model(weight=2.0, bias=-1.0 + 0.001 * i).save(path)
        paths.append(path)
    return paths


def cnn_versions(folder: Path, count: int) -> list[Path]:
    import keras

    paths = []
    for i in range(count):
        keras.utils.set_random_seed(i)
        model = keras.Sequential([
            keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
            keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax")])
        path = folder / f"cnn{i}.h5"
        model.save(path)
        paths.append(path)
    return paths


class TreeServer(LiveServer):
    """A LiveServer that runs the service of another source tree (the baseline)."""

    def __init__(self, tree: Path, home: Path, env: dict[str, str]) -> None:
        super().__init__(home, env={**env, "PYTHONPATH": str(tree)})
        self.tree = tree

    def start(self, wait_worker: bool = False, timeout: float = 30.0) -> LiveServer:
        import tests.support.live_server as live

        saved = live.ROOT
        live.ROOT = self.tree
        try:
            return super().start(wait_worker=wait_worker, timeout=timeout)
        finally:
            live.ROOT = saved


def measure(server: LiveServer, scratch: Path, question: str, versions: list[Path], gap: float
            ) -> list[float]:
    started = server.start_session(scratch / f"ws-{question}-{time.monotonic_ns()}", exam="quick",
                                   minutes=20)
    target = Path(started["project_dir"]) / question / "mymodel.h5"
    db = sqlite3.connect(server.home / "tfexam.sqlite3")
    seen, waits = [], []
    for index, version in enumerate(versions):
        before = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        shutil.copyfile(version, target)  # a save: written and closed in place
        saved = time.time()
        while db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == before:
            time.sleep(0.005)
        stored, status, payload = db.execute(
            "SELECT created_at, status, payload_json FROM results ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        assert status == "graded", f"{question}: {status}"
        if index:  # the first save warms held-out caches, as a session's first save does
            seen.append(stored - saved)
            timings = json.loads(payload).get("timings", {})
            waits.append(timings.get("sandbox_wait", 0.0))
            steps = STEPS.setdefault((server.home, question), {})
            for step in STEP_NAMES:
                steps.setdefault(step, []).append(timings.get(step, 0.0))
        time.sleep(gap)
    db.close()
    WAITS[(server.home, question)] = waits
    return seen


WAITS: dict[tuple[Path, str], list[float]] = {}
STEPS: dict[tuple[Path, str], dict[str, list[float]]] = {}
STEP_NAMES = ("sandbox_wait", "copy_in", "load", "predict_in_sandbox", "evaluate")


def burn() -> None:
    """One core's worth of a learner's training: busy arithmetic until killed."""
    x = 0
    while True:
        x = (x * 31 + 7) % 1000003


def tree_rss_mb(pid: int) -> float:
    import psutil

    try:
        root = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20
    except psutil.Error:
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between saves")
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--no-cnn", action="store_true")
    parser.add_argument("--load", type=int, default=0,
                        help="CPU-bound processes at normal priority beside the saves")
    args = parser.parse_args()
    import multiprocessing

    burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.load)]
    for burner in burners:
        burner.start()
    try:
        run(args)
    finally:
        for burner in burners:
            burner.kill()


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "models").mkdir()
        cases = {"Category1": line_versions(scratch / "models", args.saves + 1)}
        if not args.no_cnn:
            cases["Category2"] = cnn_versions(scratch / "models", args.saves + 1)
        baseline_tree = scratch / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                        str(baseline_tree), args.baseline_ref], check=True)
        env = {"KERAS_HOME": str(scratch / "keras")}
        services = {
            f"baseline ({args.baseline_ref}, no sandbox)": lambda h: TreeServer(baseline_tree, h, env),
            "sandbox (bubblewrap)": lambda h: LiveServer(h, env={**env, "TFEXAM_SANDBOX": "bwrap"}),
            "fallback (Landlock)": lambda h: LiveServer(h, env={**env, "TFEXAM_SANDBOX": "landlock"}),
        }
        results: dict[str, dict[str, list[float]]] = {}
        facts: dict[str, str] = {}
        try:
            for index, (name, make) in enumerate(services.items()):
                server = make(scratch / f"home{index}").start(wait_worker=True, timeout=300)
                try:
                    results[name] = {q: measure(server, scratch, q, v, args.gap)
                                     for q, v in cases.items()}
                    health = server.get("/api/health")
                    assert server.process is not None
                    worker = health.get("worker", {})
                    facts[name] = (f"TensorFlow import in a sandbox {worker.get('import_seconds')} s, "
                                   f"{worker.get('starts')} sandboxes started; service tree "
                                   f"{tree_rss_mb(server.process.pid):.0f} MB resident")
                    print(f"{name}: isolation {health.get('isolation')}", flush=True)
                finally:
                    server.stop()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(baseline_tree)], check=False)
        base_name = next(iter(results))
        print(f"\nsave-to-score, {args.saves} saves {args.gap:g} s apart, {args.load} CPU-bound "
              f"processes beside them; load average {os.getloadavg()[0]:.1f} (seconds)")
        print(f"{'service':<34} {'question':<10} {'p50':>6} {'p95':>6} {'p50 / baseline':>15} "
              f"{'p50 waiting for a sandbox':>26}")
        for index, (name, by_question) in enumerate(results.items()):
            for question, seen in by_question.items():
                p50, p95 = np.percentile(seen, 50), np.percentile(seen, 95)
                base = np.percentile(results[base_name][question], 50)
                waits = WAITS.get((scratch / f"home{index}", question)) or [0.0]
                print(f"{name:<34} {question:<10} {p50:6.2f} {p95:6.2f} {p50 / base:15.2f} "
                      f"{np.percentile(waits, 50):26.2f}")
        print("\nwhere a job's seconds go (median per step)")
        print(f"{'service':<34} {'question':<10} " + " ".join(f"{n:>18}" for n in STEP_NAMES))
        for index, name in enumerate(results):
            for question in results[name]:
                steps = STEPS.get((scratch / f"home{index}", question), {})
                print(f"{name:<34} {question:<10} " + " ".join(
                    f"{np.percentile(steps.get(n) or [0.0], 50):18.3f}" for n in STEP_NAMES))
        print()
        for name, fact in facts.items():
            print(f"{name}: {fact}")
        sandbox_p50 = np.percentile(results["sandbox (bubblewrap)"]["Category1"], 50)
        print(f"\ntarget: sandbox Category1 p50 <= 1 s: {'yes' if sandbox_p50 <= 1.0 else 'NO'}")


if __name__ == "__main__":
    main()
