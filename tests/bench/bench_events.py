"""CPU of idle live pages, and how fast a new event reaches all of them.

Starts a real service, measures its process's CPU for a window with no stream open (the
baseline, same run), then with N idle event streams open, then times one event to all N.

    python tests/bench/bench_events.py [--streams 200] [--window 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.support.live_server import LiveServer  # noqa: E402


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def main(streams: int, window: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveServer(Path(tmp) / "home").start(wait_worker=True, timeout=300)
        try:
            started = live.start_session(Path(tmp) / "ws", minutes=60)
            session = started["session"]
            service = psutil.Process(live.process.pid)  # the API process only, not the grader
            time.sleep(2.0)

            before = cpu_seconds(service)
            await asyncio.sleep(window)
            baseline = (cpu_seconds(service) - before) / window

            received: list[float] = []
            ready = asyncio.Event()
            opened = 0
            limits = httpx.Limits(max_connections=streams + 10)
            async with httpx.AsyncClient(headers=live.headers, timeout=None, limits=limits) as client:

                async def follow() -> None:
                    nonlocal opened
                    async with client.stream(
                            "GET", f"{live.url}/api/sessions/{session}/events?after=1000000000"
                    ) as response:
                        lines = response.aiter_lines()
                        await lines.__anext__()
                        opened += 1
                        if opened == streams:
                            ready.set()
                        async for line in lines:
                            if line.startswith("event: session.submitted"):
                                received.append(time.monotonic())
                                return

                tasks = [asyncio.create_task(follow()) for _ in range(streams)]
                await asyncio.wait_for(ready.wait(), 120)
                await asyncio.sleep(2.0)
                before = cpu_seconds(service)
                await asyncio.sleep(window)
                idle = (cpu_seconds(service) - before) / window

                sent = time.monotonic()
                await client.post(f"{live.url}/api/sessions/{session}/finish")
                await asyncio.wait_for(asyncio.gather(*tasks), 60)
            spread = max(received) - sent
            extra = max(0.0, idle - baseline)
            print(f"streams={streams} window={window:g}s cores={os.cpu_count()}")
            print(f"service CPU, no streams (baseline): {100 * baseline:.2f} % of a core")
            print(f"service CPU, {streams} idle streams:   {100 * idle:.2f} % of a core")
            print(f"added by the streams: {100 * extra:.2f} % of a core = "
                  f"{100 * extra / streams:.4f} % per idle stream "
                  f"(ratio to baseline {idle / baseline if baseline else float('inf'):.2f})")
            print(f"one event reached all {streams} streams in {spread * 1000:.0f} ms")
        finally:
            live.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()
    os.environ.setdefault("TFEXAM_OFFLINE", "1")
    asyncio.run(main(args.streams, args.window))
