"""A learner who joins gets a project whose starters run on their own machine as in local mode,
offline: `tfexam join` brings the Fashion-MNIST files the starter's unchanged
`tf.keras.datasets.fashion_mnist.load_data()` reads from Keras' cache, and the starter runs.

A real service in classroom mode (`python -m server serve`, SQLite, a broker that is never
reached: nothing is graded here) and the learner's real CLI processes, on a machine of their own:
its own HOME (so its own `~/.keras`, empty at first), no KERAS_HOME, and no way out to the
internet (every proxy points at a closed port, so a download Keras tries fails at once)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from server.datasets.catalogue import entry
from tests.support.live_server import ROOT, LiveServer
from tests.support.timing import spent

pytestmark = pytest.mark.slow

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, so nothing is fetched


def _learner(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "learner-home"
    home.mkdir()
    return {"HOME": str(home), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(home / ".cache"),
            "TF_CPP_MIN_LOG_LEVEL": "2", "USER": "ada",
            **{name: CLOSED for name in ("http_proxy", "https_proxy", "HTTP_PROXY",
                                         "HTTPS_PROXY", "all_proxy", "ALL_PROXY")}}


def _cli(*argv: str, cwd: Path, env: dict[str, str], timeout: float = 180
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plugin_bridge.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not DEBIAN.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_a_joined_learners_fashion_mnist_starter_runs_offline(tmp_path: Path) -> None:
    service = LiveServer(tmp_path / "service-home", env={
        "TFEXAM_BROKER_URL": "redis://127.0.0.1:9/0", "TFEXAM_OFFLINE": "1",
        "KERAS_HOME": str(tmp_path / "service-keras")}).start(timeout=60)
    try:
        sitting = service.post("/api/classroom/sittings", {"exam": "quick"}).json()
        env = _learner(tmp_path)
        folder = tmp_path / "ada-project"
        joined = _cli("join", service.url, sitting["join_code"], "--name", "Ada", "--folder",
                      str(folder), "--no-watch", cwd=tmp_path, env=env)
        assert joined.returncode == 0, joined.stdout + joined.stderr
        assert "4 fetched from the service" in joined.stdout, joined.stdout
        cache = Path(env["HOME"]) / ".keras" / "datasets" / "fashion-mnist"
        for data_file in entry("fashion-mnist").files:  # real files, the official bytes
            placed = cache / data_file.name
            assert placed.is_file() and not placed.is_symlink(), placed
            assert hashlib.sha256(placed.read_bytes()).hexdigest() == data_file.sha256
        # The starter, unchanged, in the learner's environment, as the README tells them to run it.
        with spent("training"):
            ran = _cli("run", "Category2", cwd=folder, env=env, timeout=300)
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]
        assert (folder / "Category2" / "mymodel.h5").is_file()
        # A second look (`tfexam sync`) finds everything in place and fetches nothing.
        again = subprocess.run(
            [sys.executable, "-c", "from plugin_bridge.keras_data import bring_keras_data; "
             "from pathlib import Path; import sys; "
             "sys.exit(0 if bring_keras_data(Path('.'), print, print) else 1)"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0 and "4 already there" in again.stdout, again.stdout
    finally:
        service.stop()
