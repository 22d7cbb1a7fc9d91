"""Benchmark: save-to-Result latency of the grading pipeline, against the unavoidable work.

For a Fashion-MNIST-size CNN (32/64 filters; 10,000 test images) and a small time-series model
(sunspots, window 30), in one run:
- latency: from the moment a model file's save completes in the project folder to the moment its
  Result is stored (p50, p95), through a real service, watcher and warm worker;
- floor: load the same file and predict on the same held-out data in an already warm process;
- cold baseline: a fresh Python process that imports TensorFlow, loads the file and evaluates it.
Targets: p50 <= floor + 0.5 s, and p50 <= 0.3 x cold.

    .venv/bin/python tests/bench/bench_grading.py [--saves 10] [--cold-runs 3]

Needs the Fashion-MNIST files (Debian's dataset-fashion-mnist) and the sunspots series (a mirror in
TFEXAM_DATASETS, e.g. ../shared/datasets).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
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

from tests.support.live_server import LiveServer  # noqa: E402

MANIFEST = """
id = "bench"
title = "Grading benchmark"
duration_minutes = 60
pass_mark = 0.9

[[questions]]
id = "Fashion"
title = "Fashion-MNIST CNN"
weight = 1
[[questions.variants]]
id = "fashion"
title = "Fashion-MNIST"
starter = "starter.py"
question = "question.md"
data = "fashion_mnist"
task = "classification"
input_shape = [28, 28]
output_shape = [10]
final_activation = "softmax"
metric = "accuracy"
[questions.variants.scoring]
thresholds = [0.5, 0.6, 0.7, 0.8, 0.9]

[[questions]]
id = "Series"
title = "Sunspots"
weight = 1
[[questions.variants]]
id = "sunspots"
title = "Sunspots"
starter = "starter.py"
question = "question.md"
data = "series"
task = "series"
input_shape = [30, 1]
output_shape = [1]
metric = "mae"
[questions.variants.scoring]
kind = "exam_mae_formula"
[questions.variants.params]
dataset = "sunspots"
split_time = 3000
window = 30
"""

COLD = """
import sys, time, numpy as np
import keras
model = keras.models.load_model(sys.argv[1], compile=False)
data = np.load(sys.argv[2])
if "series" in data.files:
    s, split, w = data["series"], int(data["split_time"]), int(data["window"])
    x = np.stack([s[i:i + w] for i in range(split - w, len(s) - w)])[..., None]
else:
    x = data["x"]
model.predict(x, batch_size=256, verbose=0)
"""


def cnn(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def series_model(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((30, 1)), keras.layers.Conv1D(32, 5, padding="causal", activation="relu"),
        keras.layers.LSTM(32), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1),
    ])


def series_windows(data: dict[str, np.ndarray]) -> np.ndarray:
    s, split, w = data["series"], int(data["split_time"]), int(data["window"])
    return np.stack([s[i:i + w] for i in range(split - w, len(s) - w)])[..., None]


def floor_seconds(path: Path, heldout: Path, runs: int = 5) -> float:
    """Load + predict in this already warm process (one warm-up run first)."""
    import keras

    with np.load(heldout) as archive:
        data = {k: archive[k] for k in archive.files}
    x = series_windows(data) if "series" in data else data["x"]
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        model = keras.models.load_model(path, compile=False)
        model.predict(x, batch_size=256, verbose=0)
        if i:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def cold_seconds(path: Path, heldout: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD, str(path), str(heldout)], check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def latency(server: LiveServer, session: str, question: str, target: Path, versions: list[Path]
            ) -> list[float]:
    db = sqlite3.connect(server.home / "tfexam.sqlite3")
    seen: list[float] = []
    for version in versions:
        before = db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        shutil.copyfile(version, target)  # a save: the file is written and closed in place
        saved = time.time()
        while db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == before:
            time.sleep(0.01)
        stored, status = db.execute(
            "SELECT created_at, status FROM results ORDER BY created_at DESC LIMIT 1").fetchone()
        assert status == "graded", f"{question}: {status}"
        seen.append(stored - saved)
        time.sleep(0.3)
    db.close()
    return seen


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        exams = scratch / "exams" / "bench"
        exams.mkdir(parents=True)
        (exams / "manifest.toml").write_text(MANIFEST)
        (exams / "starter.py").write_text("def solution_model():\n    pass\n")
        (exams / "question.md").write_text("benchmark\n")
        builders = {"Fashion": cnn, "Series": series_model}
        versions = {q: [] for q in builders}
        for question, build in builders.items():
            for i in range(args.saves + 1):
                path = scratch / "models" / question / f"v{i}.h5"
                path.parent.mkdir(parents=True, exist_ok=True)
                build(i).save(path)
                versions[question].append(path)

        server = LiveServer(scratch / "home", env={
            "TFEXAM_EXAMS": str(scratch / "exams"), "KERAS_HOME": str(scratch / "keras"),
            "TFEXAM_SETTLE_SECONDS": "1.0"}).start(wait_worker=True, timeout=300)
        try:
            started = server.start_session(scratch / "ws", exam="bench", minutes=60)
            session, project = started["session"], Path(started["project_dir"])
            heldout = server.home / "sessions" / session / "heldout"
            print(f"{'model':<8} {'p50':>6} {'p95':>6} {'floor':>6} {'cold':>6} "
                  f"{'p50-floor':>9} {'p50/cold':>8}  targets (<= floor+0.5, <= 0.3 x cold)")
            for question in builders:
                # The first save is not measured: it warms the worker's held-out data cache, as
                # the first save of a real session does for every later one.
                target = project / question / "mymodel.h5"
                latency(server, session, question, target, versions[question][:1])
                seen = latency(server, session, question, target, versions[question][1:])
                npz = heldout / f"{question}.npz"
                floor = floor_seconds(versions[question][0], npz)
                cold = cold_seconds(versions[question][0], npz, args.cold_runs)
                p50, p95 = percentile(seen, 50), percentile(seen, 95)
                ok = "yes" if p50 <= floor + 0.5 and p50 <= 0.3 * cold else "NO"
                print(f"{question:<8} {p50:6.2f} {p95:6.2f} {floor:6.2f} {cold:6.2f} "
                      f"{p50 - floor:9.2f} {p50 / cold:8.2f}  {ok}")
            print(f"({args.saves} saves per model; seconds; cold = median of {args.cold_runs})")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
