"""Real Keras models for the smoke exam's questions, trained or not, saved in any format.

Imported only by tests (the service never imports TensorFlow in its API process).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def line_model(trained: bool = True, weight: float = 2.0, bias: float = -1.0):
    """y = weight * x + bias (the smoke exam's line: 2x - 1); untrained, Keras's random start."""
    import keras

    model = keras.Sequential([keras.Input(shape=(1,)), keras.layers.Dense(1)])
    if trained:
        model.layers[0].set_weights([np.array([[weight]]), np.array([bias])])
    return model


def blobs_model(units: int = 3, activation: str = "softmax", input_dim: int = 2):
    import keras

    return keras.Sequential([
        keras.Input(shape=(input_dim,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(units, activation=activation),
    ])


def save(model, path: Path) -> Path:
    """Save as the file name says: .h5, .keras, or a SavedModel folder (no suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".h5", ".keras"):
        tmp = path.with_name(path.stem + ".tmp" + path.suffix)
        model.save(tmp)
        tmp.replace(path)  # appear whole, as an IDE's save of a finished file does
    else:
        model.export(str(path))
    return path


def place(source: bytes | Path, target: Path, temporary: str) -> Path:
    """Put `source` (bytes, or a file made earlier) at `target` as an editor saves: written whole
    under the name `temporary` beside it, then renamed, so it appears complete. Each caller names
    its temporary file, because watchers see those names and racing saves need different ones."""
    partial = target.with_name(temporary)
    if isinstance(source, bytes):
        partial.write_bytes(source)
    else:
        shutil.copyfile(source, partial)
    partial.replace(target)
    return target


def lambda_model():
    import keras

    return keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Lambda(lambda x: x * 2.0),
        keras.layers.Dense(3, activation="softmax"),
    ])


def custom_layer_model():
    import keras

    class Doubling(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    return keras.Sequential([keras.Input(shape=(2,)), Doubling(),
                             keras.layers.Dense(3, activation="softmax")])


def slow_model(steps: int = 60000, units: int = 8):
    """Cheap to save, slow to predict: an LSTM over a very long repeated sequence (more units make
    each step slower without holding more memory)."""
    import keras

    return keras.Sequential([
        keras.Input(shape=(2,)), keras.layers.RepeatVector(steps), keras.layers.LSTM(units),
        keras.layers.Dense(3, activation="softmax"),
    ])


def memory_hog_model():
    """A few MB on disk, gigabytes of activations at predict time."""
    import keras

    return keras.Sequential([
        keras.Input(shape=(2,)), keras.layers.Dense(4096), keras.layers.RepeatVector(700),
        keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3, activation="softmax"),
    ])


def keras2_lstm_h5(path: Path) -> Path:
    """An .h5 saved by tf_keras (Keras 2): its LSTM config has `time_major`, which Keras 3 refuses."""
    import tf_keras

    model = tf_keras.Sequential([
        tf_keras.layers.Reshape((2, 1), input_shape=(2,)),
        tf_keras.layers.LSTM(4),
        tf_keras.layers.Dense(3, activation="softmax"),
    ])
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path
