"""Entry point of a sandboxed child: `python -m server.grading.sandboxed`, started by the launcher.

It confines itself (`confine`), imports TensorFlow, says it is ready, and then either serves
exactly one job itself (a load request, then predict requests, all for one nonce), or, in a
bubblewrap sandbox, forks one child per job (`zygote`). It holds no
labels and computes no score; its replies go over a socket (descriptor `channel_fd`), which graph
code cannot reopen through /proc the way it could a pipe. stdout and stderr are a pipe to a log.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from server.grading import protocol
from server.grading.confinement.confine import ConfineSpec, apply
from server.grading.sandboxed import zygote


def _warm_up() -> None:
    """Build and run a tiny model once, so the first real job pays no lazy imports or tracing."""
    import keras
    import numpy as np

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.predict_on_batch(np.zeros((1, 2), "float32"))


def _serve_one(channel: socket.socket, job_dir: Path) -> None:
    """Serve one job's requests on `channel` until the parent closes it."""
    from server.grading.sandboxed.job import Job

    reader = channel.makefile("rb")
    job = Job(job_dir)
    while True:
        line = reader.readline(protocol.MAX_LINE_BYTES)
        if not line:
            return
        reply = job.handle(line)
        if reply is None:
            return  # a request for another job or a malformed one: this child is done
        channel.sendall(protocol.encode(reply))


def main() -> None:
    spec = ConfineSpec.model_validate_json(os.environ["TFEXAM_CONFINE"])
    confinement = apply(spec)
    channel = socket.socket(fileno=spec.channel_fd)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if hasattr(os, "nice"):
        os.nice(10)  # the API must stay responsive while TensorFlow loads and models are graded
    started = time.perf_counter()
    import keras
    import tensorflow as tf
    import tf_keras

    import server.grading.sandboxed.job  # noqa: F401 - imported once, before any fork

    job_dir = Path(os.environ["TFEXAM_JOB_DIR"])
    # A forking sandbox must be alone in its PID namespace (bubblewrap's) and single-threaded;
    # anything else grades one job in this process, as a sandbox always did.
    forks = spec.fork_jobs and zygote.single_threaded() and not zygote.others()
    if not forks:
        _warm_up()  # a zygote does not: running a model starts TensorFlow's thread pools
    channel.sendall(protocol.encode(protocol.Ready(
        import_seconds=round(time.perf_counter() - started, 3),
        versions={"tensorflow": tf.__version__, "keras": keras.__version__,
                  "tf_keras": tf_keras.__version__},
        confinement=confinement, forks=forks,
    )))
    if forks:
        zygote.serve(channel, lambda job_channel: _serve_one(job_channel, job_dir))
    else:
        _serve_one(channel, job_dir)


if __name__ == "__main__":
    main()
