"""Entry point of a sandboxed child: `python -m server.grading.worker`, started by the launcher.

It confines itself (`confine`), imports TensorFlow and warms Keras up, says it is ready, and then
serves exactly one job: a load request, then predict requests, all for one nonce. It holds no
labels and computes no score; its replies go over a socket (descriptor `channel_fd`), which graph
code cannot reopen through /proc the way it could a pipe. stdout and stderr are a pipe to a log.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from server.grading import protocol
from server.grading.confine import ConfineSpec, apply


def _warm_up() -> None:
    """Build and run a tiny model once, so the first real job pays no lazy imports or tracing."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.predict_on_batch(np.zeros((1, 2), "float32"))


def main() -> None:
    spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
    confinement = apply(spec)
    channel = socket.socket(fileno=spec.channel_fd)
    reader = channel.makefile("rb")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if hasattr(os, "nice"):
        os.nice(10)  # the API must stay responsive while TensorFlow loads and models are graded
    started = time.perf_counter()
    import keras
    import tensorflow as tf
    import tf_keras

    from server.grading.worker.job import Job

    _warm_up()
    channel.sendall(protocol.encode(protocol.Ready(
        import_seconds=round(time.perf_counter() - started, 3),
        versions={"tensorflow": tf.__version__, "keras": keras.__version__,
                  "tf_keras": tf_keras.__version__},
        confinement=confinement,
    )))
    job = Job(Path(os.environ["TFEXAM_JOB_DIR"]))
    while True:
        line = reader.readline(protocol.MAX_LINE_BYTES)
        if not line:
            return
        reply = job.handle(line)
        if reply is None:
            return  # a request for another job or a malformed one: this sandbox is done
        channel.sendall(protocol.encode(reply))


if __name__ == "__main__":
    main()
