"""Issue 22, item 7: held-out inputs reach the sandbox in an order drawn per job and the trusted
side puts the answers back, so a model that answers by counting its calls scores at chance, while
a model that looks at its inputs keeps its score. Real models in the real sandbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from server.datasets.base import write_heldout
from server.grading.trusted import secret_order
from server.grading.trusted.local import LocalGrader
from tests.grading.trusted.test_scorer import _job
from tests.support import attacks, models

COUNT = 300  # 100 per class, stored in label order as a photo question's folders are read


def test_the_order_is_a_fresh_permutation_and_restore_inverts_it() -> None:
    orders = [secret_order.draw(COUNT) for _ in range(3)]
    for order in orders:
        assert sorted(order.tolist()) == list(range(COUNT))
    assert len({tuple(order.tolist()) for order in orders}) == 3
    x = np.arange(COUNT * 2, dtype="float32").reshape(COUNT, 2)
    answered = x[orders[0]] * 10  # what a model that looks at each input says, in the job's order
    assert np.array_equal(secret_order.restore(answered, orders[0]), x * 10)
    short = answered[:-1]
    assert secret_order.restore(short, orders[0]) is short  # left for the scorer to explain


@pytest.fixture
def label_ordered(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    y = np.repeat(np.arange(3), COUNT // 3)
    centres = np.asarray([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], dtype="float32")
    x = (centres[y] + rng.normal(0, 0.05, (COUNT, 2))).astype("float32")
    write_heldout(tmp_path / "c.npz", x=x, y=y, class_names=np.asarray(["a", "b", "c"]))
    return tmp_path / "c.npz"


@pytest.fixture(scope="module")
def fallback_grader(tmp_path_factory: pytest.TempPathFactory, keras_home):
    from server.grading.confinement import landlock

    if landlock.abi_version() < 1:
        pytest.skip("no Landlock in this kernel")
    local = LocalGrader(tmp_path_factory.mktemp("fallback"), mode="landlock", warm=1)
    yield local
    local.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bwrap", "landlock"])
def test_a_model_that_counts_its_calls_scores_at_chance(mode: str, request, label_ordered: Path,
                                                        tmp_path: Path) -> None:
    grader = request.getfixturevalue("grader" if mode == "bwrap" else "fallback_grader")
    counting = attacks.counter(tmp_path / "mymodel", total=COUNT)
    outcome = grader.grade(_job(counting, label_ordered))
    assert outcome.status == "graded", outcome.messages
    assert outcome.value < 0.5, outcome.value  # chance is 1/3; in label order it scored 1.0


@pytest.mark.slow
def test_a_model_that_looks_keeps_its_score(grader: LocalGrader, label_ordered: Path,
                                            tmp_path: Path) -> None:
    import keras

    looking = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    looking.layers[0].set_weights([np.asarray([[4.0, 0.0, -4.0], [0.0, 4.0, -4.0]]),
                                   np.zeros(3)])
    outcome = grader.grade(_job(models.save(looking, tmp_path / "mymodel.keras"), label_ordered))
    assert outcome.status == "graded" and outcome.value == 1.0, outcome.messages
    matrix = np.asarray(outcome.diagnostics["confusion_matrix"])
    assert np.array_equal(matrix, np.diag([COUNT // 3] * 3))  # every answer back in its place
