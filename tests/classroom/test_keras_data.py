"""A joined learner's Keras-cache data: the service lists and serves only the files of the
learner's own questions, with their SHA-256, and the learner's side puts them into the learner's
Keras cache: verified, resumable, never over a good file, each failure one sentence.

The application runs on a real uvicorn in this process (SQLite, a broker that is never reached:
nothing here is graded); the learner's side is plugin_bridge's own client over real sockets. The
data is Debian's Fashion-MNIST (dataset-fashion-mnist), as the rest of the suite's."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from plugin_bridge.client import Client
from plugin_bridge.keras_data import KEPT_SUFFIX, PART_SUFFIX, fetch_keras_data, keras_cache_home
from server.classroom.keras_data import KerasData
from server.config import Settings
from server.datasets.catalogue import entry
from server.store.records import QuestionRecord
from tests.support.in_process_service import InProcessService
from tests.support.live_server import free_port

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
INSTRUCTOR = "instructor-token-for-the-data-tests"
TRAIN = "datasets/fashion-mnist/train-images-idx3-ubyte.gz"
OFFICIAL = {f"datasets/fashion-mnist/{f.name}": f.sha256 for f in entry("fashion-mnist").files}

pytestmark = pytest.mark.skipif(not DEBIAN.is_dir(), reason="needs Debian's dataset-fashion-mnist")


class DataService(InProcessService):
    """The classroom application (SQLite, a broker never reached), joined as a learner."""

    def join(self, exam: str) -> dict[str, str]:
        sitting = httpx.post(f"{self.url}/api/classroom/sittings", json={"exam": exam},
                             headers={"authorization": f"Bearer {INSTRUCTOR}"}, timeout=30)
        assert sitting.status_code == 201, sitting.text
        joined = httpx.post(f"{self.url}/api/classroom/join", timeout=60,
                            json={"code": sitting.json()["join_code"], "name": "Ada"})
        assert joined.status_code == 201, joined.text
        return dict(joined.json())

    def learner(self, joined: dict[str, str]) -> Client:
        return Client(self.url, joined["token"], session=joined["session"])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[DataService]:
    settings = Settings.from_env(home=tmp_path / "home", start_worker=False, token=INSTRUCTOR,
                                 broker_url="redis://127.0.0.1:9/0", port=0,
                                 keras_home=tmp_path / "service-keras")
    running = DataService(settings).start()
    yield running
    running.stop()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_learner_is_offered_only_their_own_questions_files(service: DataService) -> None:
    quick = service.join("quick")  # Category2 is Fashion-MNIST
    mine = {"authorization": f"Bearer {quick['token']}"}
    listing = httpx.get(f"{service.url}/api/classroom/me/keras-data", headers=mine).json()
    assert listing["missing"] == []
    assert {f["path"]: f["sha256"] for f in listing["files"]} == OFFICIAL  # Debian's = official
    served = httpx.get(f"{service.url}/api/classroom/me/keras-data/{TRAIN}", headers=mine)
    assert served.status_code == 200 and served.content == (DEBIAN / Path(TRAIN).name).read_bytes()
    assert served.headers["x-content-sha256"] == OFFICIAL[TRAIN]
    rest = httpx.get(f"{service.url}/api/classroom/me/keras-data/{TRAIN}",
                     headers={**mine, "range": "bytes=1000-"})
    assert rest.status_code == 206 and rest.content == served.content[1000:]
    # Nothing else: another data set, a path out of the cache, another learner, the instructor.
    for path in ("datasets/mnist.npz", "datasets/fashion-mnist/../../../home/token", "token"):
        refused = httpx.get(f"{service.url}/api/classroom/me/keras-data/{path}", headers=mine)
        assert refused.status_code == 404, (path, refused.text)
    smoke = service.join("smoke")  # generated data only: nothing to fetch
    assert httpx.get(f"{service.url}/api/classroom/me/keras-data",
                     headers={"authorization": f"Bearer {smoke['token']}"}).json()["files"] == []
    assert httpx.get(f"{service.url}/api/classroom/me/keras-data").status_code == 401
    instructor = httpx.get(f"{service.url}/api/classroom/me/keras-data",
                           headers={"authorization": f"Bearer {INSTRUCTOR}"})
    assert instructor.status_code == 403 and "learner" in instructor.json()["detail"]


def test_fetched_files_are_verified_and_a_good_file_is_never_touched(
        service: DataService, tmp_path: Path) -> None:
    learner = service.learner(service.join("quick"))
    home = tmp_path / "learner-keras"
    first = fetch_keras_data(learner, "2", home)
    assert first.problems == [] and sorted(first.placed) == sorted(OFFICIAL)
    assert first.received == sum(p.stat().st_size for p in DEBIAN.iterdir()
                                  if f"datasets/fashion-mnist/{p.name}" in OFFICIAL)
    for path, sha256 in OFFICIAL.items():
        assert _sha256(home / path) == sha256 and not (home / path).is_symlink()
    before = {path: os.stat(home / path) for path in OFFICIAL}
    again = fetch_keras_data(learner, "2", home)
    assert again.problems == [] and again.placed == [] and sorted(again.present) == sorted(OFFICIAL)
    assert again.received == 0
    for path, stat in before.items():
        now = os.stat(home / path)
        assert (now.st_ino, now.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns), path
    assert "4 already there" in (again.summary() or "")


def test_an_interrupted_fetch_goes_on_where_it_stopped(service: DataService,
                                                       tmp_path: Path) -> None:
    learner = service.learner(service.join("quick"))
    home = tmp_path / "learner-keras"
    whole = (DEBIAN / Path(TRAIN).name).read_bytes()
    part = home / (TRAIN + PART_SUFFIX)
    part.parent.mkdir(parents=True)
    part.write_bytes(whole[: len(whole) // 3])  # what arrived before the line dropped
    outcome = fetch_keras_data(learner, "2", home)
    assert outcome.problems == []
    assert (home / TRAIN).read_bytes() == whole and not part.exists()
    others = sum((DEBIAN / Path(p).name).stat().st_size for p in OFFICIAL if p != TRAIN)
    assert outcome.received == len(whole) - len(whole) // 3 + others  # only the rest came


def test_a_damaged_arrival_is_refused_in_one_sentence_and_fetched_next_time(
        service: DataService, tmp_path: Path) -> None:
    learner = service.learner(service.join("quick"))
    home = tmp_path / "learner-keras"
    size = (DEBIAN / Path(TRAIN).name).stat().st_size
    part = home / (TRAIN + PART_SUFFIX)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * size)  # as long as the file, but not its bytes
    damaged = fetch_keras_data(learner, "2", home)
    assert damaged.problems == [f"{TRAIN} arrived damaged (its SHA-256 differs from the "
                                "service's) and was not used: run `tfexam sync` in the project "
                                "folder to fetch it again."]
    assert not (home / TRAIN).exists() and not part.exists()
    assert fetch_keras_data(learner, "2", home).placed == [TRAIN]
    assert _sha256(home / TRAIN) == OFFICIAL[TRAIN]


def test_a_learners_differing_file_is_kept_beside_the_services_copy(
        service: DataService, tmp_path: Path) -> None:
    learner = service.learner(service.join("quick"))
    home = tmp_path / "learner-keras"
    (home / TRAIN).parent.mkdir(parents=True)
    (home / TRAIN).write_bytes(b"a download cut short")
    outcome = fetch_keras_data(learner, "2", home)
    assert _sha256(home / TRAIN) == OFFICIAL[TRAIN]
    kept = home / (TRAIN + KEPT_SUFFIX)
    assert kept.read_bytes() == b"a download cut short"  # nothing of the learner's is lost
    assert outcome.problems == [f"{home / TRAIN} differed from the service's copy: it is kept as "
                                f"{kept.name} and the service's copy is in its place."]


def test_a_full_disk_is_one_sentence_and_nothing_half_written_is_used(
        service: DataService, tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    learner = service.learner(service.join("quick"))
    home = tmp_path / "learner-keras"
    part = home / (TRAIN + PART_SUFFIX)
    part.parent.mkdir(parents=True)
    part.symlink_to("/dev/full")  # the kernel's own full disk: every write is ENOSPC
    outcome = fetch_keras_data(learner, "2", home)
    assert not (home / TRAIN).exists()
    assert [p for p in outcome.problems if "is full" in p] == [
        f"The disk that holds {home} is full: free about 25 MB, then run `tfexam sync` in the "
        "project folder (what arrived is kept and it goes on)."]


def test_data_the_service_no_longer_has_is_one_sentence(tmp_path: Path) -> None:
    """MNIST from a mirror that was emptied after the session was made (no Debian package
    ships MNIST, so nothing else on the service holds it)."""
    if Path("/usr/share/datasets/mnist").exists():
        pytest.skip("this machine has MNIST from a system package")
    settings = Settings.from_env(home=tmp_path / "home", datasets_mirror=tmp_path / "mirror")
    question = QuestionRecord(
        session_id="s", question_id="Category2", position=1, title="t", weight=2,
        model_file="mymodel.h5", variant={}, heldout_path="h", waiting_since=None,
        data={"dataset": "mnist", "location": str(tmp_path / "mirror" / "mnist")})
    files, missing = KerasData(settings).for_questions([question])
    assert files == [] and missing == [
        "The service no longer has MNIST handwritten digits's mnist.npz that Category2 reads: "
        "tell your instructor, who can put it back in the service's data mirror."]


def test_a_service_that_does_not_answer_is_one_sentence(tmp_path: Path) -> None:
    """`tfexam sync` started while the service is down still watches: no exception here."""
    url = f"http://127.0.0.1:{free_port()}"
    outcome = fetch_keras_data(Client(url, "a-token", session="s"), "2", tmp_path / "keras")
    assert outcome.problems == [f"The data sets could not be fetched now: the service at {url} "
                                "does not answer; run `tfexam sync` in the project folder again "
                                "once it does."]
    assert not (tmp_path / "keras").exists()


def test_keras_2_reads_the_users_keras_folder_whatever_keras_home_says(tmp_path: Path) -> None:
    environ = {"KERAS_HOME": str(tmp_path / "elsewhere")}
    assert keras_cache_home("2", environ) == Path.home() / ".keras"  # tf_keras ignores it
    assert keras_cache_home("3", environ) == tmp_path / "elsewhere"
    assert keras_cache_home("3", {}) == Path.home() / ".keras"
