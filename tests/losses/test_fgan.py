"""f-GAN objectives against independent NumPy/SciPy: conjugates by numerical sup, the
variational bound on discrete distributions, and the losses' formulas."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import optimize
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from keras_gen.errors import KerasGenError
from keras_gen.losses import fgan as F
from keras_gen.losses import gan as gan_losses

NAMES = ("kl", "reverse_kl", "js", "pearson", "gan")


# --- the test's own NumPy formulas (Nowozin et al. 2016, Tables 1 and 2) ---
def np_f(name, u):
    u = np.asarray(u, dtype=np.float64)
    return {
        "kl": lambda: u * np.log(u),
        "reverse_kl": lambda: -np.log(u),
        "js": lambda: u * np.log(u) - (u + 1) * np.log((u + 1) / 2),
        "pearson": lambda: (u - 1) ** 2,
        "gan": lambda: u * np.log(u) - (u + 1) * np.log(u + 1),
    }[name]()


def np_activation(name, v):
    v = np.asarray(v, dtype=np.float64)
    return {
        "kl": lambda: v,
        "reverse_kl": lambda: -np.exp(-v),
        "js": lambda: np.log(2) - np.log(1 + np.exp(-v)),
        "pearson": lambda: v,
        "gan": lambda: -np.log(1 + np.exp(-v)),
    }[name]()


def np_inverse_activation(name, t):
    t = np.asarray(t, dtype=np.float64)
    return {
        "kl": lambda: t,
        "reverse_kl": lambda: -np.log(-t),
        "js": lambda: -np.log(2 * np.exp(-t) - 1),
        "pearson": lambda: t,
        "gan": lambda: -np.log(np.exp(-t) - 1),
    }[name]()


def np_conjugate(name, t):
    t = np.asarray(t, dtype=np.float64)
    return {
        "kl": lambda: np.exp(t - 1),
        "reverse_kl": lambda: -1 - np.log(-t),
        "js": lambda: -np.log(2 - np.exp(t)),
        "pearson": lambda: t ** 2 / 4 + t,
        "gan": lambda: -np.log(1 - np.exp(t)),
    }[name]()


# Points inside dom f* where the sup over u is attained at an interior u.
T_POINTS = {
    "kl": [-2.0, -0.5, 0.0, 0.7, 2.0],
    "reverse_kl": [-5.0, -1.0, -0.2],
    "js": [-3.0, -1.0, 0.0, 0.5, 0.69],
    "pearson": [-1.5, 0.0, 1.0, 3.0],
    "gan": [-3.0, -1.0, -0.1],
}


def numerical_conjugate(name, t):
    """sup_u (u t - f(u)) by bounded scalar maximisation (over log u for f on u > 0)."""
    if name == "pearson":  # f on all of R, as in the paper's table
        res = optimize.minimize_scalar(lambda u: -(u * t - np_f(name, u)), bounds=(-50, 50), method="bounded",
                                       options={"xatol": 1e-10})
    else:
        res = optimize.minimize_scalar(lambda s: -(np.exp(s) * t - np_f(name, np.exp(s))), bounds=(-30, 30),
                                       method="bounded", options={"xatol": 1e-10})
    return -res.fun


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_is_the_supremum_of_ut_minus_f(name):
    div = F.get_divergence(name)
    t = np.array(T_POINTS[name])
    got = div.conjugate(tf.constant(t)).numpy()
    want = [numerical_conjugate(name, ti) for ti in t]
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_generator_function_and_its_derivative(name):
    div = F.get_divergence(name)
    u = np.array([0.05, 0.3, 1.0, 2.5, 40.0])
    np.testing.assert_allclose(div.f(tf.constant(u)).numpy(), np_f(name, u), rtol=1e-10, atol=1e-12)
    # f(1) = 0, except for the GAN's f, whose divergence is 2 JS - log 4 (the paper's table).
    f1 = float(div.f(tf.constant(1.0, tf.float64)))
    assert f1 == pytest.approx(-np.log(4) if name == "gan" else 0.0, abs=1e-12)
    h = 1e-6
    numeric = (np_f(name, u + h) - np_f(name, u - h)) / (2 * h)
    np.testing.assert_allclose(div.f_prime(tf.constant(u)).numpy(), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_activation_maps_onto_the_conjugate_domain_and_composes(name):
    div = F.get_divergence(name)
    v = np.linspace(-8, 8, 33)
    t = div.activation(tf.constant(v)).numpy()
    np.testing.assert_allclose(t, np_activation(name, v), rtol=1e-10)
    np.testing.assert_allclose(div.conjugate_of_activation(tf.constant(v)).numpy(), np_conjugate(name, t), rtol=1e-9,
                               atol=1e-12)
    upper = {"reverse_kl": 0.0, "js": np.log(2), "gan": 0.0}.get(name, np.inf)
    assert np.all(t < upper)


# Two distributions on five points, none of them zero.
P = np.array([0.1, 0.4, 0.2, 0.05, 0.25])
Q = np.array([0.3, 0.1, 0.2, 0.25, 0.15])


def bound(div, t):
    """E_P[T] - E_Q[f*(T)] with the library's conjugate."""
    return float(np.sum(P * t) - np.sum(Q * div.conjugate(tf.constant(t)).numpy()))


