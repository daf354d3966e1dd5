"""Mode coverage and sample quality on toy mixtures (ring of 8 Gaussians, 5x5 grid).

The protocol of the unrolled-GAN / VEEGAN / WGAN-GP toy studies: assign each generated
sample to its nearest mode centre; it is *high quality* if it lies within 3 standard
deviations of that centre (Euclidean distance <= 3 sigma); a mode is *covered* when it
received at least `min_count` high-quality samples. Mode collapse shows as few modes
covered, a generator that spreads mass between modes as a low high-quality share.
"""
import numpy as np

from keras_gen.errors import KerasGenError
from keras_gen.metrics.divergences import to_numpy


def _check(samples, centers, sigma, num_sigmas):
    x = to_numpy(samples, "samples")
    c = to_numpy(centers, "centers")
    if x.ndim == 1:
        x = x[:, None]
    if c.ndim == 1:
        c = c[:, None]
    if x.ndim != 2 or c.ndim != 2 or x.shape[0] == 0 or c.shape[0] == 0:
        raise KerasGenError(f"samples and centers must be [n, d] and [k, d], got {x.shape} and {c.shape}")
    if x.shape[1] != c.shape[1]:
        raise KerasGenError(f"samples are {x.shape[1]}-D but centers are {c.shape[1]}-D")
    s = to_numpy(sigma, "sigma")
    if s.ndim > 1 or (s.ndim == 1 and s.size != c.shape[0]) or np.any(s <= 0):
        raise KerasGenError(f"sigma must be a positive number or one per centre ({c.shape[0]}), got {sigma!r}")
    s = np.broadcast_to(s, (c.shape[0],))
    if num_sigmas <= 0:
        raise KerasGenError(f"num_sigmas must be positive, got {num_sigmas}")
    return x, c, s


def assign_to_modes(samples, centers, sigma, num_sigmas=3.0):
    """For each sample: the index of its nearest centre and whether it is high quality.

    Args:
        samples: [n, d] generated samples.
        centers: [k, d] mode centres.
        sigma: the modes' standard deviation (a number, or [k], one per mode).
        num_sigmas: the quality radius in standard deviations (3 by the usual protocol).

    Returns:
        `(nearest [n] int, high_quality [n] bool)`.
    """
    x, c, s = _check(samples, centers, sigma, num_sigmas)
    d2 = (x * x).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2.0 * x @ c.T
    nearest = np.argmin(d2, axis=1)
    dist = np.sqrt(np.maximum(d2[np.arange(len(x)), nearest], 0.0))
    return nearest, dist <= num_sigmas * s[nearest]


def mode_counts(samples, centers, sigma, num_sigmas=3.0):
    """Number of high-quality samples at each mode, an int array [k]."""
    nearest, good = assign_to_modes(samples, centers, sigma, num_sigmas)
    return np.bincount(nearest[good], minlength=np.shape(to_numpy(centers, "centers"))[0])


def modes_covered(samples, centers, sigma, min_count=1, num_sigmas=3.0):
    """How many modes received at least `min_count` high-quality samples (an int).

    Args:
        samples: [n, d] generated samples; centers: [k, d]; sigma: the modes' std.
        min_count: high-quality samples a mode needs to count as covered. 1 is the
            literal reading; raise it (e.g. to a few percent of n/k) so that a handful of
            stray samples does not count as a mode.
        num_sigmas: quality radius in standard deviations.
    """
    if min_count < 1:
        raise KerasGenError(f"min_count must be >= 1, got {min_count}")
    return int(np.sum(mode_counts(samples, centers, sigma, num_sigmas) >= min_count))


def high_quality_share(samples, centers, sigma, num_sigmas=3.0):
    """Fraction of samples within `num_sigmas` standard deviations of their nearest mode."""
    _, good = assign_to_modes(samples, centers, sigma, num_sigmas)
    return float(np.mean(good))
