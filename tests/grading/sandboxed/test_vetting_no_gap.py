"""Issue 22, item 5: every place a config can name code is checked before any loader, and no
loader (above all the laxer tf_keras fallback) runs on a file the vetting has not read whole.

The first test loads for real, in this process, a `.keras` whose `__typespec__` marker names a
module of the test's own that leaves a mark when imported: Keras 3 refuses it, and tf_keras, tried
next, used to import it. The others replace both loaders with recorders."""

from __future__ import annotations

import json
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from server.grading.protocol import ConfigLimits
from server.grading.sandboxed import loading
from server.grading.sandboxed.vetting import ModelLoadError, ModelRefused, refuse_unsafe
from tests.support import models

pytestmark = pytest.mark.slow
LIMITS = ConfigLimits()
PROBE = "tfexam_import_probe"


@pytest.fixture(scope="module")
def good_keras(tmp_path_factory) -> Path:
    return models.save(models.blobs_model(), tmp_path_factory.mktemp("good") / "mymodel.keras")


@pytest.fixture(scope="module")
def keras2_keras(tmp_path_factory) -> Path:
    """A .keras written by tf_keras (Keras 2): what the tf_keras fallback is there to read."""
    import tf_keras

    model = tf_keras.Sequential([tf_keras.layers.Dense(3, input_shape=(2,), activation="softmax")])
    path = tmp_path_factory.mktemp("keras2") / "mymodel.keras"
    model.save(path)
    return path


def _with_config(good: Path, dest: Path, change) -> Path:
    with zipfile.ZipFile(good) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    change(config)
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dest, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return dest


def test_a_typespec_naming_a_module_is_refused_before_tf_keras_imports_it(
        tmp_path: Path, keras2_keras: Path, monkeypatch) -> None:
    marker = tmp_path / "imported"
    (tmp_path / f"{PROBE}.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\nclass Probe:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PROBE, raising=False)

    def typespec_input(config: dict) -> None:  # tf_keras's InputLayer deserialises its type_spec
        config["config"]["layers"][0]["config"] = {"name": "x", "type_spec": {
            "class_name": "__typespec__", "spec_name": "Probe", "module": PROBE,
            "registered_name": None, "config": []}}

    crafted = _with_config(keras2_keras, tmp_path / "mymodel.keras", typespec_input)
    with pytest.raises(ModelRefused, match=rf"uses the type spec 'Probe' from the module '{PROBE}'"):
        loading.load(crafted, "keras", LIMITS)
    assert not marker.exists() and PROBE not in sys.modules


@pytest.mark.parametrize("node", [
    {"class_name": "__numpy__", "module": "os", "config": {"value": [1], "dtype": "int32"}},
    {"class_name": "__tensor__", "registered_name": "Custom>Thing", "config": {"value": [1]}},
    {"class_name": "__typespec__", "spec_name": "Popen", "module": "subprocess",
     "registered_name": None, "config": []},
    {"class_name": "__typespec__", "spec_name": "TensorSpec",
     "module": "tensorflow.python.framework.tensor", "registered_name": "Custom>Spec",
     "config": []},
])
def test_markers_are_checked_for_modules_and_registered_names(node: dict) -> None:
    config = {"module": "keras", "class_name": "Sequential", "config": {
        "name": "seq", "layers": [{"module": "keras.layers", "class_name": "Dense",
                                   "config": {"name": "out", "units": 1, "bias_initializer": node}}]}}
    with pytest.raises(ModelRefused, match="The layer 'out' uses"):
        refuse_unsafe(config)


def test_tensorflows_own_type_specs_pass() -> None:
    spec = {"class_name": "__typespec__", "spec_name": "TensorSpec",
            "module": "tensorflow.python.framework.tensor", "registered_name": None,
            "config": [[None, 2], "float32", None]}
    refuse_unsafe({"module": "keras", "class_name": "Sequential", "config": {
        "name": "seq", "layers": [], "input_spec": spec}})


@pytest.fixture
def loaders(monkeypatch) -> list[str]:
    """Both Keras loaders replaced by recorders: what ran is in the list."""
    import keras
    import tf_keras

    ran: list[str] = []

    def recorder(name: str):
        def load_model(*args, **kwargs):
            ran.append(name)
            raise ValueError(f"{name} was not meant to run")
        return load_model

    monkeypatch.setattr(keras.models, "load_model", recorder("keras"))
    monkeypatch.setattr(tf_keras.models, "load_model", recorder("tf_keras"))
    return ran


def test_an_h5_without_a_model_config_reaches_no_loader(tmp_path: Path, loaders) -> None:
    import h5py

    path = tmp_path / "mymodel.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("anything", data=[1.0, 2.0])
    with pytest.raises(ModelLoadError, match=r"mymodel.h5 has no model description \(no "
                                             r"model_config\): it is not a Keras model file"):
        loading.load(path, "h5", LIMITS)
    assert loaders == []


def test_a_keras_archive_naming_an_entry_twice_reaches_no_loader(tmp_path: Path, good_keras: Path,
                                                                  loaders) -> None:
    path = tmp_path / "mymodel.keras"
    with zipfile.ZipFile(good_keras) as source, zipfile.ZipFile(path, "w") as target, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate it is asked to write
        for name in source.namelist():
            target.writestr(name, source.read(name))
        target.writestr("config.json", source.read("config.json"))
    with pytest.raises(ModelRefused, match="names the entry 'config.json' more than once"):
        loading.load(path, "keras", LIMITS)
    assert loaders == []


def test_the_learner_gets_one_sentence_from_the_real_sandbox(grader, tmp_path: Path,
                                                             keras2_keras: Path) -> None:
    import numpy as np

    from server.datasets.base import write_heldout
    from tests.grading.trusted.test_scorer import _job

    def typespec_input(config: dict) -> None:
        config["config"]["layers"][0]["config"] = {"name": "x", "type_spec": {
            "class_name": "__typespec__", "spec_name": "Popen", "module": "subprocess",
            "registered_name": None, "config": []}}

    crafted = _with_config(keras2_keras, tmp_path / "mymodel.keras", typespec_input)
    write_heldout(tmp_path / "c.npz", x=np.zeros((3, 2), "float32"), y=np.arange(3))
    outcome = grader.grade(_job(crafted, tmp_path / "c.npz"))
    assert outcome.status == "refused" and outcome.score == 0, outcome.messages
    assert outcome.messages == [
        "The layer 'x' uses the type spec 'Popen' from the module 'subprocess', which is not part "
        "of Keras's built-in layers: the grader only runs built-in layers. Rebuild the model with "
        "Keras layers only, save and submit again."]
