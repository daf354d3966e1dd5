"""f-GAN objectives: adversarial training on any f-divergence (S11).

Reference: Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers
using Variational Divergence Minimization" (Table 1: the generator functions f;
Table 2: output activations g_f and conjugates f*; Section 3.2: the alternative G update).

An f-divergence (f convex, f(1) = 0) and its variational lower bound:

    D_f(P || Q) = E_Q[ f(p(x) / q(x)) ]
               >= sup_T  E_P[T(x)] - E_Q[f*(T(x))],     f*(t) = sup_u (u t - f(u)),

with equality at T*(x) = f'(p(x) / q(x)). The discriminator outputs a raw value v = V(x)
and T = g_f(v), where the output activation g_f maps R onto the domain of f*. The
saddle-point objective (eq. 6)

    F(theta, omega) = E_P[g_f(V(x))] + E_Q[-f*(g_f(V(x)))]

is maximised by D (omega) and minimised by G (theta). Per example, as a loss to minimise:

    D:  loss_i = -g_f(v_real_i) + f*(g_f(v_fake_i))            (batch mean: -F)
    G:  "minimax"         loss_i = -f*(g_f(v_fake_i))        (F's G-dependent part)
        "non_saturating"  loss_i = -g_f(v_fake_i)            (Section 3.2: maximise
                                                              E_Q[g_f(V(G(z)))])

The second G loss is the paper's analogue of the non-saturating GAN loss; for the "gan"
divergence it is exactly `-log D(G(z))`, and the D loss is the minimax GAN loss.

Every divergence carries f*(g_f(v)) composed in closed form, which is what the losses
use: the composition is tamer than its parts (reverse KL: g_f(v) = -exp(-v) but
f*(g_f(v)) = v - 1; Jensen-Shannon: log(2 - 2 sigmoid(v)) becomes softplus(v) - log 2).
Logs of sigmoids are written with softplus. Some objectives are exponential by nature
(KL's f*(g_f(v)) = exp(v - 1), reverse KL's g_f(v) = -exp(-v)): they overflow float32
for |v| beyond ~88, as the divergence itself would; nothing is clipped.

All losses return per-example `[batch]` values (trailing axes of the outputs averaged,
as in `keras_gen.losses.gan`); average them over the global batch.
"""
import math

import tensorflow as tf

from keras_gen.errors import unknown_name
from keras_gen.losses.gan import per_example

LOG2 = math.log(2.0)


class FDivergence:
    """One f-divergence of the f-GAN tables: f, f', g_f, f* and f*(g_f(.)).

    Attributes:
        name: the key in `F_DIVERGENCES`.
        f: the generator function, `u > 0 -> R`, convex, f(1) = 0 (the "gan" entry's
            f(1) = -log 4, as in the paper: its D_f is 2 JS - log 4).
        f_prime: its derivative; `f_prime(p / q)` is the optimal T*(x).
        activation: g_f, the discriminator's output activation `R -> dom f*`.
        conjugate: the Fenchel conjugate f*(t) on `dom f*`.
        conjugate_of_activation: `f*(g_f(v))` in a numerically stable closed form.
        domain: `dom f*` in words (for docs and errors).
    """

    def __init__(self, name, f, f_prime, activation, conjugate, conjugate_of_activation, domain):
        self.name = name
        self.f = f
        self.f_prime = f_prime
        self.activation = activation
        self.conjugate = conjugate
        self.conjugate_of_activation = conjugate_of_activation
        self.domain = domain

    def __repr__(self):
        return f"FDivergence({self.name!r})"


def _t(x):
    x = tf.convert_to_tensor(x)
    return x if x.dtype.is_floating else tf.cast(x, tf.float32)


# === Kullback-Leibler: f(u) = u log u ===
def kl_f(u):
    """Formula: `f(u) = u log u` (with 0 log 0 = 0)."""
    u = _t(u)
    return tf.math.xlogy(u, u)


