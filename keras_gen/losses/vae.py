"""VAE losses (S12, S13): per-example reconstruction terms and the Gaussian KL.

Every function returns one value per example (shape `[b]`, summed over the event
dimensions), so a `train_step` can average over the *global* batch with
`keras_gen.training.strategy.global_mean` and weight the KL by beta.

The negative ELBO of a VAE with q(z|x) = N(mu, diag(exp(log_var))) and p(z) = N(0, I)
(Kingma & Welling 2014, "Auto-Encoding Variational Bayes", eq. 10) is

    -ELBO(x) = E_q[-log p(x|z)] + KL(q(z|x) || p(z))
             ~ reconstruction(x, decoder(z)) + gaussian_kl(mu, log_var),  z = mu + sigma * eps.

beta-VAE (Higgins et al. 2017) multiplies the KL term by beta.
"""
import math

import tensorflow as tf

LOG_2PI = math.log(2.0 * math.pi)


def _sum_per_example(values):
    values = tf.convert_to_tensor(values)
    if values.shape.rank is not None and values.shape.rank <= 1:
        return values
    return tf.reduce_sum(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


def bernoulli_reconstruction(x, logits):
    """Negative Bernoulli log-likelihood -log p(x | logits), summed per example.

    Formula: `-sum_i [x_i log s(l_i) + (1 - x_i) log(1 - s(l_i))]`, s the sigmoid,
    computed stably from the logits `l` (`max(l, 0) - l x + log(1 + exp(-|l|))`).
    `x` may be binary or in [0, 1] (then it is the cross-entropy, not a likelihood).

    Args:
        x: targets in [0, 1], shape `[b, ...]`.
        logits: decoder logits, same shape.

    Returns:
        `[b]` nats per example.
    """
    x = tf.cast(x, logits.dtype)
    return _sum_per_example(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))


def gaussian_reconstruction(x, mean, log_var=0.0):
    """Negative Gaussian log-likelihood -log N(x; mean, exp(log_var)), summed per example.

    Formula: `0.5 * sum_i [(x_i - m_i)^2 / exp(v_i) + v_i + log(2 pi)]`.

    Args:
        x: real-valued targets `[b, ...]`.
        mean: decoder means, same shape.
        log_var: log variance, broadcastable to `x` (a scalar for a fixed variance).

    Returns:
        `[b]` nats per example.
    """
    x = tf.cast(x, mean.dtype)
    log_var = tf.cast(log_var, mean.dtype) + tf.zeros_like(mean)
    per_dim = 0.5 * (tf.square(x - mean) * tf.exp(-log_var) + log_var + LOG_2PI)
    return _sum_per_example(per_dim)


def gaussian_kl(mean, log_var, prior_mean=0.0, prior_log_var=0.0):
    """KL(N(mean, diag exp(log_var)) || N(prior_mean, diag exp(prior_log_var))) per example.

    Closed form (per dimension, summed):
    `0.5 * [exp(v - v_p) + (m - m_p)^2 / exp(v_p) - 1 - (v - v_p)]`;
    with the standard normal prior `0.5 * [exp(v) + m^2 - 1 - v]` (Kingma & Welling,
    appendix B).

    Returns:
        `[b]` nats per example.
    """
    mean = tf.convert_to_tensor(mean)
    log_var = tf.cast(log_var, mean.dtype)
    prior_mean = tf.cast(prior_mean, mean.dtype)
    prior_log_var = tf.cast(prior_log_var, mean.dtype)
    diff = log_var - prior_log_var
    per_dim = 0.5 * (tf.exp(diff) + tf.square(mean - prior_mean) * tf.exp(-prior_log_var) - 1.0 - diff)
    return _sum_per_example(per_dim)


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, diag exp(log_var)), summed over the last axis.

    Formula: `-0.5 * sum_j [(z_j - m_j)^2 / exp(v_j) + v_j + log(2 pi)]`.
    Broadcasts (e.g. `z` of shape `[k, b, d]` against `mean` of shape `[b, d]`).
    """
    z = tf.convert_to_tensor(z)
    mean = tf.cast(mean, z.dtype)
    log_var = tf.cast(log_var, z.dtype)
    return -0.5 * tf.reduce_sum(tf.square(z - mean) * tf.exp(-log_var) + log_var + LOG_2PI, axis=-1)