@pytest.mark.parametrize("name", NAMES)
def test_variational_bound_is_tight_at_the_optimal_critic(name):
    div = F.get_divergence(name)
    d_f = float(np.sum(Q * np_f(name, P / Q)))
    h = 1e-6  # T*(x) = f'(p(x)/q(x)), here by finite differences of the test's own f
    t_star = (np_f(name, P / Q + h) - np_f(name, P / Q - h)) / (2 * h)
    assert bound(div, t_star) == pytest.approx(d_f, rel=1e-6, abs=1e-8)
    # Through the discriminator's parametrisation: v* with g_f(v*) = T*.
    v_star = np_inverse_activation(name, t_star)
    through_v = float(np.sum(P * div.activation(tf.constant(v_star)).numpy())
                      - np.sum(Q * div.conjugate_of_activation(tf.constant(v_star)).numpy()))
    assert through_v == pytest.approx(d_f, rel=1e-6, abs=1e-8)
    # Any other critic gives less.
    rng = np.random.RandomState(0)
    for _ in range(20):
        v = v_star + rng.normal(scale=0.5, size=v_star.shape)
        assert bound(div, np_activation(name, v)) < d_f


def test_divergences_match_scipy_closed_forms():
    kl = entropy(P, Q)  # sum p log(p/q)
    js = jensenshannon(P, Q) ** 2  # scipy returns the square root of JS (natural log)
    rkl = entropy(Q, P)
    chi2 = np.sum((P - Q) ** 2 / Q)
    closed = {"kl": kl, "reverse_kl": rkl, "js": 2 * js, "pearson": chi2, "gan": 2 * js - np.log(4)}
    for name, want in closed.items():
        div = F.get_divergence(name)
        got = float(np.sum(Q * div.f(tf.constant(P / Q)).numpy()))
        assert got == pytest.approx(want, rel=1e-10), name


RNG = np.random.RandomState(1)
REAL = RNG.normal(size=(9, 1)) * 2
FAKE = RNG.normal(size=(9, 1)) * 2


@pytest.mark.parametrize("name", NAMES)
def test_losses_match_numpy_formulas(name):
    g_r, g_f = np_activation(name, REAL[:, 0]), np_activation(name, FAKE[:, 0])
    np.testing.assert_allclose(F.fgan_discriminator_loss(REAL, FAKE, name).numpy(),
                               -(g_r - np_conjugate(name, g_f)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F.fgan_generator_loss(FAKE, name, "minimax").numpy(), -np_conjugate(name, g_f),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F.fgan_generator_loss(FAKE, name, "non_saturating").numpy(), -g_f, rtol=1e-9,
                               atol=1e-12)
    # Trailing axes are averaged, as in keras_gen.losses.gan.
    assert F.fgan_discriminator_loss(np.tile(REAL, (1, 3)), FAKE, name).shape == (9,)


def test_gan_divergence_is_the_original_gan():
    np.testing.assert_allclose(F.fgan_discriminator_loss(REAL, FAKE, "gan").numpy(),
                               gan_losses.minimax_discriminator_loss(REAL, FAKE).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.fgan_generator_loss(FAKE, "gan", "non_saturating").numpy(),
                               gan_losses.non_saturating_generator_loss(FAKE).numpy(), rtol=1e-12)
    np.testing.assert_allclose(F.fgan_generator_loss(FAKE, "gan", "minimax").numpy(),
                               gan_losses.minimax_generator_loss(FAKE).numpy(), rtol=1e-12)


# The largest |v| for which each objective is representable in float32 (KL's exp(v - 1)
# and reverse KL's exp(-v) are exponential by nature); the log-sigmoid ones are unbounded.
LARGE = {"kl": 80.0, "reverse_kl": 80.0, "js": 1e4, "pearson": 1e4, "gan": 1e4}


@pytest.mark.parametrize("name", NAMES)
def test_losses_and_gradients_are_finite_for_large_outputs(name):
    big = tf.constant([[-LARGE[name]], [LARGE[name]], [0.0]], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(big)
        losses = [F.fgan_discriminator_loss(big, big, name),
                  F.fgan_generator_loss(big, name, "minimax"),
                  F.fgan_generator_loss(big, name, "non_saturating")]
        total = tf.add_n([tf.reduce_sum(x) for x in losses])
    for x in losses:
        assert np.all(np.isfinite(x.numpy())), name
    assert np.all(np.isfinite(tape.gradient(total, big).numpy())), name


def test_composed_conjugate_stays_finite_where_the_naive_one_overflows():
    v = tf.constant([200.0])
    rkl, js = F.get_divergence("reverse_kl"), F.get_divergence("js")
    # f*(g_f(v)) = v - 1 for reverse KL, softplus(v) - log 2 for JS.
    np.testing.assert_allclose(rkl.conjugate_of_activation(v).numpy(), [199.0])
    np.testing.assert_allclose(js.conjugate_of_activation(v).numpy(), [200.0 - np.log(2)], rtol=1e-6)
    assert not np.isfinite(rkl.conjugate(rkl.activation(v)).numpy()[0])
    assert not np.isfinite(js.conjugate(js.activation(v)).numpy()[0])


def test_unknown_names_raise_one_line_errors():
    with pytest.raises(KerasGenError, match="f-divergence 'hellinger'.*js"):
        F.get_divergence("hellinger")
    with pytest.raises(KerasGenError, match="f-divergence"):
        F.fgan_discriminator_loss(REAL, FAKE, "tv")
    with pytest.raises(KerasGenError, match="f-GAN generator loss"):
        F.fgan_generator_loss(FAKE, "kl", "hinge")
    assert set(F.F_DIVERGENCES) == set(NAMES)
