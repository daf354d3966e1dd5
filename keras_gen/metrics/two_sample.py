"""Classifier two-sample test: can a freshly trained discriminator tell two samples apart?

Lopez-Paz & Oquab (2017), "Revisiting classifier two-sample tests": train a classifier
f to separate sample P (label 1) from sample Q (label 0) on one half of the data, and
score it on held-out samples of both.

Formula (balanced held-out accuracy, n_P and n_Q held-out points):

    acc = 1/2 [ 1/n_P sum_i 1[f(p_i) > 1/2] + 1/n_Q sum_j 1[f(q_j) <= 1/2] ]

If P = Q no classifier does better than chance: acc is 1/2 up to sampling noise (sd
about 1/2 sqrt(1/n_P + 1/n_Q) / sqrt(2) for a fixed f). The best possible value is the
Bayes accuracy 1/2 + TV(P, Q)/2, TV the total variation distance. So acc near 1/2 says
"indistinguishable" only when the same recipe does reach a higher accuracy on a pair
that differs: report it beside such a pair (a wrong generator), or a classifier that
learnt nothing would pass. This is the "fresh discriminator" check of the GAN
equilibrium (C2): the GAN's own D tells nothing once it has stopped learning, a fresh
one trained on the final samples does.
"""
import numpy as np

from keras_gen.errors import KerasGenError
from keras_gen.metrics.divergences import to_numpy


def _as_2d(x, name):
    x = to_numpy(x, name, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) == 0:
        raise KerasGenError(f"{name} must be non-empty samples [n, d] (or [n]), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise KerasGenError(f"{name} contains NaN or infinite values")
    return x


def two_sample_classifier(dim, hidden=(64, 64), seed=0, name="two_sample_classifier"):
    """An MLP x[dim] -> logit: Dense(h) LeakyReLU(0.2) per entry of `hidden`, then Dense(1)."""
    import keras

    x = keras.Input((int(dim),), name="x")
    h = x
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + i),
                               name=f"hidden{i}")(h)
        h = keras.layers.LeakyReLU(negative_slope=0.2, name=f"hidden{i}_lrelu")(h)
    logit = keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed + len(hidden)),
                               name="logit")(h)
    return keras.Model(x, logit, name=name)


def classifier_two_sample_accuracy(p_train, q_train, p_test, q_test, hidden=(64, 64), epochs=20, batch_size=256,
                                   learning_rate=3e-3, seed=0, verbose=0):
    """Held-out balanced accuracy of a fresh classifier trained to tell P from Q.

    Args:
        p_train, q_train: training samples of P and Q, [n, d] (or [n] for 1-D).
        p_test, q_test: held-out samples of P and Q (never used for training).
        hidden: units of the classifier's hidden layers (`two_sample_classifier`).
        epochs, batch_size, learning_rate: its training (Adam, binary cross-entropy;
            the two training samples are weighted to count equally).
        seed: seed of the initial weights and of the batch order.

    Inputs are standardised with the mean and std of the pooled training samples (a
    property of the test, not of either model), so one recipe works at any scale.

    Returns:
        The balanced accuracy on the held-out samples (a float in [0, 1]).
    """
    import keras
    import tensorflow as tf

    p_train, q_train = _as_2d(p_train, "p_train"), _as_2d(q_train, "q_train")
    p_test, q_test = _as_2d(p_test, "p_test"), _as_2d(q_test, "q_test")
    dims = {a.shape[1] for a in (p_train, q_train, p_test, q_test)}
    if len(dims) != 1:
        raise KerasGenError(f"the four samples must have one dimension, got {sorted(dims)}")
    pooled = np.concatenate([p_train, q_train])
    mean, std = pooled.mean(0), pooled.std(0) + 1e-8

    def scale(a):
        return ((a - mean) / std).astype(np.float32)

    x = np.concatenate([scale(p_train), scale(q_train)])
    y = np.concatenate([np.ones(len(p_train)), np.zeros(len(q_train))]).astype(np.float32)[:, None]
    # Equal total weight for the two samples, whatever their sizes.
    w = np.concatenate([np.full(len(p_train), len(x) / (2.0 * len(p_train))),
                        np.full(len(q_train), len(x) / (2.0 * len(q_train)))]).astype(np.float32)
    from keras_gen.data.batching import steady_prefetch

    ds = (tf.data.Dataset.from_tensor_slices((x, y, w)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
          .batch(batch_size).apply(steady_prefetch))
    model = two_sample_classifier(x.shape[1], hidden, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    model.fit(ds, epochs=int(epochs), verbose=verbose, shuffle=False)  # ds shuffles itself
    p_logit = model.predict(scale(p_test), batch_size=4096, verbose=0)[:, 0]
    q_logit = model.predict(scale(q_test), batch_size=4096, verbose=0)[:, 0]
    return float(0.5 * (np.mean(p_logit > 0) + np.mean(q_logit <= 0)))


def gaussian_bayes_accuracy(mu1, sigma1, mu2, sigma2, grid_points=200_001):
    """Bayes accuracy 1/2 + TV/2 of telling N(mu1, sigma1^2) from N(mu2, sigma2^2) (1-D, equal priors).

    Formula: TV = 1/2 integral |p1 - p2| dx, by the trapezoidal rule on mu +- 12 sigma.
    """
    lo = min(mu1 - 12 * sigma1, mu2 - 12 * sigma2)
    hi = max(mu1 + 12 * sigma1, mu2 + 12 * sigma2)
    x = np.linspace(lo, hi, int(grid_points))

    def pdf(m, s):
        return np.exp(-0.5 * ((x - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))

    tv = 0.5 * np.trapezoid(np.abs(pdf(mu1, sigma1) - pdf(mu2, sigma2)), x)
    return float(0.5 + 0.5 * tv)
