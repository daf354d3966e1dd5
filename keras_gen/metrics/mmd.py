"""Maximum mean discrepancy (MMD) with Gaussian kernels, in NumPy (S16, notes 001).

The GMMN of the notes trains a generator by minimising

    MMD^2 = 1/N^2 sum k(x_i, x_i') - 2/(NM) sum k(x_i, y_j) + 1/M^2 sum k(y_j, y_j'),
    k(x, y) = exp(-||x - y||^2 / (2 sigma^2)).

That is the biased (V-statistic) estimate. The unbiased estimate (Gretton et al., 2012,
eq. 3) leaves the diagonal i = i' and j = j' out of the within-sample sums:

    MMD^2_u = 1/(N(N-1)) sum_{i != i'} k(x_i, x_i') + 1/(M(M-1)) sum_{j != j'} k(y_j, y_j')
              - 2/(NM) sum_{i,j} k(x_i, y_j)

It can be slightly negative when the two samples come from one distribution. With several
bandwidths the kernel is the sum of the Gaussian kernels (a characteristic kernel that
sees several scales at once, as GMMN uses).
"""
import hashlib

import numpy as np

from keras_gen.errors import KerasGenError
from keras_gen.metrics.divergences import to_numpy


def check_features(x, name="x"):
    """Samples as a float64 [n, d] array (a 1-D input is n scalar samples)."""
    x = to_numpy(x, name)
    if x.ndim == 1:
        x = x[:, None]
    elif x.ndim > 2:
        x = x.reshape(x.shape[0], -1)  # images etc.: flatten each sample
    if x.ndim != 2 or x.shape[0] == 0:
        raise KerasGenError(f"{name} must be samples of shape [n, d] with n > 0, got {x.shape}")
    return x


def check_pair_of_samples(x, y):
    x, y = check_features(x, "x"), check_features(y, "y")
    if x.shape[1] != y.shape[1]:
        raise KerasGenError(
            f"x and y have different feature sizes: {x.shape[1]} vs {y.shape[1]}"
        )
    return x, y


def squared_distances(x, y):
    """Matrix of ||x_i - y_j||^2, shape [n, m] (clipped at 0 against rounding)."""
    d2 = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * (x @ y.T)
    return np.maximum(d2, 0.0)


def median_bandwidth(x, y):
    """The median heuristic: the median distance between distinct pooled samples."""
    x, y = check_pair_of_samples(x, y)
    z = np.concatenate([x, y])
    d2 = squared_distances(z, z)[np.triu_indices(len(z), k=1)]
    med = float(np.sqrt(np.median(d2))) if d2.size else 0.0
    return med if med > 0 else 1.0


def _check_bandwidths(bandwidths, x=None, y=None):
    if isinstance(bandwidths, str):
        if bandwidths != "median":
            raise KerasGenError(f"unknown bandwidths {bandwidths!r}; use numbers or 'median'")
        return np.array([median_bandwidth(x, y)])
    bw = np.atleast_1d(to_numpy(bandwidths, "bandwidths"))
    if bw.ndim != 1 or bw.size == 0 or np.any(bw <= 0):
        raise KerasGenError(f"bandwidths must be one or more positive numbers, got {bandwidths!r}")
    return bw


def gaussian_kernel(x, y, bandwidths=1.0):
    """Gaussian kernel matrix `K_ij = sum_s exp(-||x_i - y_j||^2 / (2 sigma_s^2))`.

    Args:
        x, y: samples [n, d] and [m, d] (1-D inputs are scalar samples).
        bandwidths: sigma, one positive number or a sequence of them (summed kernels).

    Returns:
        float64 array [n, m].
    """
    x, y = check_pair_of_samples(x, y)
    bw = _check_bandwidths(bandwidths)
    d2 = squared_distances(x, y)
    return sum(np.exp(-d2 / (2.0 * s * s)) for s in bw)


def mmd2_from_kernels(k_xx, k_yy, k_xy, unbiased=True):
    """MMD^2 from the three kernel matrices (any kernel)."""
    n, m = k_xx.shape[0], k_yy.shape[0]
    return _mmd2_from_sums((k_xx.sum(), np.trace(k_xx), n), (k_yy.sum(), np.trace(k_yy), m), k_xy.mean(), unbiased)


