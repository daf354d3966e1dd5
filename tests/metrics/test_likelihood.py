"""IWAE NLL on a linear-Gaussian VAE, whose marginal likelihood is known in closed form:
p(x) = N(b, W W^T + s^2 I) for z ~ N(0, I), x | z ~ N(W z + b, s^2 I)."""
import numpy as np
import pytest
from scipy import stats

from keras_gen.errors import KerasGenError
from keras_gen.metrics.likelihood import importance_sampled_bounds, iwae_nll, negative_elbo
from keras_gen.models.vae import VAE, mlp_decoder, mlp_encoder

D, LATENT, NOISE_VAR = 5, 2, 0.3


def linear_gaussian(posterior_shift=0.0, posterior_var_scale=1.0):
    """A VAE with linear networks; its encoder is the exact posterior unless perturbed."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(D, LATENT)))
    w = q * np.array([2.0, 0.7])  # orthogonal columns -> diagonal exact posterior
    b = rng.normal(size=D)
    post_var = 1.0 / (1.0 + (w**2).sum(axis=0) / NOISE_VAR)
    enc_kernel = w * post_var / NOISE_VAR  # z_mean = (x - b) @ enc_kernel
    model = VAE(mlp_encoder((D,), LATENT, hidden=()), mlp_decoder(LATENT, (D,), hidden=()),
                likelihood="gaussian", decoder_log_var=float(np.log(NOISE_VAR)))
    model.encoder.get_layer("z_mean").set_weights([enc_kernel, -b @ enc_kernel + posterior_shift])
    model.encoder.get_layer("z_log_var").set_weights(
        [np.zeros((D, LATENT)), np.log(post_var * posterior_var_scale)])
    model.decoder.get_layer("decoder_output").set_weights([w.T, b])
    x = rng.multivariate_normal(b, w @ w.T + NOISE_VAR * np.eye(D), size=400).astype(np.float32)
    log_px = stats.multivariate_normal.logpdf(x, b, w @ w.T + NOISE_VAR * np.eye(D))
    return model, x, log_px


def test_exact_posterior_gives_the_exact_likelihood_at_any_k():
    model, x, log_px = linear_gaussian()
    for k in (1, 7):
        got = importance_sampled_bounds(model, x, k=k)["log_likelihood"]
        np.testing.assert_allclose(got, log_px, atol=2e-4)
    np.testing.assert_allclose(iwae_nll(model, x, k=3), -log_px.mean(), atol=2e-4)


def test_iwae_bound_tightens_towards_the_likelihood():
    model, x, log_px = linear_gaussian(posterior_shift=0.4, posterior_var_scale=2.5)
    true_nll = -log_px.mean()
    elbo_gap = negative_elbo(model, x, k=200) - true_nll
    l_1 = importance_sampled_bounds(model, x, k=1, seed=1)["log_likelihood"]
    gap_1 = -l_1.mean() - true_nll
    se_1 = l_1.std() / np.sqrt(len(l_1))
    gap_500 = iwae_nll(model, x, k=500, seed=1) - true_nll
    assert elbo_gap > 0.3  # a wrong posterior costs nats (KL(q || p(z|x)) > 0)
    assert abs(gap_1 - elbo_gap) < 4 * se_1  # L_1 is a one-sample ELBO
    assert 0 <= gap_500 < 0.05 < elbo_gap / 5


def test_estimates_are_reproducible_and_k_is_checked():
    model, x, _ = linear_gaussian(posterior_shift=0.2)
    a = importance_sampled_bounds(model, x, k=10, seed=3, batch_size=400)
    b = importance_sampled_bounds(model, x, k=10, seed=3, batch_size=400)
    np.testing.assert_array_equal(a["log_likelihood"], b["log_likelihood"])
    with pytest.raises(KerasGenError, match="k must be"):
        iwae_nll(model, x, k=0)
