"""Divergences against closed forms and independent formulas."""
import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.metrics import cross_entropy, entropy, js_divergence, kl_divergence, wasserstein_1d


def _gaussian_pmf(grid, mu, sigma):
    p = scipy.stats.norm.pdf(grid, mu, sigma)
    return p / p.sum()


def test_kl_of_two_gaussians_on_a_fine_grid_matches_the_closed_form():
    grid = np.linspace(-15.0, 15.0, 60001)
    for (m1, s1), (m2, s2) in [((0.0, 1.0), (1.0, 1.0)), ((0.5, 0.7), (-1.0, 2.0)), ((0, 2.0), (0, 1.0))]:
        closed = np.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
        value = kl_divergence(_gaussian_pmf(grid, m1, s1), _gaussian_pmf(grid, m2, s2))
        assert value == pytest.approx(closed, rel=1e-6, abs=1e-9)


def test_entropy_of_a_discretised_gaussian_is_the_differential_entropy_minus_log_bin():
    grid = np.linspace(-12.0, 12.0, 24001)
    dx = grid[1] - grid[0]
    sigma = 1.3
    expected = 0.5 * np.log(2 * np.pi * np.e * sigma**2) - np.log(dx)
    assert entropy(_gaussian_pmf(grid, 0.0, sigma)) == pytest.approx(expected, rel=1e-7)


def test_small_cases_by_hand():
    p = np.array([0.5, 0.25, 0.25, 0.0])
    q = np.array([0.25, 0.25, 0.25, 0.25])
    assert entropy(p) == pytest.approx(1.5 * np.log(2))
    assert entropy(q) == pytest.approx(np.log(4))
    assert kl_divergence(p, q) == pytest.approx(0.5 * np.log(2))  # log 4 - 1.5 log 2
    assert cross_entropy(p, q) == pytest.approx(np.log(4))
    # H(p, q) = H(p) + KL(p || q)
    assert cross_entropy(p, q) == pytest.approx(entropy(p) + kl_divergence(p, q))
    # Agrees with scipy (which uses the same conventions).
    assert kl_divergence(q, np.array([0.1, 0.2, 0.3, 0.4])) == pytest.approx(
        scipy.stats.entropy(q, [0.1, 0.2, 0.3, 0.4])
    )


def test_kl_is_infinite_where_q_vanishes_on_the_support_of_p():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([1.0, 0.0, 0.0])
    assert kl_divergence(p, q) == float("inf")
    assert cross_entropy(p, q) == float("inf")
    assert kl_divergence(q, p) == pytest.approx(np.log(2))  # p = 0 where q = 0 is fine


def test_js_bounds_and_formula():
    p = np.array([0.2, 0.3, 0.5, 0.0, 0.0])
    q = np.array([0.0, 0.0, 0.0, 0.6, 0.4])
    assert js_divergence(p, p) == 0.0
    assert js_divergence(p, q) == pytest.approx(np.log(2), abs=1e-15)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
        m = 0.5 * (a + b)
        expected = 0.5 * np.sum(a * np.log(a / m)) + 0.5 * np.sum(b * np.log(b / m))
        value = js_divergence(a, b)
        assert value == pytest.approx(expected, rel=1e-12)
        assert 0.0 < value < np.log(2)
        assert value == pytest.approx(js_divergence(b, a))  # symmetric
        # scipy's jensenshannon is the square root of JS (natural log by default)
        assert np.sqrt(value) == pytest.approx(scipy.spatial.distance.jensenshannon(a, b), rel=1e-10)


def test_accepts_tensors_and_returns_python_floats():
    p = tf.constant([0.25, 0.75], tf.float32)
    q = tf.constant([0.5, 0.5], tf.float32)
    for value in (entropy(p), kl_divergence(p, q), js_divergence(p, q), cross_entropy(p, q)):
        assert type(value) is float
    assert kl_divergence(p, q) == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5), rel=1e-6)


@pytest.mark.parametrize(
    "p, q, message",
    [
        ([0.5, 0.5], [0.2, 0.3, 0.5], "different shapes"),
        ([1.2, -0.2], [0.5, 0.5], "negative"),
        ([0.5, 0.6], [0.5, 0.5], "does not sum to 1"),
        ([0.5, np.nan], [0.5, 0.5], "NaN"),
    ],
)
def test_bad_distributions_are_named(p, q, message):
    with pytest.raises(KerasGenError, match=message):
        kl_divergence(p, q)
    with pytest.raises(KerasGenError, match=message):
        js_divergence(p, q)


def test_wasserstein_1d_matches_scipy():
    rng = np.random.default_rng(1)
    for n, m in [(100, 100), (37, 120), (1, 5), (500, 333)]:
        u = rng.normal(size=n)
        v = rng.standard_t(3, size=m) + 0.4
        assert wasserstein_1d(u, v) == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-10)
    # A shift by t moves every sample by t.
    u = rng.uniform(size=50)
    assert wasserstein_1d(u, u + 0.7) == pytest.approx(0.7)
    assert wasserstein_1d(u[:, None], u[::-1]) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(KerasGenError, match="1-D samples"):
        wasserstein_1d(np.zeros((4, 2)), u)
