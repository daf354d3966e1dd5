"""VAE losses against independent NumPy/SciPy formulas, the KL also against Monte Carlo."""
import numpy as np
import pytest
from scipy import stats

from keras_gen.losses.vae import (
    bernoulli_reconstruction,
    gaussian_kl,
    gaussian_log_density,
    gaussian_reconstruction,
)

RNG = np.random.default_rng(0)


def test_bernoulli_reconstruction_matches_log_likelihood():
    x = (RNG.random((5, 4, 3)) > 0.5).astype(np.float32)
    logits = RNG.normal(0, 3, (5, 4, 3)).astype(np.float32)
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = -stats.bernoulli.logpmf(x, p).reshape(5, -1).sum(axis=1)
    got = bernoulli_reconstruction(x, logits).numpy()
    assert got.shape == (5,)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_bernoulli_reconstruction_is_stable_for_large_logits():
    x = np.array([[1.0, 0.0]], np.float32)
    logits = np.array([[-200.0, 200.0]], np.float32)  # both badly wrong: 200 nats each
    np.testing.assert_allclose(bernoulli_reconstruction(x, logits).numpy(), [400.0], rtol=1e-6)


def test_gaussian_reconstruction_matches_scipy():
    x = RNG.normal(size=(4, 6)).astype(np.float32)
    mean = RNG.normal(size=(4, 6)).astype(np.float32)
    for log_var in (0.0, -1.3):
        expected = -stats.norm.logpdf(x, mean, np.exp(0.5 * log_var)).sum(axis=1)
        np.testing.assert_allclose(gaussian_reconstruction(x, mean, log_var).numpy(), expected, rtol=1e-5)


def _kl_full_matrix(mq, vq, mp, vp):
    """KL between Gaussians with the general (matrix) formula."""
    sq, sp = np.diag(vq), np.diag(vp)
    sp_inv = np.linalg.inv(sp)
    d = mp - mq
    k = len(mq)
    return 0.5 * (np.trace(sp_inv @ sq) + d @ sp_inv @ d - k + np.log(np.linalg.det(sp) / np.linalg.det(sq)))


def test_gaussian_kl_matches_closed_form():
    mq = RNG.normal(size=(3, 4))
    lq = RNG.normal(0, 0.5, (3, 4))
    expected_std = [_kl_full_matrix(mq[i], np.exp(lq[i]), np.zeros(4), np.ones(4)) for i in range(3)]
    np.testing.assert_allclose(gaussian_kl(mq.astype(np.float32), lq.astype(np.float32)).numpy(),
                               expected_std, rtol=1e-5)
    mp = RNG.normal(size=(3, 4))
    lp = RNG.normal(0, 0.5, (3, 4))
    expected = [_kl_full_matrix(mq[i], np.exp(lq[i]), mp[i], np.exp(lp[i])) for i in range(3)]
    got = gaussian_kl(mq, lq, mp, lp).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_gaussian_kl_matches_monte_carlo():
    mean = np.array([[0.7, -1.2, 0.1]])
    log_var = np.array([[-0.5, 0.4, -1.5]])
    std = np.exp(0.5 * log_var[0])
    z = mean[0] + std * np.random.default_rng(1).standard_normal((200_000, 3))
    log_ratio = stats.norm.logpdf(z, mean[0], std).sum(axis=1) - stats.norm.logpdf(z).sum(axis=1)
    mc, se = log_ratio.mean(), log_ratio.std() / np.sqrt(len(z))
    got = gaussian_kl(mean, log_var).numpy()[0]
    assert abs(got - mc) < 4 * se, (got, mc, se)


def test_gaussian_kl_is_zero_at_the_prior():
    np.testing.assert_allclose(gaussian_kl(np.zeros((2, 5)), np.zeros((2, 5))).numpy(), [0.0, 0.0], atol=1e-7)


def test_gaussian_log_density_matches_scipy_and_broadcasts():
    mean = RNG.normal(size=(2, 3))
    log_var = RNG.normal(0, 0.3, (2, 3))
    z = RNG.normal(size=(5, 2, 3))
    expected = np.stack([
        [stats.multivariate_normal.logpdf(z[k, b], mean[b], np.diag(np.exp(log_var[b]))) for b in range(2)]
        for k in range(5)
    ])
    got = gaussian_log_density(z, mean, log_var).numpy()
    assert got.shape == (5, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("fn", [bernoulli_reconstruction, gaussian_reconstruction])
def test_reconstruction_is_per_example(fn):
    x = np.zeros((7, 2, 2, 1), np.float32)
    assert fn(x, np.zeros_like(x)).shape == (7,)
