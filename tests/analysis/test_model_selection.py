"""Model selection helpers against scikit-learn and NumPy's own polynomial fit, and
updates per epoch against what Keras's fit runs."""
import math

import keras
import numpy as np
import pytest

from keras_gen.analysis.model_selection import (cross_validation_mse, fit_polynomial, k_fold_indices, mse,
                                                polynomial_features, predict_polynomial, steps_per_epoch)
from keras_gen.errors import KerasGenError


def test_k_fold_indices_are_scikit_learns_unshuffled_folds():
    from sklearn.model_selection import KFold

    for n, k in [(30, 5), (31, 5), (10, 10), (7, 3)]:
        ours = k_fold_indices(n, k)
        theirs = list(KFold(n_splits=k).split(np.arange(n)))
        assert len(ours) == k
        for (tr, va), (tr2, va2) in zip(ours, theirs):
            np.testing.assert_array_equal(tr, tr2) and np.testing.assert_array_equal(va, va2)
        assert sorted(np.concatenate([va for _, va in ours]).tolist()) == list(range(n))  # each point validates once
    with pytest.raises(KerasGenError, match="2 <= k <= n"):
        k_fold_indices(4, 5)


def test_polynomial_fit_equals_numpys_monomial_fit():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 25)
    y = np.sin(2 * np.pi * x) + rng.normal(0, 0.3, 25)
    grid = np.linspace(0, 1, 50)
    for degree in (0, 1, 3, 7):
        ours = predict_polynomial(fit_polynomial(x, y, degree), grid)
        theirs = np.polynomial.polynomial.polyval(grid, np.polynomial.polynomial.polyfit(x, y, degree))
        np.testing.assert_allclose(ours, theirs, atol=1e-7)
    assert polynomial_features(np.array([0.0, 0.5, 1.0]), 2).tolist() == [[1, -1, 1], [1, 0, -0.5], [1, 1, 1]]
    # a line through points on a line is exact
    assert mse(2 * x + 1, predict_polynomial(fit_polynomial(x, 2 * x + 1, 1), x)) < 1e-20


def test_cross_validation_mse_equals_scikit_learns_with_the_same_folds():
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 30)
    y = np.sin(2 * np.pi * x) + rng.normal(0, 0.3, 30)
    for degree in (1, 3, 5):
        pipe = make_pipeline(PolynomialFeatures(degree), LinearRegression(fit_intercept=False))
        theirs = -cross_val_score(pipe, x[:, None], y, cv=KFold(5), scoring="neg_mean_squared_error").mean()
        assert cross_validation_mse(x, y, degree, 5) == pytest.approx(theirs, rel=1e-6)


def test_steps_per_epoch_is_what_keras_fit_runs():
    assert [steps_per_epoch(n, b) for n, b in [(3500, 60), (3500, 64), (30, 30), (0, 4)]] == [59, 55, 1, 0]
    assert steps_per_epoch(3500, 60, drop_remainder=True) == 58
    with pytest.raises(KerasGenError, match="batch_size >= 1"):
        steps_per_epoch(10, 0)

    class Count(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    for n, b in [(50, 8), (50, 50), (50, 64)]:
        count = Count()
        model.fit(np.zeros((n, 2)), np.zeros(n), batch_size=b, epochs=1, verbose=0, callbacks=[count])
        assert count.steps == steps_per_epoch(n, b) == math.ceil(n / b)
