"""AIS of an RBM's log partition function against exact enumeration and closed forms."""
import itertools

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from keras_gen.errors import KerasGenError
from keras_gen.metrics.ais import (
    ais_log_likelihood,
    ais_log_partition,
    annealing_schedule,
    base_rate_visible_bias,
    independent_bernoulli_log_likelihood,
    rbm_free_energy,
)


def random_rbm(n_visible, n_hidden, scale, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(0, 1, n_visible), rng.normal(0, 1, n_hidden))


def exact_log_z(W, b, c):
    """log sum_{v,h} exp(v.W.h + b.v + c.h) by enumerating every (v, h) pair."""
    v = np.array(list(itertools.product([0.0, 1.0], repeat=len(b))))
    h = np.array(list(itertools.product([0.0, 1.0], repeat=len(c))))
    return float(logsumexp((v @ W @ h.T) + (v @ b)[:, None] + (h @ c)[None, :]))


def exact_log_z_over_hidden(W, b, c):
    """log sum_h exp(c.h) prod_i (1 + exp(b_i + (W h)_i)): the visible units summed out."""
    h = np.array(list(itertools.product([0.0, 1.0], repeat=len(c))))
    return float(logsumexp(h @ c + np.logaddexp(0, h @ W.T + b).sum(1)))


def test_ais_matches_the_exact_log_partition_of_a_small_rbm():
    W, b, c = random_rbm(8, 5, scale=1.0)
    exact = exact_log_z(W, b, c)
    ais = ais_log_partition((W, b, c), n_temperatures=1000, n_chains=200, n_runs=3, seed=1)
    assert abs(ais["log_z"] - exact) < 0.05
    assert len(ais["log_z_runs"]) == 3 and all(abs(z - exact) < 0.1 for z in ais["log_z_runs"])
    assert 0 < ais["log_z_sd"] < 0.1 and 0 < ais["log_z_se"] < 0.05
    assert ais["log_weights"].shape == (600,) and ais["n_temperatures"] == 1000
    # the same seed gives the same estimate
    again = ais_log_partition((W, b, c), n_temperatures=1000, n_chains=200, n_runs=3, seed=1)
    assert again["log_z"] == ais["log_z"]


def test_ais_with_a_data_base_rate_on_a_strongly_coupled_rbm():
    # Larger weights (a peaked distribution) and a base model fitted to samples of it.
    W, b, c = random_rbm(16, 10, scale=1.5, seed=2)
    exact = exact_log_z_over_hidden(W, b, c)
    assert exact_log_z_over_hidden(*random_rbm(6, 4, 1.0)) == pytest.approx(exact_log_z(*random_rbm(6, 4, 1.0)))
    rng = np.random.default_rng(0)
    data = (rng.random((200, 16)) < 0.4).astype(float)
    ais = ais_log_partition((W, b, c), base_rate_visible_bias(data), n_temperatures=2000, n_chains=200,
                            n_runs=2, seed=0)
    assert abs(ais["log_z"] - exact) < 0.1


def test_without_weights_every_chain_has_the_exact_weight():
    # W = 0 and b_A = b: p*_beta(v) = exp(b.v) prod_j (1 + e^{beta c_j}), so each chain's
    # weight is prod_j (1 + e^{c_j}) / 2 whatever it samples, and log Z is exact.
    rng = np.random.default_rng(3)
    b, c = rng.normal(size=30), rng.normal(size=7)
    W = np.zeros((30, 7))
    ais = ais_log_partition((W, b, c), base_visible_bias=b, n_temperatures=50, n_chains=4, n_runs=2)
    closed_form = np.logaddexp(0, b).sum() + np.logaddexp(0, c).sum()
    assert ais["log_z"] == pytest.approx(closed_form, abs=1e-6)  # float32 activations
    np.testing.assert_allclose(ais["log_weights"], np.logaddexp(0, c).sum() - 7 * np.log(2), atol=1e-6)
    assert ais["log_z_sd"] == pytest.approx(0.0, abs=1e-6)


def test_log_likelihood_of_a_keras_rbm_matches_its_exact_likelihood():
    from keras_gen.models import RBM

    rbm = RBM(n_visible=9, n_hidden=4, init_std=0.8, seed=5)
    v = (np.random.default_rng(1).random((20, 9)) < 0.5).astype(np.float32)
    exact = rbm.log_likelihood(v)
    np.testing.assert_allclose(rbm_free_energy(rbm, v), rbm.free_energy(v).numpy(), rtol=1e-5, atol=1e-5)
    ll, ais = ais_log_likelihood(rbm, v, n_temperatures=1000, n_chains=200, n_runs=2, seed=0)
    np.testing.assert_allclose(ll, exact, atol=0.05)
    assert ais["mean_log_likelihood_runs"] == pytest.approx(
        [-rbm_free_energy(rbm, v).mean() - z for z in ais["log_z_runs"]])


def test_annealing_schedule_follows_salakhutdinov_and_murray():
    betas = annealing_schedule(14_500)
    assert len(betas) == 14_501 and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    assert (betas < 0.5).sum() == 500 and ((betas >= 0.5) & (betas < 0.9)).sum() == 4_000
    assert (betas >= 0.9).sum() == 10_001  # 10,000 intermediate ones and beta_K = 1
    small = annealing_schedule(10)
    assert len(small) == 11 and small[0] == 0 and small[-1] == 1 and np.all(np.diff(small) > 0)
    with pytest.raises(KerasGenError, match="at least 3 temperatures"):
        annealing_schedule(2)


def test_independent_bernoulli_log_likelihood_against_scipy():
    rng = np.random.default_rng(0)
    train = (rng.random((50, 12)) < np.linspace(0.0, 0.9, 12)).astype(float)
    test = (rng.random((7, 3, 4)) < 0.5).astype(float)  # any shape per row; flattened
    p = (train.sum(0) + 1.0) / (50 + 2.0)
    want = stats.bernoulli.logpmf(test.reshape(7, -1), p).sum(1)
    np.testing.assert_allclose(independent_bernoulli_log_likelihood(train, test), want, rtol=1e-12)
    np.testing.assert_allclose(base_rate_visible_bias(train), np.log(p / (1 - p)), rtol=1e-12)
    with pytest.raises(KerasGenError, match="binary"):
        independent_bernoulli_log_likelihood(train, test * 0.5)
    with pytest.raises(KerasGenError, match="train rows 12"):
        independent_bernoulli_log_likelihood(train, np.ones((2, 5)))


def test_bad_arguments_are_one_line_errors():
    W, b, c = random_rbm(4, 3, 1.0)
    with pytest.raises(KerasGenError, match="base_visible_bias must be 4 finite numbers"):
        ais_log_partition((W, b, c), base_visible_bias=np.zeros(5))
    with pytest.raises(KerasGenError, match="n_chains must be a positive integer"):
        ais_log_partition((W, b, c), n_chains=0)
    with pytest.raises(KerasGenError, match="RBM parameters"):
        ais_log_partition((W, b[:2], c))
