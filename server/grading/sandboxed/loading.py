"""Open a learner's model in the sandbox and say, in plain words, why one cannot be opened.

Order: vet the saved config as data (`vetting`), bounded, refusing anything that is not built-in
Keras; then Keras 3 with safe_mode; then tf_keras for models saved by Keras 2 that Keras 3
refuses; a SavedModel folder through TensorFlow's own loader, which runs no Python from the file.
The facts reported back (shapes, final activation, layers) are claims the trusted side checks
against the predictions themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from server.grading.protocol import ConfigLimits, ModelInfo
from server.grading.sandboxed.vetting import ModelLoadError, ModelRefused, unreadable, vet

__all__ = ["LoadedModel", "ModelLoadError", "ModelRefused", "load"]

# Layers that only reshape or drop out: the final activation is the one before them.
PASS_THROUGH = {"Flatten", "Reshape", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
                "SpatialDropout3D", "GaussianDropout", "GaussianNoise", "AlphaDropout", "Permute",
                "ActivityRegularization", "Identity"}


@dataclass
class LoadedModel:
    predict: Callable[[np.ndarray], np.ndarray]
    info: ModelInfo


def _final_activation(model: Any) -> str | None:
    """The activation of the last layer that computes something, looking through layers that only
    reshape or drop out (Flatten, Reshape, Dropout, ...)."""
    for layer in reversed(list(getattr(model, "layers", []))):
        name = layer.__class__.__name__
        if name in PASS_THROUGH:
            continue
        if hasattr(layer, "layers") and layer.layers:  # a nested Sequential or Functional
            return _final_activation(layer)
        activation = layer.get_config().get("activation")
        if isinstance(activation, dict):  # serialised form in some versions
            activation = activation.get("config", {}).get("name") or activation.get("class_name")
        return str(activation) if activation else None
    return None


def _shape(value: Any) -> list[int | None] | None:
    if value is None:
        return None
    return [None if d is None else int(d) for d in value]


def _from_keras_model(model: Any, keras_label: str) -> LoadedModel:
    inputs = list(getattr(model, "inputs", None) or [])
    outputs = list(getattr(model, "outputs", None) or [])
    input_shape = _shape(list(inputs[0].shape)) if len(inputs) == 1 else None
    declared: tuple[int, ...] | None = (
        tuple(int(d) for d in input_shape[1:] if d is not None)
        if input_shape and None not in input_shape[1:] else None)

    compiled: list[Any] = []

    def one_graph(x: np.ndarray) -> np.ndarray:
        """Small batches (a series window at a time) through one traced graph: Keras's eager call
        of an LSTM takes a large fraction of a second, predict_on_batch several milliseconds."""
        import tensorflow as tf

        if not compiled:
            spec = tf.TensorSpec([None, *x.shape[1:]], inputs[0].dtype if inputs else tf.float32)
            compiled.append(tf.function(lambda v: model(v, training=False),
                                        input_signature=[spec], reduce_retracing=True))
        return np.asarray(compiled[0](x))

    def predict(x: np.ndarray) -> np.ndarray:
        if declared is not None and x.shape[1:] != declared and x[0].size == int(np.prod(declared)):
            x = x.reshape((len(x), *declared))  # the question's shape, as the model spells it
        if len(x) <= 64:
            try:
                return one_graph(x)
            except Exception:  # a model that does not trace: Keras's own path says why
                return np.asarray(model.predict_on_batch(x))
        return np.asarray(model.predict(x, batch_size=256, verbose=0))

    return LoadedModel(predict, ModelInfo(
        input_shape=input_shape,
        output_shape=_shape(list(outputs[0].shape)) if len(outputs) == 1 else None,
        inputs=len(inputs), outputs=len(outputs),
        final_activation=_final_activation(model),
        keras=keras_label,
        layers=[layer.__class__.__name__ for layer in model.layers][:10000],
        parameters=int(model.count_params()),
    ))


def _missing_weights(path: Path, fmt: str) -> str | None:
    """A file with the architecture but no weights (or weights but no architecture)."""
    if fmt == "h5":
        import h5py

        try:
            with h5py.File(path, "r") as handle:  # the vetting refused a file without a config
                if "model_weights" not in handle:
                    return (f"{path.name} has the model's architecture but no weights: save the "
                            "trained model with model.save(...) and submit again.")
        except OSError:
            return None
    if fmt == "keras":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (OSError, zipfile.BadZipFile):
            return None
        if not names & {"model.weights.h5", "model.weights.npz"}:
            return (f"{path.name} has the model's architecture but no weights "
                    "(model.weights.h5 is missing): save the trained model with model.save(...) "
                    "and submit again.")
    return None


def _load_keras_file(path: Path, fmt: str) -> LoadedModel:
    import keras

    missing = _missing_weights(path, fmt)
    if missing:
        raise ModelLoadError(missing)
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
            raise ModelLoadError(unreadable(path, fmt, keras3_error)) from keras3_error
        loaded = _from_keras_model(model, f"tf_keras {tf_keras.__version__} (Keras 2)")
        note = ("Keras 3 could not open this file, so it was loaded with tf_keras (Keras 2): "
                f"{str(keras3_error).splitlines()[0][:160] if str(keras3_error) else ''}")
        loaded.info = loaded.info.model_copy(update={"notes": [*loaded.info.notes, note]})
        return loaded


def _load_saved_model(path: Path) -> LoadedModel:
    import tensorflow as tf

    if not (path / "saved_model.pb").is_file():
        raise ModelLoadError(
            f"The folder {path.name}/ has no saved_model.pb: it is not a SavedModel. Save with "
            "model.export(...) or tf.saved_model.save(...) and submit again.")
    if not (path / "variables" / "variables.index").is_file():
        raise ModelLoadError(
            f"The SavedModel folder {path.name}/ has no variables (variables/variables.index is "
            "missing): copy or save the whole folder, including variables/, and submit again.")
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as error:
        raise ModelLoadError(
            f"The SavedModel folder {path.name}/ cannot be loaded "
            f"({str(error).splitlines()[0][:200] if str(error) else type(error).__name__}): save "
            "the whole folder again and submit.") from error
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise ModelLoadError(
            f"The SavedModel folder {path.name}/ has no 'serving_default' signature: save it with "
            "model.export(...) (Keras 3) or model.save(...) (Keras 2) and submit again.")
    specs = signature.structured_input_signature[1]
    outputs = signature.structured_outputs
    if not specs or not outputs:
        raise ModelLoadError(f"The SavedModel folder {path.name}/ has a signature without inputs or "
                             "outputs: save it with model.export(...) and submit again.")
    input_name, input_spec = next(iter(specs.items()))
    output_name, output_spec = next(iter(outputs.items()))

    def predict(x: np.ndarray) -> np.ndarray:
        parts = []
        for start in range(0, len(x), 256):
            batch = tf.constant(x[start:start + 256], dtype=input_spec.dtype)
            parts.append(np.asarray(signature(**{input_name: batch})[output_name]))
        return np.concatenate(parts)

    variables = getattr(loaded, "variables", None)
    return LoadedModel(predict, ModelInfo(
        input_shape=_shape(input_spec.shape.as_list()),
        output_shape=_shape(output_spec.shape.as_list()),
        inputs=len(specs), outputs=len(outputs),
        final_activation=None,
        keras=f"TensorFlow {tf.__version__} SavedModel",
        parameters=int(sum(int(np.prod(v.shape)) for v in variables)) if variables else None,
        notes=["SavedModel: the final activation cannot be read from a graph and was not checked."],
    ))


def load(path: Path, fmt: str, limits: ConfigLimits) -> LoadedModel:
    """Vet, then load. Raises ModelRefused or ModelLoadError with the learner's sentence."""
    if fmt == "savedmodel":
        if not path.is_dir():
            raise ModelLoadError(f"{path.name} is not a folder: a SavedModel is a folder with "
                                 "saved_model.pb in it. Save it again and submit.")
        vet(path, fmt, limits)
        return _load_saved_model(path)
    if not path.is_file():
        raise ModelLoadError(f"{path.name} disappeared before it could be graded; save it again.")
    if path.stat().st_size == 0:
        raise ModelLoadError(unreadable(path, fmt, ValueError("empty")))
    vet(path, fmt, limits)
    return _load_keras_file(path, fmt)
