"""Criterion: a text model trained with the real starter's preprocessing (the course's code with
Keras' own Tokenizer, run in its own process on the learner's file, nothing of tfexam's) scores
within 0.01 of the same model trained through tfexam's starter, and far above chance."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.exams.calibration import Trainer, grade, record, solved_starter
from tests.exams.conftest import need_mirror

COURSE = Path(__file__).resolve().parent / "course"

# The learner's part, the same for both scripts (the variable names are the starter's).
LEARNER = {
    "sarcasm": """
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([
    tf.keras.Input(shape=(max_length,)),
    tf.keras.layers.Embedding(vocab_size, embedding_dim),
    tf.keras.layers.GlobalAveragePooling1D(),
    tf.keras.layers.Dense(24, activation="relu"),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(training_padded, training_labels, epochs=6, batch_size=64, verbose=2)
""",
    "bbc_news": """
tf.keras.utils.set_random_seed(0)
model = tf.keras.Sequential([
    tf.keras.Input(shape=(max_length,)),
    tf.keras.layers.Embedding(vocab_size, embedding_dim),
    tf.keras.layers.GlobalAveragePooling1D(),
    tf.keras.layers.Dense(24, activation="relu"),
    tf.keras.layers.Dense(6, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_padded, training_label_seq, epochs=30, verbose=2)
""",
}
FLOOR = {"sarcasm": 0.7, "bbc_news": 0.7}  # chance is 0.55 (sarcasm) and about 0.24 (BBC)


@pytest.mark.slow
@pytest.mark.parametrize("variant_id", ["sarcasm", "bbc_news"])
def test_course_preprocessing_scores_as_the_starter(trainer: Trainer, tmp_path: Path,
                                                   variant_id: str) -> None:
    need_mirror()
    prepared = trainer.prepare("tf-developer", variant_id)
    learner = tmp_path / "learner.py"
    learner.write_text(LEARNER[variant_id], encoding="utf-8")
    through = prepared.folder / "through-starter.py"
    through.write_text(solved_starter(prepared.folder / "starter.py", learner), encoding="utf-8")
    course = prepared.folder / "course.py"
    course.write_text((COURSE / f"{variant_id}.py").read_text(encoding="utf-8")
                      + textwrap.dedent(LEARNER[variant_id]) + '\nmodel.save("mymodel.h5")\n',
                      encoding="utf-8")
    code = course.read_text(encoding="utf-8")
    assert not any(word in code for word in ("server", "exam_text", "encoding.json", "sys.path"))

    ours = grade(prepared.variant, trainer.run("tf-developer", variant_id, through, "through-starter").model,
                 prepared.heldout)
    theirs = grade(prepared.variant, trainer.run("tf-developer", variant_id, course, "course").model,
                   prepared.heldout)
    record(f"tf-developer/{variant_id}/course-vs-starter", starter=ours.get("value"),
           course=theirs.get("value"))
    assert ours["status"] == theirs["status"] == "graded", (ours["messages"], theirs["messages"])
    assert abs(ours["value"] - theirs["value"]) <= 0.01, (ours["value"], theirs["value"])
    assert theirs["value"] >= FLOOR[variant_id], theirs["value"]
