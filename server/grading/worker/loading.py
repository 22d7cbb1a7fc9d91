"""Open a learner's model file safely and say, in plain words, why one cannot be opened.

Order: read the saved config without executing anything and refuse Lambda layers and unknown
classes (the real exam's rule); then Keras 3 with safe_mode; then tf_keras for models saved by
Keras 2 that Keras 3 refuses; a SavedModel folder through TensorFlow's own loader, which runs no
Python from the file.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class ModelRefused(Exception):
    """The model contains something the grader will not run (Lambda, custom objects)."""


class ModelLoadError(Exception):
    """The file is not a model the grader can open; the message says what to do."""


@dataclass
class LoadedModel:
    predict: Callable[[np.ndarray], np.ndarray]
    input_shape: tuple[int | None, ...] | None
    output_shape: tuple[int | None, ...] | None
    final_activation: str | None
    keras: str
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


LAMBDA_MESSAGE = (
    "Lambda layers are not supported by the grader, as in the real exam: replace the Lambda layer "
    "with a built-in layer (for example Rescaling, Reshape or a Dense layer), save and submit again."
)
CUSTOM_MESSAGE = (
    "The model uses {names}, which {verb} not a built-in Keras layer: the grader only runs "
    "built-in layers. Rebuild the model with Keras layers only, save and submit again."
)
LAYER_KEYS = {"layers", "layer", "forward_layer", "backward_layer", "cell", "cells"}


def _layer_configs(node: Any, is_layer: bool = True) -> Iterator[dict[str, Any]]:
    """Every layer description inside a saved Keras config (nested models and wrappers too)."""
    if isinstance(node, dict):
        if is_layer and "class_name" in node:
            yield node
        for key, value in node.items():
            if key in LAYER_KEYS:
                yield from _layer_configs(value, True)
            elif isinstance(value, dict | list):
                yield from _layer_configs(value, False)
    elif isinstance(node, list):
        for item in node:
            yield from _layer_configs(item, is_layer)


def saved_config(path: Path, fmt: str) -> dict[str, Any] | None:
    """The model's architecture as saved, read as data (nothing in the file is executed)."""
    try:
        if fmt == "keras":
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read("config.json"))
        if fmt == "h5":
            import h5py

            with h5py.File(path, "r") as handle:
                raw = handle.attrs.get("model_config")
                if raw is None:
                    return None
                if isinstance(raw, bytes):
                    raw = raw.decode("utf-8")
                return json.loads(raw)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ModelLoadError(_unreadable(path, fmt, error)) from error
    return None


def _known_layer_names() -> set[str]:
    import keras
    import tf_keras

    names = {n for n in dir(keras.layers) if n[:1].isupper()}
    names |= {n for n in dir(tf_keras.layers) if n[:1].isupper()}
    names |= {"Sequential", "Functional", "Model", "InputLayer", "TFOpLambda", "SlicingOpLambda"}
    return names


def refuse_unsafe(config: dict[str, Any] | None) -> None:
    if config is None:
        return
    classes = [c.get("class_name", "") for c in _layer_configs(config)]
    if any(name in ("Lambda", "TFOpLambda", "SlicingOpLambda") for name in classes):
        raise ModelRefused(LAMBDA_MESSAGE)
    unknown = sorted({n for n in classes if n and n not in _known_layer_names()})
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        raise ModelRefused(
            CUSTOM_MESSAGE.format(names=names, verb="is" if len(unknown) == 1 else "are")
        )


def _unreadable(path: Path, fmt: str, error: BaseException) -> str:
    size = path.stat().st_size if path.is_file() else None
    if size == 0:
        return (
            f"{path.name} is empty (0 bytes): the save did not finish. Run the starter again so "
            "that model.save(...) completes, then submit."
        )
    kind = {"h5": "an HDF5 (.h5)", "keras": "a Keras zip (.keras)"}.get(fmt, "a model")
    return (
        f"{path.name} is not {kind} model file that can be opened ({type(error).__name__}: "
        f"{str(error).splitlines()[0][:200] if str(error) else 'no detail'}). It may be truncated "
        "or not a model at all: save it again with model.save(...) and submit."
    )


def _keras_summary(model: Any) -> dict[str, Any]:
    return {
        "layers": [f"{layer.__class__.__name__}" for layer in model.layers],
        "parameters": int(model.count_params()),
    }


def _final_activation(model: Any) -> str | None:
    if not model.layers:
        return None
    activation = model.layers[-1].get_config().get("activation")
    if isinstance(activation, dict):  # serialised form in some versions
        activation = activation.get("config", {}).get("name") or activation.get("class_name")
    return str(activation) if activation else None


