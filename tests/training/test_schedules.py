"""HoldThenCosine against its formula; serialisation with an optimizer."""
import math

import keras
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.training import HoldThenCosine


def test_values_follow_the_formula():
    sched = HoldThenCosine(2e-4, total_steps=100, decay_fraction=0.4, alpha=0.05)
    for step in (0, 30, 59, 60, 61, 80, 99, 100, 150):
        if step < 60:
            expected = 2e-4
        else:
            t = min(step - 60, 40) / 40
            expected = 2e-4 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t)))
        assert float(sched(step)) == pytest.approx(expected, rel=1e-5), step
    assert float(sched(100)) == pytest.approx(1e-5, rel=1e-5)  # ends at alpha * lr0


def test_round_trips_through_keras_serialization(tmp_path):
    sched = HoldThenCosine(1e-3, 50, 0.5)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(sched))
    assert isinstance(clone, HoldThenCosine) and clone.get_config() == sched.get_config()
    # and inside an optimizer of a saved model
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(sched), loss="mse")
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer._learning_rate.get_config() == sched.get_config()


def test_bad_arguments():
    with pytest.raises(KerasGenError, match="decay_fraction"):
        HoldThenCosine(1e-3, 10, decay_fraction=1.5)
    with pytest.raises(KerasGenError, match="total_steps"):
        HoldThenCosine(1e-3, 0)