def kl_f_prime(u):
    """Formula: `f'(u) = 1 + log u`."""
    return 1.0 + tf.math.log(_t(u))


def kl_activation(v):
    """Formula: `g_f(v) = v` (dom f* = R)."""
    return _t(v)


def kl_conjugate(t):
    """Formula: `f*(t) = exp(t - 1)`."""
    return tf.exp(_t(t) - 1.0)


def kl_conjugate_of_activation(v):
    """Formula: `f*(g_f(v)) = exp(v - 1)`."""
    return tf.exp(_t(v) - 1.0)


# === Reverse Kullback-Leibler: f(u) = -log u ===
def reverse_kl_f(u):
    """Formula: `f(u) = -log u`."""
    return -tf.math.log(_t(u))


def reverse_kl_f_prime(u):
    """Formula: `f'(u) = -1 / u`."""
    return -1.0 / _t(u)


def reverse_kl_activation(v):
    """Formula: `g_f(v) = -exp(-v)` (dom f* = R_-, t < 0)."""
    return -tf.exp(-_t(v))


def reverse_kl_conjugate(t):
    """Formula: `f*(t) = -1 - log(-t)`, t < 0."""
    return -1.0 - tf.math.log(-_t(t))


def reverse_kl_conjugate_of_activation(v):
    """Formula: `f*(g_f(v)) = -1 - log(exp(-v)) = v - 1` (no exp)."""
    return _t(v) - 1.0


# === Jensen-Shannon (f-GAN's, without the 1/2): f(u) = u log u - (u + 1) log((u + 1) / 2) ===
def js_f(u):
    """Formula: `f(u) = u log u - (u + 1) log((u + 1) / 2)`; D_f = 2 JS(P, Q)."""
    u = _t(u)
    return tf.math.xlogy(u, u) - (u + 1.0) * (tf.math.log1p(u) - LOG2)


def js_f_prime(u):
    """Formula: `f'(u) = log(2u / (u + 1))`."""
    u = _t(u)
    return LOG2 + tf.math.log(u) - tf.math.log1p(u)


def js_activation(v):
    """Formula: `g_f(v) = log 2 - log(1 + exp(-v)) = log 2 - softplus(-v)` (t < log 2)."""
    return LOG2 - tf.nn.softplus(-_t(v))


def js_conjugate(t):
    """Formula: `f*(t) = -log(2 - exp(t))`, t < log 2."""
    return -tf.math.log(2.0 - tf.exp(_t(t)))


def js_conjugate_of_activation(v):
    """Formula: `f*(g_f(v)) = -log(2 - 2 sigmoid(v)) = softplus(v) - log 2`."""
    return tf.nn.softplus(_t(v)) - LOG2


# === Pearson chi-squared: f(u) = (u - 1)^2 ===
def pearson_f(u):
    """Formula: `f(u) = (u - 1)^2`."""
    return tf.square(_t(u) - 1.0)


def pearson_f_prime(u):
    """Formula: `f'(u) = 2 (u - 1)`."""
    return 2.0 * (_t(u) - 1.0)


def pearson_activation(v):
    """Formula: `g_f(v) = v` (dom f* = R)."""
    return _t(v)


def pearson_conjugate(t):
    """Formula: `f*(t) = t^2 / 4 + t`.

    This is the conjugate of (u - 1)^2 taken over all real u, as in the paper's table;
    over u >= 0 only it would be -1 for t < -2 (the maximiser 1 + t/2 turns negative).
    """
    t = _t(t)
    return 0.25 * tf.square(t) + t


def pearson_conjugate_of_activation(v):
    """Formula: `f*(g_f(v)) = v^2 / 4 + v`."""
    return pearson_conjugate(v)