def _shape(value: Any) -> tuple[int | None, ...] | None:
    if value is None:
        return None
    if isinstance(value, list) and value and isinstance(value[0], list | tuple):
        return None  # several inputs or outputs: the contract check reports it
    return tuple(None if d is None else int(d) for d in value)


def _from_keras_model(model: Any, keras_label: str) -> LoadedModel:
    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict(x, batch_size=256, verbose=0))

    inputs = model.inputs if hasattr(model, "inputs") else None
    input_shape = _shape(list(inputs[0].shape)) if inputs and len(inputs) == 1 else None
    outputs = model.outputs if hasattr(model, "outputs") else None
    output_shape = _shape(list(outputs[0].shape)) if outputs and len(outputs) == 1 else None
    notes = []
    if inputs and len(inputs) != 1:
        notes.append(f"The model has {len(inputs)} inputs; this question needs exactly one.")
    if outputs and len(outputs) != 1:
        notes.append(f"The model has {len(outputs)} outputs; this question needs exactly one.")
    return LoadedModel(
        predict=predict,
        input_shape=input_shape,
        output_shape=output_shape,
        final_activation=_final_activation(model),
        keras=keras_label,
        summary=_keras_summary(model),
        notes=notes,
    )


def _load_keras_file(path: Path, fmt: str) -> LoadedModel:
    import keras

    refuse_unsafe(saved_config(path, fmt))
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
        return _from_keras_model(model, f"Keras {keras.__version__}")
    except Exception as keras3_error:  # Keras 3 refuses some Keras 2 files: try tf_keras
        import tf_keras

        try:
            if fmt == "keras":
                model = tf_keras.models.load_model(path, safe_mode=True, compile=False)
            else:
                model = tf_keras.models.load_model(path, compile=False)
        except Exception:
            raise ModelLoadError(_unreadable(path, fmt, keras3_error)) from keras3_error
        loaded = _from_keras_model(model, f"tf_keras {tf_keras.__version__} (Keras 2)")
        loaded.notes.append(
            "Keras 3 could not open this file, so it was loaded with tf_keras (Keras 2): "
            f"{str(keras3_error).splitlines()[0][:160]}"
        )
        return loaded


def _load_saved_model(path: Path) -> LoadedModel:
    import tensorflow as tf

    if not (path / "saved_model.pb").is_file():
        raise ModelLoadError(
            f"The folder {path.name}/ has no saved_model.pb: it is not a SavedModel. Save with "
            "model.export(...) or tf.saved_model.save(...) and submit again."
        )
    if not (path / "variables" / "variables.index").is_file():
        raise ModelLoadError(
            f"The SavedModel folder {path.name}/ has no variables (variables/variables.index is "
            "missing): copy or save the whole folder, including variables/, and submit again."
        )
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as error:
        raise ModelLoadError(
            f"The SavedModel folder {path.name}/ cannot be loaded "
            f"({str(error).splitlines()[0][:200]}): save the whole folder again and submit."
        ) from error
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise ModelLoadError(
            f"The SavedModel folder {path.name}/ has no 'serving_default' signature: save it with "
            "model.export(...) (Keras 3) or model.save(...) (Keras 2) and submit again."
        )
    specs = signature.structured_input_signature[1]
    outputs = signature.structured_outputs
    notes = ["SavedModel: the final activation cannot be read from a graph and was not checked."]
    if len(specs) != 1 or len(outputs) != 1:
        notes.append("The SavedModel must have exactly one input and one output.")
    input_name, input_spec = next(iter(specs.items()))
    output_name, output_spec = next(iter(outputs.items()))

    def predict(x: np.ndarray) -> np.ndarray:
        parts = []
        for start in range(0, len(x), 256):
            batch = tf.constant(x[start:start + 256], dtype=input_spec.dtype)
            parts.append(signature(**{input_name: batch})[output_name].numpy())
        return np.concatenate(parts)

    return LoadedModel(
        predict=predict,
        input_shape=tuple(input_spec.shape.as_list()),
        output_shape=tuple(output_spec.shape.as_list()),
        final_activation=None,
        keras=f"TensorFlow {tf.__version__} SavedModel",
        summary={"layers": [], "parameters": int(sum(np.prod(v.shape) for v in
                                                     loaded.variables))
                 if hasattr(loaded, "variables") else None},
        notes=notes,
    )


def load(path: Path, fmt: str) -> LoadedModel:
    if fmt == "savedmodel":
        return _load_saved_model(path)
    if not path.is_file():
        raise ModelLoadError(f"{path.name} disappeared before it could be graded; save it again.")
    if path.stat().st_size == 0:
        raise ModelLoadError(_unreadable(path, fmt, ValueError("empty")))
    return _load_keras_file(path, fmt)
