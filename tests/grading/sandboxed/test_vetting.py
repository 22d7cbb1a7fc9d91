"""Config vetting, before any loader sees a file: real files made at test time, read as data.
Nothing here loads a model, so a test that failed to refuse would not run the payload either;
the sandbox tests load the same files for real."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from server.grading.protocol import ConfigLimits
from server.grading.sandboxed.vetting import ModelRefused, refuse_unsafe, savedmodel_metadata, vet
from tests.support import attacks, models

pytestmark = pytest.mark.slow
LIMITS = ConfigLimits()


@pytest.fixture(scope="module")
def good_keras(tmp_path_factory) -> Path:
    return models.save(models.blobs_model(), tmp_path_factory.mktemp("good") / "mymodel.keras")


def test_built_in_models_pass_in_every_format(tmp_path: Path, good_keras: Path) -> None:
    vet(good_keras, "keras", LIMITS)
    vet(models.save(models.blobs_model(), tmp_path / "m.h5"), "h5", LIMITS)
    vet(models.save(models.blobs_model(), tmp_path / "saved"), "savedmodel", LIMITS)
    vet(models.keras2_lstm_h5(tmp_path / "k2.h5"), "h5", LIMITS)


def test_lambda_h5_is_refused_naming_the_layer(tmp_path: Path) -> None:  # CVE-2025-9905
    marker = tmp_path / "ran"
    path = attacks.lambda_h5(tmp_path / "lambda.h5", marker)
    with pytest.raises(ModelRefused, match=r"The layer 'lambda(_\d+)?' is a Lambda layer"):
        vet(path, "h5", LIMITS)
    assert not marker.exists()


@pytest.mark.parametrize(("module", "class_name", "expected"), [
    ("os", "system", "'system' from the module 'os'"),
    ("builtins", "exec", "'exec' from the module 'builtins'"),
    ("keras.config", "enable_unsafe_deserialization", "module 'keras.config'"),  # CVE-2025-9906
    ("keras.layers", "NoSuchLayer", "'NoSuchLayer' from the module 'keras.layers'"),
])
def test_a_config_naming_a_module_is_refused(tmp_path: Path, good_keras: Path, module: str,
                                             class_name: str, expected: str) -> None:  # CVE-2025-1550
    path = attacks.config_module_keras(good_keras, tmp_path / "crafted.keras", module, class_name)
    with pytest.raises(ModelRefused, match=r"The layer 'dense(_\d+)?' uses") as refused:
        vet(path, "keras", LIMITS)
    assert expected in str(refused.value)


def test_registered_names_functions_and_nested_objects(good_keras: Path) -> None:
    with zipfile.ZipFile(good_keras) as archive:
        config = json.loads(archive.read("config.json"))
    dense = config["config"]["layers"][-1]
    dense["registered_name"] = "Custom>Dense"
    with pytest.raises(ModelRefused, match="registered name 'Custom>Dense'"):
        refuse_unsafe(config)
    dense["registered_name"] = None
    dense["config"]["kernel_initializer"] = {"module": "subprocess", "class_name": "Popen",
                                             "config": {"args": ["true"]}}
    with pytest.raises(ModelRefused, match="'Popen' from the module 'subprocess'"):
        refuse_unsafe(config)
    dense["config"]["kernel_initializer"] = {"module": "keras.activations",
                                             "class_name": "function", "config": "eval"}
    with pytest.raises(ModelRefused, match="the function 'eval'"):
        refuse_unsafe(config)
    dense["config"]["kernel_initializer"] = {"class_name": "__lambda__", "config": {"code": "x"}}
    with pytest.raises(ModelRefused, match="Lambda"):
        refuse_unsafe(config)


def test_a_keras_2_config_without_modules_is_checked_by_class(tmp_path: Path) -> None:
    config = {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 2], "name": "in"}},
        {"class_name": "MyLayer", "config": {"name": "mine"}}]}}
    with pytest.raises(ModelRefused, match="The layer 'mine' uses 'MyLayer'"):
        refuse_unsafe(config)
    config["config"]["layers"][1] = {"class_name": "GlorotUniform", "config": {"name": "init"}}
    with pytest.raises(ModelRefused, match="'GlorotUniform'"):  # not a layer where a layer goes
        refuse_unsafe(config)


def test_configs_too_large_or_too_deep_are_refused_before_parsing(tmp_path: Path,
                                                                  good_keras: Path) -> None:
    deep: object = {"class_name": "Dense", "config": {}}
    for _ in range(300):
        deep = {"config": {"layers": [deep]}}
    path = tmp_path / "deep.keras"
    with zipfile.ZipFile(good_keras) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name) if name != "config.json" else json.dumps(deep).encode()
            target.writestr(name, data)
    with pytest.raises(ModelRefused, match="nested"):
        vet(path, "keras", LIMITS)
    with pytest.raises(ModelRefused, match="more than the grader reads"):
        vet(path, "keras", ConfigLimits(config_bytes=1000))


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path: Path, good_keras: Path) -> None:
    bomb = attacks.zip_bomb_keras(good_keras, tmp_path / "bomb.keras", unpacked_mb=64)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(ModelRefused, match="zip bomb"):
        vet(bomb, "keras", LIMITS)


def test_a_keras_zip_with_too_many_entries_is_refused(tmp_path: Path, good_keras: Path) -> None:
    crowded = attacks.many_entries_keras(good_keras, tmp_path / "crowded.keras",
                                         extra=LIMITS.zip_entries)
    with pytest.raises(ModelRefused, match=r"crowded.keras holds \d+ files; a Keras archive holds "
                                           rf"a few \(the grader reads at most {LIMITS.zip_entries}\)"):
        vet(crowded, "keras", LIMITS)


def test_a_keras_zip_that_unpacks_too_large_is_refused(tmp_path: Path, good_keras: Path) -> None:
    wide = attacks.wide_keras(good_keras, tmp_path / "wide.keras", entries=3)  # 6 MB unpacked
    vet(wide, "keras", LIMITS)  # no entry is a bomb by ratio
    with pytest.raises(ModelRefused, match=r"wide.keras would unpack to 6 MB, more than the grader "
                                           r"unpacks \(4 MB\)\. Make the model smaller"):
        vet(wide, "keras", ConfigLimits(zip_total_bytes=4 * 2**20))


def test_savedmodel_keras_metadata_is_vetted(tmp_path: Path) -> None:
    import tf_keras

    model = tf_keras.Sequential([tf_keras.layers.Dense(3, input_shape=(2,), name="out")])
    model.save(tmp_path / "k2saved", save_format="tf")
    assert savedmodel_metadata(tmp_path / "k2saved", LIMITS)  # it has Keras metadata to check
    vet(tmp_path / "k2saved", "savedmodel", LIMITS)
    metadata = (tmp_path / "k2saved" / "keras_metadata.pb").read_bytes()
    (tmp_path / "k2saved" / "keras_metadata.pb").write_bytes(
        metadata.replace(b'"class_name": "Dense"', b'"class_name": "Evil1"'))
    with pytest.raises(ModelRefused, match="'Evil1'"):
        vet(tmp_path / "k2saved", "savedmodel", LIMITS)