def _mmd2_from_sums(xx, yy, xy_mean, unbiased):
    """MMD^2 from (sum, trace, count) of each within-sample kernel and the cross mean."""
    (sxx, txx, n), (syy, tyy, m) = xx, yy
    if unbiased:
        if n < 2 or m < 2:
            raise KerasGenError(f"the unbiased MMD^2 needs at least 2 samples on each side, got {n} and {m}")
        xx = (sxx - txx) / (n * (n - 1))
        yy = (syy - tyy) / (m * (m - 1))
    else:
        xx = sxx / (n * n)
        yy = syy / (m * m)
    return float(xx + yy - 2.0 * xy_mean)


# Rows of x per block in `_kernel_sum`: a block's [rows, m] distances stay a few MB, so the
# exponentials run in cache instead of streaming whole [n, m] matrices through memory
# (5x less time for 5,000 x 5,000 points and seven bandwidths).
_BLOCK_ROWS = 256


def _kernel_sum(x, y, bw, same=False):
    """(sum, trace) of the summed Gaussian kernel matrix of x and y, computed block by block;
    equal to `gaussian_kernel(x, y, bw)`'s sum and trace up to rounding. The trace is only
    computed when `same` (x is y)."""
    coefs = -0.5 / (bw * bw)
    yy = (y * y).sum(1)
    total = trace = 0.0
    for start in range(0, len(x), _BLOCK_ROWS):
        xb = x[start:start + _BLOCK_ROWS]
        d2 = (xb * xb).sum(1)[:, None] + yy[None, :] - 2.0 * (xb @ y.T)
        np.maximum(d2, 0.0, out=d2)
        k = np.empty_like(d2)
        for c in coefs:
            np.multiply(d2, c, out=k)
            np.exp(k, out=k)
            total += k.sum()
            if same:
                trace += np.diagonal(k, offset=start).sum()
    return total, trace


# The within-sample term of the reference sample (y) is the same every time a run scores
# new samples against its held-out split: kept for the last few (y, bandwidths) pairs, keyed
# by a digest of y's values, so changing y in place cannot return a stale sum.
_REFERENCE_TERMS = {}


def _within_term(y, bw):
    key = (y.shape, hashlib.blake2b(np.ascontiguousarray(y).tobytes(), digest_size=16).hexdigest(), bw.tobytes())
    if key not in _REFERENCE_TERMS:
        if len(_REFERENCE_TERMS) >= 8:
            _REFERENCE_TERMS.pop(next(iter(_REFERENCE_TERMS)))
        _REFERENCE_TERMS[key] = (*_kernel_sum(y, y, bw, same=True), len(y))
    return _REFERENCE_TERMS[key]


def mmd2(x, y, bandwidths=1.0, unbiased=True):
    """Squared maximum mean discrepancy between samples x and y with Gaussian kernels.

    Args:
        x: samples [n, d] (or [n] scalars, or [n, ...] flattened per sample).
        y: samples [m, d]; the reference sample (a held-out split): its within-sample
            term is remembered for the next call with the same y and bandwidths.
        bandwidths: sigma of the Gaussian kernel `exp(-||x-y||^2 / (2 sigma^2))`: one
            positive number, a sequence (the kernels are summed), or `"median"` for the
            median pooled pairwise distance.
        unbiased: the U-statistic without the diagonal terms (default) or the biased
            V-statistic of the notes' formula (always >= 0).

    Returns:
        MMD^2 as a Python float. Memory is O((n + m) * 256): the kernel matrices are
        summed block by block, never held whole.
    """
    x, y = check_pair_of_samples(x, y)
    bw = _check_bandwidths(bandwidths, x, y).astype(np.float64)
    xx = (*_kernel_sum(x, x, bw, same=True), len(x))
    xy_sum, _ = _kernel_sum(x, y, bw)
    return _mmd2_from_sums(xx, _within_term(y, bw), xy_sum / (len(x) * len(y)), unbiased)
