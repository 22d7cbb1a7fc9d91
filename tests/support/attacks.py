"""Hostile model files for the sandbox tests, built at test time with real TensorFlow and Keras.

Each SavedModel answers the smoke exam's Q2 contract (input (None, 2), softmax over 3 classes), so
it reaches the predict step, and its graph tries one attack with TensorFlow's own C++ file ops
(which no Python-level guard sees): write outside, read the held-out data, forge replies on every
descriptor, reach the network. An op that is refused fails the prediction (an evaluation error);
an attack that got something turns the prediction into NaN, which the grader reports as such, so
a test tells from the Result alone whether anything got through.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FORGED_REPLY = json.dumps({"kind": "predictions", "nonce": "0" * 32, "seq": 0,
                           "outputs": {"dtype": "float32", "shape": [1], "data": "AACAPw=="},
                           "seconds": 0.0, "score": 5, "status": "graded"}) + "\n"


def _save(fn, dest: Path) -> Path:
    import tensorflow as tf

    module = tf.Module()
    module.serve = tf.function(fn, input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    if dest.exists():
        shutil.rmtree(dest)
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.serve})
    return dest


def _answer(x, signal):
    """An honest constant answer, or NaN everywhere when `signal` > 0 (the attack got something)."""
    import tensorflow as tf

    zeros = x[:, 0] * 0.0
    poison = tf.where(signal > 0, float("nan"), 0.0)
    return {"output_0": tf.nn.softmax(tf.stack([zeros + 1.0, zeros, zeros], axis=1)) + poison}


def writer(targets: list[str], dest: Path) -> Path:
    """Writes a file at each target path (outside the sandbox), then answers."""
    import tensorflow as tf

    def serve(x):
        for target in targets:
            tf.io.write_file(target, "written by a model\n")
        return _answer(x, 1.0)  # reached only if every write went through

    return _save(serve, dest)


def reader(target: str, dest: Path) -> Path:
    """Reads a file outside the sandbox (the held-out data); its size becomes the answer."""
    import tensorflow as tf

    def serve(x):
        content = tf.io.read_file(target)
        return _answer(x, tf.cast(tf.strings.length(content), tf.float32))

    return _save(serve, dest)


def lister(pattern: str, dest: Path) -> Path:
    """Lists files outside the sandbox (a home folder, the sessions); their count is the answer."""
    import tensorflow as tf

    def serve(x):
        return _answer(x, tf.cast(tf.size(tf.io.matching_files(pattern)), tf.float32))

    return _save(serve, dest)


def forger(dest: Path) -> Path:
    """Writes a forged reply line to every descriptor the process has (the old attack that gave
    itself, and the next submission, 5/5)."""
    import tensorflow as tf

    def serve(x):
        descriptors = tf.io.matching_files("/proc/self/fd/*")

        def body(i):
            tf.io.write_file(descriptors[i], FORGED_REPLY)
            return (i + 1,)

        tf.while_loop(lambda i: i < tf.size(descriptors), body, (tf.constant(0),))
        return _answer(x, 1.0)  # reached only if every write went through

    return _save(serve, dest)


def network(url: str, dest: Path) -> Path:
    """Reads from a remote file system (TensorFlow's C++ clients resolve and connect by
    themselves); a successful read becomes the answer."""
    import tensorflow as tf

    def serve(x):
        return _answer(x, tf.cast(tf.strings.length(tf.io.read_file(url)), tf.float32))

    return _save(serve, dest)


def lambda_h5(dest: Path, marker: Path) -> Path:
    """A Keras .h5 whose Lambda layer would create `marker` when deserialised (CVE-2025-9905:
    Keras loaded .h5 Lambda layers despite safe_mode)."""
    import keras

    code = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(eval(code)),
                              keras.layers.Dense(3, activation="softmax")])
    dest.parent.mkdir(parents=True, exist_ok=True)
    model.save(dest)
    marker.unlink(missing_ok=True)  # building the model ran it once, here, on purpose
    return dest


def config_module_keras(good: Path, dest: Path, module: str = "os", class_name: str = "system",
                        config: object = None) -> Path:
    """A .keras archive whose config names a module outside Keras for one layer (the shape of
    CVE-2025-1550: code run through a crafted config despite safe_mode)."""
    with zipfile.ZipFile(good) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    model_config = json.loads(entries["config.json"])
    layer = model_config["config"]["layers"][-1]
    layer["module"], layer["class_name"] = module, class_name
    if config is not None:
        layer["config"] = config
    entries["config.json"] = json.dumps(model_config).encode()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return dest


def zip_bomb_keras(good: Path, dest: Path, unpacked_mb: int = 2048) -> Path:
    """A .keras archive with an entry that inflates about a thousand times (zeros)."""
    with zipfile.ZipFile(good) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        with archive.open("assets/padding.bin", "w", force_zip64=True) as handle:
            block = b"\0" * 2**20
            for _ in range(unpacked_mb):
                handle.write(block)
    return dest


def _copy_entries(good: Path, archive: zipfile.ZipFile) -> None:
    with zipfile.ZipFile(good) as source:
        for name in source.namelist():
            archive.writestr(name, source.read(name))


def many_entries_keras(good: Path, dest: Path, extra: int) -> Path:
    """A real .keras archive with `extra` tiny files added: no entry is large, their number is
    what a reader pays for."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        _copy_entries(good, archive)
        for index in range(extra):
            archive.writestr(f"assets/{index}.txt", b"x")
    return dest


def wide_keras(good: Path, dest: Path, entries: int, entry_mb: int = 2) -> Path:
    """A real .keras archive with `entries` padding files that each inflate only about a hundred
    times (no one of them a zip bomb by ratio) but together unpack to entries x entry_mb MB."""
    noise = os.urandom(20_000)
    block = noise + b"\0" * (entry_mb * 2**20 - len(noise))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        _copy_entries(good, archive)
        for index in range(entries):
            archive.writestr(f"assets/padding{index}.bin", block)
    return dest


def counter(dest: Path, total: int, classes: int = 3) -> Path:
    """Answers without looking: the k-th input it is ever shown gets class k * classes // total,
    which is every label right when the held-out set arrives in label order, in equal parts (a
    counter variable in the graph; the issue's attack scored 100 % on random images)."""
    import tensorflow as tf

    module = tf.Module()
    module.seen = tf.Variable(0, dtype=tf.int64)

    def serve(x):
        count = tf.shape(x, out_type=tf.int64)[0]
        index = module.seen + tf.range(count, dtype=tf.int64)
        module.seen.assign_add(count)
        return {"output_0": tf.one_hot(index * classes // total, classes)}

    module.serve = tf.function(serve, input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    if dest.exists():
        shutil.rmtree(dest)
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.serve})
    return dest
