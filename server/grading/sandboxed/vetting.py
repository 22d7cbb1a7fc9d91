"""Read a model's own description as data, bounded, and refuse anything that is not a model.

This runs in the sandboxed child before any Keras or TensorFlow loader sees the file, for every
format: the `.keras` archive (its entries are checked before `config.json` is read), the `.h5`
`model_config` attribute (its stored size is checked before it is read), and a SavedModel's
`keras_metadata.pb` (parsed here with a few lines of protobuf wire format). It refuses, with a
sentence that names the layer:
- Lambda layers (and TFOpLambda/SlicingOpLambda), whose code is bytecode in the file
  (CVE-2025-9905: Keras loaded `.h5` Lambdas despite safe_mode);
- any `module` outside Keras's own public modules, any `registered_name` that is not the built-in
  class, any class outside Keras's built-in layers, initializers, regularizers and the like
  (CVE-2025-1550 and CVE-2025-9906 ran code or re-enabled unsafe loading through the config);
- configs larger or deeper than the limits.
Every node that can name code is checked, Keras's own markers included: a `__typespec__` names a
`spec_name` and a `module` that tf_keras imports whatever it is (Keras 3 imports only its own
packages), so a marker is skipped only after its module and registered name passed. An `.h5`
without a model config, or a `.keras` whose archive names an entry twice, is refused here too: no
loader ever runs on anything this module has not read whole.
The `tf_keras` fallback is only tried after this passed, so it never imports a module a file names.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from server.grading.protocol import ConfigLimits, oversized_entry


class ModelRefused(Exception):
    """The model contains something the grader will not run."""


class ModelLoadError(Exception):
    """The file is not a model the grader can open; the message says what to do."""


LAMBDA_MESSAGE = (
    "The layer {layer} is a Lambda layer: Lambda layers are not supported by the grader, as in the "
    "real exam. Replace it with a built-in layer (for example Rescaling, Reshape or a Dense layer), "
    "save and submit again."
)
CUSTOM_MESSAGE = (
    "The layer {layer} uses {what}, which is not part of Keras's built-in layers: the grader only "
    "runs built-in layers. Rebuild the model with Keras layers only, save and submit again."
)
LAMBDAS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}
LAYER_KEYS = {"layers", "layer", "forward_layer", "backward_layer", "cell", "cells"}
STRUCTURAL = {"Sequential", "Functional", "Model", "InputLayer"}
# Keras 3 wraps values in these markers; "__lambda__" (a serialised Python function) is not one.
MARKERS = {"__keras_tensor__", "__tuple__", "__numpy__", "__tensor__", "__slice__",
           "__ellipsis__", "__typespec__", "__bytes__", "TensorShape", "TypeSpec", "InputSpec"}
PUBLIC_MODULES = ("layers", "initializers", "regularizers", "constraints", "activations",
                  "optimizers", "optimizers.schedules", "losses", "metrics", "models")
PRIVATE_MODEL_MODULES = {"keras.src.models.functional", "keras.src.models.sequential",
                         "keras.src.models.model"}
# Never deserialised: the grader loads with compile=False (optimizer, loss and metrics live here).
SKIPPED_KEYS = {"compile_config", "training_config"}
# What a `__typespec__` may name: TensorFlow's own spec classes, in modules TensorFlow has already
# imported (tf_keras imports the named module and takes the class from it).
TYPESPECS = {
    "tensorflow.python.framework.tensor": {"TensorSpec", "BoundedTensorSpec"},
    "tensorflow.python.framework.tensor_spec": {"TensorSpec", "BoundedTensorSpec"},
    "tensorflow.python.framework.sparse_tensor": {"SparseTensorSpec"},
    "tensorflow.python.framework.indexed_slices": {"IndexedSlicesSpec"},
    "tensorflow.python.ops.ragged.ragged_tensor": {"RaggedTensorSpec"},
}


@lru_cache(maxsize=1)
def known_names() -> dict[str, frozenset[str]]:
    """Public class names per allowed module, from the installed keras and tf_keras."""
    import importlib

    import keras

    known: dict[str, frozenset[str]] = {}
    for prefix in ("keras", "tf_keras"):
        for sub in ("", *PUBLIC_MODULES):
            name = f"{prefix}.{sub}" if sub else prefix
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            known[name] = frozenset(n for n in dir(module) if n[:1].isupper() or sub == "activations")
    known["keras"] = known.get("keras", frozenset()) & frozenset(
        {*STRUCTURAL, "DTypePolicy", "FloatDTypePolicy", "Variable", "Initializer", "Regularizer",
         "Constraint", "Layer", "Optimizer", "Loss", "Metric"})
    for private in PRIVATE_MODEL_MODULES:
        known[private] = frozenset(STRUCTURAL)
    known["keras.dtype_policies"] = frozenset(n for n in dir(keras.dtype_policies) if n[:1].isupper())
    return known


@lru_cache(maxsize=1)
def layer_names() -> frozenset[str]:
    known = known_names()
    names = set(STRUCTURAL)
    for module in ("keras.layers", "tf_keras.layers"):
        names |= known.get(module, frozenset())
    return frozenset(names - LAMBDAS)


@lru_cache(maxsize=1)
def all_names() -> frozenset[str]:
    return frozenset().union(*known_names().values())


def _depth_ok(node: Any, limit: int) -> bool:
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def parse_config(raw: bytes | str, what: str, limits: ConfigLimits) -> Any:
    if len(raw) > limits.config_bytes:
        raise ModelRefused(
            f"The model's {what} is {len(raw) / 2**20:.1f} MB, more than the grader reads "
            f"({limits.config_bytes / 2**20:.0f} MB): a model for this exam has a config of a few "
            "kilobytes. Rebuild it with standard layers, save and submit again.")
    try:
        config = json.loads(raw)
    except RecursionError as error:
        raise ModelRefused(f"The model's {what} is nested too deeply to be a Keras model: save "
                           "it again with model.save(...) and submit.") from error
    except ValueError as error:
        raise ModelLoadError(f"The model's {what} is not valid JSON ({error}): the file is "
                             "damaged. Save it again with model.save(...) and submit.") from error
    if not _depth_ok(config, limits.config_depth):
        raise ModelRefused(f"The model's {what} is nested more than {limits.config_depth} levels "
                           "deep, which no Keras model needs: save it again and submit.")
    return config


def _nodes(node: Any, is_layer: bool, owner: str) -> Iterator[tuple[dict[str, Any], bool, str]]:
    """Every dict that names a class, with whether it sits where a layer goes, and the name of the
    layer it belongs to (for the message)."""
    if isinstance(node, dict):
        here = owner
        if "class_name" in node:
            config = node.get("config")
            if (is_layer or owner == "the model") and isinstance(config, dict) and isinstance(
                    config.get("name"), str):
                here = config["name"]
            yield node, is_layer, here
        for key, value in node.items():
            if key in SKIPPED_KEYS:
                continue
            if key in LAYER_KEYS:
                yield from _nodes(value, True, here)
            elif isinstance(value, dict | list):
                yield from _nodes(value, False, here)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item, is_layer, owner)


def refuse_unsafe(config: Any, top_is_layer: bool = True) -> None:
    """Raise ModelRefused, naming the layer, for the first thing in the config that is not a
    built-in Keras object. (A SavedModel's metadata describes metrics too: its top objects need
    only be built-in Keras, not layers.)"""
    if config is None:
        return
    if not isinstance(config, dict):
        raise ModelLoadError("The model's config is not a Keras model description: save it again "
                             "with model.save(...) and submit.")
    known = known_names()
    for node, is_layer, layer in _nodes(config, top_is_layer, "the model"):
        name = node.get("class_name")
        label = repr(layer) if layer != "the model" else "at the model's top level"
        if not isinstance(name, str):
            raise ModelRefused(CUSTOM_MESSAGE.format(layer=label, what="a class that is not named"))
        if name in LAMBDAS or name == "__lambda__" or node.get("function_type") == "lambda":
            raise ModelRefused(LAMBDA_MESSAGE.format(layer=label))
        module = node.get("module")
        registered = node.get("registered_name")
        if name == "__typespec__":
            spec = node.get("spec_name")
            if not (isinstance(module, str) and isinstance(spec, str)
                    and spec in TYPESPECS.get(module, ())) or registered is not None:
                raise ModelRefused(CUSTOM_MESSAGE.format(
                    layer=label, what=f"the type spec {spec!r} from the module {module!r}"))
            continue
        if name in MARKERS:  # the markers Keras handles itself, but only with Keras's modules
            if module is not None and not (isinstance(module, str) and module in known) or (
                    registered not in (None, name)):
                raise ModelRefused(CUSTOM_MESSAGE.format(
                    layer=label, what=f"{name!r} from the module {module!r}"))
            continue
        if module is not None:
            if not isinstance(module, str) or module not in known:
                raise ModelRefused(CUSTOM_MESSAGE.format(
                    layer=label, what=f"{name!r} from the module {module!r}"))
            if name == "function":
                target = node.get("config")
                if not (isinstance(target, str) and target in known[module]
                        and module.split(".")[-1] in ("activations", "losses", "metrics")):
                    raise ModelRefused(CUSTOM_MESSAGE.format(
                        layer=label, what=f"the function {target!r} of {module!r}"))
                if registered not in (None, target):
                    raise ModelRefused(CUSTOM_MESSAGE.format(
                        layer=label, what=f"the registered name {registered!r}"))
                continue
            if name not in known[module]:
                raise ModelRefused(CUSTOM_MESSAGE.format(
                    layer=label, what=f"{name!r} from the module {module!r}"))
        elif name not in all_names():
            raise ModelRefused(CUSTOM_MESSAGE.format(layer=label, what=repr(name)))
        if registered not in (None, name):
            raise ModelRefused(CUSTOM_MESSAGE.format(
                layer=label, what=f"the registered name {registered!r}"))
        if is_layer and name not in layer_names():
            raise ModelRefused(CUSTOM_MESSAGE.format(layer=label, what=repr(name)))


# Reading each format's config, bounded -----------------------------------------------------------
def check_archive(path: Path, limits: ConfigLimits) -> zipfile.ZipFile:
    """Open a .keras zip and check its directory before any entry is read."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ModelLoadError(unreadable(path, "keras", error)) from error
    entries = archive.infolist()
    total = sum(entry.file_size for entry in entries)
    names = [entry.filename for entry in entries]
    if len(set(names)) != len(names):
        archive.close()
        twice = next(name for name in names if names.count(name) > 1)
        raise ModelRefused(f"{path.name} names the entry {twice!r} more than once, which "
                           "model.save(...) never does (a reader could take either copy). Save "
                           "the model again with model.save(...) and submit.")
    if len(entries) > limits.zip_entries:
        archive.close()
        raise ModelRefused(f"{path.name} holds {len(entries)} files; a Keras archive holds a few "
                           f"(the grader reads at most {limits.zip_entries}). Save the model again "
                           "with model.save(...) and submit.")
    if total > limits.zip_total_bytes:
        archive.close()
        raise ModelRefused(f"{path.name} would unpack to {total / 2**20:.0f} MB, more than the "
                           f"grader unpacks ({limits.zip_total_bytes / 2**20:.0f} MB). Make the "
                           "model smaller, save and submit again.")
    bomb = oversized_entry(entries, limits.zip_ratio)
    if bomb is not None:
        archive.close()
        raise ModelRefused(
            f"{path.name} is a zip bomb: its entry {bomb.filename!r} unpacks "
            f"{bomb.file_size / max(1, bomb.compress_size):.0f} times larger than it is "
            f"stored (the grader allows {limits.zip_ratio:.0f}). Save the model again with "
            "model.save(...) and submit.")
    return archive


