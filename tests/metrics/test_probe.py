"""Linear probe (C10): the L-BFGS softmax regression against scikit-learn's and closed forms."""
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.metrics import LogisticProbe, linear_probe_accuracy, random_projection


def _blobs(n=300, d=5, k=3, seed=0, spread=1.0):
    rng = np.random.RandomState(seed)
    centers = rng.normal(size=(k, d)) * 3
    y = rng.randint(0, k, n)
    return centers[y] + rng.normal(size=(n, d)) * spread, y


def test_matches_scikit_learn_multinomial_logistic_regression():
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y = _blobs(spread=3.0)
    l2 = 0.05
    probe = LogisticProbe(l2=l2, max_iter=2000).fit(x, y)
    xs = (x - x.mean(0)) / x.std(0)
    # sklearn minimises C * sum_i CE_i + ||W||^2 / 2, i.e. our objective times n C with C = 1 / (n l2)
    ref = sklearn.LogisticRegression(C=1.0 / (len(x) * l2), tol=1e-10, max_iter=5000).fit(xs, y)
    np.testing.assert_allclose(probe.predict_proba(x), ref.predict_proba(xs), atol=1e-4)
    np.testing.assert_allclose(probe.coef_, ref.coef_.T, atol=1e-3)


def test_gradient_is_that_of_the_stated_objective_at_the_optimum():
    """At the optimum the penalised gradient vanishes: X^T (P - Y) / n + l2 W = 0, sum(P - Y) = 0."""
    x, y = _blobs(spread=3.0, seed=1)
    probe = LogisticProbe(l2=0.1, max_iter=2000).fit(x, y)
    xs = (x - x.mean(0)) / x.std(0)
    err = probe.predict_proba(x) - np.eye(3)[y]
    np.testing.assert_allclose(xs.T @ err / len(x) + 0.1 * probe.coef_, 0, atol=1e-4)
    np.testing.assert_allclose(err.sum(0), 0, atol=1e-3)


def test_accuracy_on_separable_and_on_pure_noise_labels():
    x, y = _blobs(n=400, spread=0.3)
    assert linear_probe_accuracy(x[:300], y[:300], x[300:], y[300:]) == 1.0
    rng = np.random.RandomState(2)
    noise = rng.normal(size=(2000, 5))
    labels = rng.randint(0, 2, 2000)
    acc = linear_probe_accuracy(noise[:1000], labels[:1000], noise[1000:], labels[1000:])
    assert 0.44 < acc < 0.56  # chance: 1000 test labels, sd 0.016


def test_random_projection_preserves_distances_on_average():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(50, 400))
    p = random_projection(x, 200, seed=3)
    assert p.shape == (50, 200)
    d_in = np.linalg.norm(x[:25] - x[25:], axis=1)
    d_out = np.linalg.norm(p[:25] - p[25:], axis=1)
    assert abs(np.mean(d_out / d_in) - 1) < 0.05  # E||xR||^2 / dim = ||x||^2
    np.testing.assert_array_equal(p, random_projection(x, 200, seed=3))


def test_bad_inputs_raise_clear_errors():
    x, y = _blobs(n=20)
    with pytest.raises(KerasGenError, match="NaN"):
        LogisticProbe().fit(np.where(x > 2, np.nan, x), y)
    with pytest.raises(KerasGenError, match="one label each"):
        LogisticProbe().fit(x, y[:-1])
    with pytest.raises(KerasGenError, match="integer class ids"):
        LogisticProbe().fit(x, y.astype(float))
    with pytest.raises(KerasGenError, match="l2"):
        LogisticProbe(l2=-1)
