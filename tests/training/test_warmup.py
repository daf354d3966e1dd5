"""WarmupDecay against its formula (NumPy), the Transformer's schedule, and serialisation."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError, UnknownNameError
from keras_gen.training import WarmupDecay


def _expected(s, peak, w, d, decay, f):
    u = s + 1
    if u <= w:
        return peak * u / w
    p = min((u - w) / d, 1.0)
    return {"cosine": peak * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * p))),
            "linear": peak * (1 - (1 - f) * p),
            "inverse_sqrt": peak * math.sqrt(w / u),
            "constant": peak}[decay]


@pytest.mark.parametrize("decay", ["cosine", "linear", "inverse_sqrt", "constant"])
def test_values_follow_the_formula(decay):
    peak, w, d, f = 3e-3, 10, 40, 0.1
    sched = WarmupDecay(peak, w, d, decay, f)
    steps = np.array([0, 1, 4, 8, 9, 10, 11, 25, 48, 49, 50, 200])
    got = np.asarray(sched(steps))  # one vectorised call
    want = [_expected(int(s), peak, w, d, decay, f) for s in steps]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert float(sched(0)) == pytest.approx(peak / w)  # the first update is not wasted
    assert float(sched(w - 1)) == pytest.approx(peak)


def test_inverse_sqrt_is_the_transformer_schedule():
    d_model, w = 512, 4000
    sched = WarmupDecay(d_model**-0.5 * w**-0.5, w, decay="inverse_sqrt")
    for u in (1, 100, 3999, 4000, 4001, 10000, 100000):
        vaswani = d_model**-0.5 * min(u**-0.5, u * w**-1.5)
        assert float(sched(u - 1)) == pytest.approx(vaswani, rel=1e-5)


def test_no_warmup_and_the_floor():
    sched = WarmupDecay(1.0, 0, 10, "linear", final_fraction=0.25)
    assert float(sched(0)) == pytest.approx(1.0 - 0.75 / 10)
    assert float(sched(9)) == pytest.approx(0.25) and float(sched(1000)) == pytest.approx(0.25)


def test_serialises_alone_and_inside_a_saved_model(tmp_path):
    sched = WarmupDecay(1e-3, 5, 20, "linear", 0.1)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(sched))
    assert isinstance(clone, WarmupDecay) and clone.get_config() == sched.get_config()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(sched), loss="mse")
    model.fit(np.ones((8, 2), "float32"), np.ones((8, 1), "float32"), epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer._learning_rate.get_config() == sched.get_config()
    assert float(loaded.optimizer.learning_rate) == pytest.approx(_expected(2, 1e-3, 5, 20, "linear", 0.1))


def test_runs_under_xla():
    sched = WarmupDecay(1e-2, 3, 7, "cosine")
    fn = tf.function(lambda s: sched(s), jit_compile=True)
    assert float(fn(tf.constant(5, tf.int64))) == pytest.approx(_expected(5, 1e-2, 3, 7, "cosine", 0.0), rel=1e-6)


def test_bad_arguments():
    with pytest.raises(UnknownNameError, match="unknown decay 'step'"):
        WarmupDecay(1e-3, 10, decay="step")
    with pytest.raises(KerasGenError, match="peak_learning_rate > 0"):
        WarmupDecay(0.0, 10)
    with pytest.raises(KerasGenError, match="warmup_steps"):
        WarmupDecay(1e-3, -1)
    with pytest.raises(KerasGenError, match="decay_steps"):
        WarmupDecay(1e-3, 10, decay_steps=0)
    with pytest.raises(KerasGenError, match="final_fraction"):
        WarmupDecay(1e-3, 10, final_fraction=2.0)
    with pytest.raises(KerasGenError, match="inverse_sqrt"):
        WarmupDecay(1e-3, 0, decay="inverse_sqrt")