def keras_config(path: Path, limits: ConfigLimits) -> Any:
    with check_archive(path, limits) as archive:
        try:
            info = archive.getinfo("config.json")
        except KeyError as error:
            raise ModelLoadError(f"{path.name} has no config.json: it is not a Keras model "
                                 "archive. Save it with model.save(...) and submit.") from error
        if info.file_size > limits.config_bytes:
            parse_config(b" " * (limits.config_bytes + 1), "config.json", limits)
        with archive.open(info) as handle:
            raw = handle.read(limits.config_bytes + 1)
    return parse_config(raw, "config.json", limits)


def h5_config(path: Path, limits: ConfigLimits) -> Any:
    """The `.h5`'s model_config. A file without one is refused here, so that no loader guesses
    at a model this module has not read."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "model_config" not in handle.attrs:
                # Keras 2 weights files carry "layer_names"; Keras 3's hold "layers"/"vars".
                if "layer_names" in handle.attrs or {"layers", "vars"} & set(handle.keys()):
                    raise ModelLoadError(
                        f"{path.name} holds only weights (it was written by "
                        "model.save_weights(...)): save the whole model with model.save(...) and "
                        "submit again.")
                raise ModelLoadError(
                    f"{path.name} has no model description (no model_config): it is not a "
                    "Keras model file. Save the whole model with model.save(...) and submit "
                    "again.")
            size = handle.attrs.get_id("model_config").get_storage_size()
            if size > limits.config_bytes:
                parse_config(b" " * (limits.config_bytes + 1), "model_config", limits)
            raw = handle.attrs["model_config"]
    except (OSError, KeyError, ValueError) as error:
        raise ModelLoadError(unreadable(path, "h5", error)) from error
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        raise ModelLoadError(f"{path.name}'s model_config is not text: the file is damaged. Save it "
                             "again with model.save(...) and submit.")
    return parse_config(raw, "model_config", limits)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of one protobuf message; nested messages stay bytes."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            yield number, data[pos:pos + length]
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"wire type {wire}")


def savedmodel_metadata(folder: Path, limits: ConfigLimits) -> list[Any]:
    """The Keras metadata of each object in a SavedModel (SavedMetadata.nodes[].metadata)."""
    path = folder / "keras_metadata.pb"
    if not path.is_file():
        return []
    if path.stat().st_size > limits.config_bytes:
        parse_config(b" " * (limits.config_bytes + 1), "keras_metadata.pb", limits)
    data = path.read_bytes()
    configs = []
    try:
        for number, node in _fields(data):
            if number != 1 or not isinstance(node, bytes):
                continue
            for inner, value in _fields(node):
                if inner == 5 and isinstance(value, bytes) and value.strip():
                    configs.append(parse_config(value, "keras_metadata.pb", limits))
    except ValueError as error:
        raise ModelLoadError(f"{folder.name}/keras_metadata.pb is damaged ({error}): save the whole "
                             "folder again and submit.") from error
    return configs


def vet(path: Path, fmt: str, limits: ConfigLimits) -> None:
    """Refuse the file unless everything it names is built-in Keras."""
    if fmt == "keras":
        refuse_unsafe(keras_config(path, limits))
    elif fmt == "h5":
        refuse_unsafe(h5_config(path, limits))
    elif fmt == "savedmodel":
        for metadata in savedmodel_metadata(path, limits):
            refuse_unsafe(metadata, top_is_layer=False)


def unreadable(path: Path, fmt: str, error: BaseException) -> str:
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    if size == 0:
        return (f"{path.name} is empty (0 bytes): the save did not finish. Run the starter again so "
                "that model.save(...) completes, then submit.")
    kind = {"h5": "an HDF5 (.h5)", "keras": "a Keras zip (.keras)"}.get(fmt, "a model")
    detail = str(error).splitlines()[0][:200] if str(error) else "no detail"
    return (f"{path.name} is not {kind} model file that can be opened ({type(error).__name__}: "
            f"{detail}). It may be truncated or not a model at all: save it again with "
            "model.save(...) and submit.")
