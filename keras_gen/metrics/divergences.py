"""Information measures of discrete distributions and the exact 1-D Wasserstein distance.

The notes (001, S3) build GAN theory from these: information content `-log p`, entropy,
cross-entropy, KL and Jensen-Shannon divergence; WGAN (S5) replaces JS by the
Wasserstein-1 distance `W(p, q) = inf_gamma E||x - y||`.

All functions take NumPy arrays or tensors, compute in float64 with the natural log and
return Python floats. A discrete distribution is an array of non-negative probabilities
that sum to 1; it may have any shape (a joint table is fine) and its entries are read
together as one distribution. Conventions: `0 log 0 = 0`; a divergence with `q = 0`
where `p > 0` is `inf`.
"""
import numpy as np

from keras_gen.errors import KerasGenError

# Probabilities stored in float32 sum to 1 only up to ~1e-7 per entry; allow for that.
SUM_TOLERANCE = 1e-5


def to_numpy(x, name="x", dtype=np.float64):
    """A float64 NumPy copy of an array, tensor or variable; rejects NaN and inf."""
    if hasattr(x, "numpy"):  # eager tensors and variables
        x = x.numpy()
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise KerasGenError(f"{name} must be numeric, got {type(x).__name__}") from err
    if not np.all(np.isfinite(arr)):
        raise KerasGenError(f"{name} contains NaN or inf")
    return arr


def check_distribution(p, name="p"):
    """`p` as a float64 array after checking it is a probability distribution."""
    p = to_numpy(p, name)
    if p.size == 0:
        raise KerasGenError(f"{name} is empty")
    if np.any(p < 0):
        raise KerasGenError(f"{name} has negative probabilities (min {p.min():.3g})")
    total = p.sum()
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise KerasGenError(f"{name} does not sum to 1 (sum {total:.6g})")
    return p


def _check_pair(p, q):
    p = check_distribution(p, "p")
    q = check_distribution(q, "q")
    if p.shape != q.shape:
        raise KerasGenError(f"p and q have different shapes: {p.shape} vs {q.shape}")
    return p, q


def _xlogy(x, y):
    """x * log(y) with 0 * log(anything) = 0 (and -inf where x > 0, y = 0)."""
    out = np.zeros_like(x)
    pos = x > 0
    with np.errstate(divide="ignore"):
        out[pos] = x[pos] * np.log(y[pos])
    return out


def entropy(p):
    """Shannon entropy in nats.

    Formula: `H(p) = -sum_i p_i log p_i`, with `0 log 0 = 0`.
    """
    p = check_distribution(p)
    return float(-_xlogy(p, p).sum())


def cross_entropy(p, q):
    """Cross-entropy of `q` relative to `p`, in nats.

    Formula: `H(p, q) = -sum_i p_i log q_i = H(p) + KL(p || q)`; `inf` if some `q_i = 0`
    where `p_i > 0`.
    """
    p, q = _check_pair(p, q)
    return float(-_xlogy(p, q).sum())


def kl_divergence(p, q):
    """Kullback-Leibler divergence `KL(p || q)` in nats.

    Formula: `KL(p || q) = sum_i p_i log(p_i / q_i)`; terms with `p_i = 0` are 0, and
    the result is `inf` if some `q_i = 0` where `p_i > 0` (p is not absolutely
    continuous with respect to q).
    """
    p, q = _check_pair(p, q)
    if np.any((q == 0) & (p > 0)):
        return float("inf")
    pos = p > 0
    return float(np.sum(p[pos] * (np.log(p[pos]) - np.log(q[pos]))))


def js_divergence(p, q):
    """Jensen-Shannon divergence in nats, between 0 (p = q) and log 2 (disjoint supports).

    Formula: `JS(p, q) = KL(p || m)/2 + KL(q || m)/2` with `m = (p + q)/2`. It is always
    finite: m > 0 wherever p or q is.
    """
    p, q = _check_pair(p, q)
    m = 0.5 * (p + q)
    pos_p, pos_q = p > 0, q > 0
    kl_pm = np.sum(p[pos_p] * (np.log(p[pos_p]) - np.log(m[pos_p])))
    kl_qm = np.sum(q[pos_q] * (np.log(q[pos_q]) - np.log(m[pos_q])))
    # Rounding can push a value a hair outside [0, log 2]; the bounds are exact.
    return float(np.clip(0.5 * (kl_pm + kl_qm), 0.0, np.log(2.0)))


def _check_samples_1d(x, name):
    x = to_numpy(x, name)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise KerasGenError(f"{name} must be 1-D samples of shape [n] or [n, 1], got {x.shape}")
    if x.size == 0:
        raise KerasGenError(f"{name} is empty")
    return x


def wasserstein_1d(u, v):
    """Exact Wasserstein-1 distance between two 1-D empirical distributions.

    Formula: `W1(u, v) = integral |F_u(t) - F_v(t)| dt`, the area between the two
    empirical CDFs, computed by sorting (O((n + m) log(n + m))). With n = m it equals
    `mean_i |u_(i) - v_(i)|` over the sorted samples (the monotone coupling is optimal
    in 1-D).

    Args:
        u, v: samples, shape [n] and [m] (or [n, 1] and [m, 1]); n and m may differ.
    """
    u = np.sort(_check_samples_1d(u, "u"))
    v = np.sort(_check_samples_1d(v, "v"))
    if u.size == v.size:
        return float(np.mean(np.abs(u - v)))
    grid = np.sort(np.concatenate([u, v]))
    widths = np.diff(grid)
    cdf_u = np.searchsorted(u, grid[:-1], side="right") / u.size
    cdf_v = np.searchsorted(v, grid[:-1], side="right") / v.size
    return float(np.sum(np.abs(cdf_u - cdf_v) * widths))
