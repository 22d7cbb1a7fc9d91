"""Vetting imports nothing private from Keras, but it must accept the private module names Keras 3
writes into every saved model's config (`keras.src.models.functional`...). If a Keras upgrade
moves its model classes, every learner's model would be refused: this fails first."""

from __future__ import annotations

from typing import Any

import pytest

from server.grading.sandboxed.vetting import PRIVATE_MODEL_MODULES, known_names

pytestmark = pytest.mark.slow


def modules_named(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("module"), str):
                found.add(item["module"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_the_private_model_modules_are_where_keras_keeps_its_models() -> None:
    import keras

    inputs = keras.Input((1,))
    functional = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    sequential = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    where = {type(functional).__module__, type(sequential).__module__, keras.Model.__module__}
    assert where == PRIVATE_MODEL_MODULES, f"Keras {keras.__version__} keeps its models in {where}"
    known = known_names()
    for model in (functional, sequential):
        named = modules_named(keras.saving.serialize_keras_object(model))
        assert named and named <= set(known), named - set(known)
