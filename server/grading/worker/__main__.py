"""Entry point of the worker process: `python -m server.grading.worker`.

Protocol on a private copy of stdout (real stdout is pointed at stderr, so a print in a learner's
model or a TensorFlow log line can never corrupt a reply).
"""

from __future__ import annotations

import os
import socket
import sys
import time


def _network_off() -> None:
    """Otter-Grader's rule: grading runs with the network off (loopback only)."""
    original = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else ""
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in (
            "127.0.0.1", "::1", "localhost"):
            raise OSError("the network is off while grading")
        return original(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign]


def main() -> None:
    reply = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if hasattr(os, "nice"):
        # The API must stay responsive while TensorFlow loads and models are graded.
        os.nice(10)
    _network_off()
    from server.grading import protocol

    started = time.perf_counter()
    import keras
    import tensorflow as tf
    import tf_keras

    from server.grading.worker.grade import grade

    reply.write(protocol.encode({
        "ready": True,
        "import_seconds": round(time.perf_counter() - started, 3),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                     "tf_keras": tf_keras.__version__},
    }))
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        job = protocol.decode(line)
        try:
            outcome = grade(job)
        except Exception as error:  # never leave the parent without an answer
            outcome = {"id": job.get("id"), "status": "crash", "score": 0,
                       "metric": job.get("metric", ""),
                       "messages": [f"The grader failed unexpectedly: {type(error).__name__}: "
                                    f"{error}"]}
        reply.write(protocol.encode(outcome))


if __name__ == "__main__":
    main()
