"""The classifier two-sample test against closed-form Bayes accuracies."""
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.metrics import classifier_two_sample_accuracy, gaussian_bayes_accuracy


def test_gaussian_bayes_accuracy_closed_form():
    from scipy.stats import norm

    # Equal widths: TV = 2 Phi(d / 2) - 1 for means d standard deviations apart.
    assert gaussian_bayes_accuracy(0, 1, 1, 1) == pytest.approx(0.5 + 0.5 * (2 * norm.cdf(0.5) - 1), abs=1e-7)
    assert gaussian_bayes_accuracy(4, 0.5, 4, 0.5) == pytest.approx(0.5, abs=1e-9)
    # Same mean, widths 1 and 2: the densities cross at +-c, c^2 = 2 ln 2 / (1 - 1/4).
    c = np.sqrt(2 * np.log(2) / 0.75)
    tv = (2 * norm.cdf(c) - 1) - (2 * norm.cdf(c / 2) - 1)
    assert gaussian_bayes_accuracy(0, 1, 0, 2) == pytest.approx(0.5 + 0.5 * tv, abs=1e-7)


def _gauss(rng, mu, sigma, n):
    return (mu + sigma * rng.standard_normal(n)).astype(np.float32)


def test_fresh_classifier_reaches_bayes_accuracy_and_chance():
    rng = np.random.default_rng(0)
    n = 3000
    p_train, p_test = _gauss(rng, 4, 0.5, n), _gauss(rng, 4, 0.5, n)
    # A wrong width: the classifier must find the two-sided (quadratic) boundary.
    q_train, q_test = _gauss(rng, 4, 1.0, n), _gauss(rng, 4, 1.0, n)
    acc = classifier_two_sample_accuracy(p_train, q_train, p_test, q_test, epochs=8, seed=1)
    bayes = gaussian_bayes_accuracy(4, 0.5, 4, 1.0)  # 0.661
    assert bayes - 0.03 <= acc <= bayes + 3 * 0.5 / np.sqrt(2 * n)
    # The same distribution: chance, up to sampling noise (sd 0.0065 at 2 x 3000 points).
    same_train, same_test = _gauss(rng, 4, 0.5, n), _gauss(rng, 4, 0.5, n)
    acc_same = classifier_two_sample_accuracy(p_train, same_train, p_test, same_test, epochs=8, seed=1)
    assert abs(acc_same - 0.5) < 0.03
    # Far apart: perfect.
    far = classifier_two_sample_accuracy(p_train[:500], p_train[:500] + 10, p_test[:500], p_test[:500] + 10,
                                         epochs=5, seed=1)
    assert far == 1.0


def test_bad_inputs():
    x = np.zeros((10, 2), np.float32)
    with pytest.raises(KerasGenError, match="one dimension"):
        classifier_two_sample_accuracy(x, x, x, np.zeros((10, 3)))
    with pytest.raises(KerasGenError, match="NaN"):
        classifier_two_sample_accuracy(x, x, x, np.full((10, 2), np.nan))
    with pytest.raises(KerasGenError, match="non-empty"):
        classifier_two_sample_accuracy(x, x, x, np.zeros((0, 2)))
