"""Benchmark: how soon the service answers after it is started, against TensorFlow's import time.

The API process never imports TensorFlow, so it should answer long before an import of
TensorFlow alone would finish. Prints the figures and their ratio, measured in the same run.

    .venv/bin/python tests/bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.live_server import free_port  # noqa: E402


def time_to_first_answer() -> float:
    port = free_port()
    with tempfile.TemporaryDirectory() as home:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port), "--home", home,
             "--no-browser", "--no-token", "--log-level", "warning"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/exams", timeout=0.5).status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    time.sleep(0.01)
        finally:
            process.terminate()
            process.wait(timeout=20)


def time_command(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    service = [time_to_first_answer() for _ in range(runs)]
    bare = [time_command("pass") for _ in range(runs)]
    tensorflow = [time_command("import tensorflow") for _ in range(max(2, runs // 2))]
    s, b, t = (statistics.median(v) for v in (service, bare, tensorflow))
    print(f"service start -> first answer of GET /api/exams: median {s:.2f} s "
          f"(min {min(service):.2f}, max {max(service):.2f}; {runs} runs); target <= 2 s")
    print(f"baseline: bare Python start {b:.2f} s; 'import tensorflow' alone {t:.2f} s")
    print(f"ratio service / import-tensorflow = {s / t:.2f}; service / bare Python = {s / b:.1f}")


if __name__ == "__main__":
    main()