# === The original GAN's: f(u) = u log u - (u + 1) log(u + 1) ===
def gan_f(u):
    """Formula: `f(u) = u log u - (u + 1) log(u + 1)`; D_f = 2 JS(P, Q) - log 4."""
    u = _t(u)
    return tf.math.xlogy(u, u) - (u + 1.0) * tf.math.log1p(u)


def gan_f_prime(u):
    """Formula: `f'(u) = log(u / (u + 1))`."""
    u = _t(u)
    return tf.math.log(u) - tf.math.log1p(u)


def gan_activation(v):
    """Formula: `g_f(v) = -log(1 + exp(-v)) = log sigmoid(v) = -softplus(-v)` (t < 0)."""
    return -tf.nn.softplus(-_t(v))


def gan_conjugate(t):
    """Formula: `f*(t) = -log(1 - exp(t))`, t < 0 (written `-log(-expm1(t))`)."""
    return -tf.math.log(-tf.math.expm1(_t(t)))


def gan_conjugate_of_activation(v):
    """Formula: `f*(g_f(v)) = -log(1 - sigmoid(v)) = softplus(v)`."""
    return tf.nn.softplus(_t(v))


F_DIVERGENCES = {
    "kl": FDivergence("kl", kl_f, kl_f_prime, kl_activation, kl_conjugate,
                      kl_conjugate_of_activation, "all real t"),
    "reverse_kl": FDivergence("reverse_kl", reverse_kl_f, reverse_kl_f_prime, reverse_kl_activation,
                              reverse_kl_conjugate, reverse_kl_conjugate_of_activation, "t < 0"),
    "js": FDivergence("js", js_f, js_f_prime, js_activation, js_conjugate,
                      js_conjugate_of_activation, "t < log 2"),
    "pearson": FDivergence("pearson", pearson_f, pearson_f_prime, pearson_activation, pearson_conjugate,
                           pearson_conjugate_of_activation, "all real t"),
    "gan": FDivergence("gan", gan_f, gan_f_prime, gan_activation, gan_conjugate,
                       gan_conjugate_of_activation, "t < 0"),
}

FGAN_GENERATOR_LOSSES = ("non_saturating", "minimax")


def get_divergence(divergence):
    """The `FDivergence` called `divergence` (or `divergence` itself if it is one)."""
    if isinstance(divergence, FDivergence):
        return divergence
    if divergence not in F_DIVERGENCES:
        raise unknown_name("f-divergence", divergence, F_DIVERGENCES)
    return F_DIVERGENCES[divergence]


def fgan_discriminator_loss(real_outputs, fake_outputs, divergence="js"):
    """The f-GAN discriminator's (variational function's) loss, per example.

    Formula:
        loss_i = -(g_f(v_real_i) - f*(g_f(v_fake_i)))

    with v the discriminator's raw outputs. Its batch mean is minus the variational
    lower bound `E_P[g_f(V)] - E_Q[f*(g_f(V))] <= D_f(P || Q)`, so `-mean(loss)` is D's
    current estimate of the divergence. Real and fake batches pair up example by
    example (same size).
    """
    div = get_divergence(divergence)
    r = per_example(real_outputs)
    f = per_example(fake_outputs)
    return -(div.activation(r) - div.conjugate_of_activation(f))


def fgan_generator_loss(fake_outputs, divergence="js", generator_loss="non_saturating"):
    """The f-GAN generator's loss, per example.

    Formula:
        "minimax":         loss_i = -f*(g_f(v_fake_i))   (G minimises F of eq. 6)
        "non_saturating":  loss_i = -g_f(v_fake_i)       (Section 3.2: G maximises
                                                          E_Q[g_f(V(G(z)))])
    """
    div = get_divergence(divergence)
    f = per_example(fake_outputs)
    if generator_loss == "non_saturating":
        return -div.activation(f)
    if generator_loss == "minimax":
        return -div.conjugate_of_activation(f)
    raise unknown_name("f-GAN generator loss", generator_loss, FGAN_GENERATOR_LOSSES)
