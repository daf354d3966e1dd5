"""Sample-quality scores on classifier features (S18, notes 001/002): FID, IS and KID.

* Frechet distance (FID when the features are Inception's pool layer; "domain FID" with
  keras_gen's digit classifier): the Frechet / Wasserstein-2 distance between Gaussians
  fitted to two feature sets,

      d^2 = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

  The usual code calls `scipy.linalg.sqrtm(S_a @ S_b)`: a Schur decomposition of a
  non-symmetric matrix, complex round-off that has to be discarded, and warnings on
  singular covariances. Here `Tr (S_a S_b)^(1/2)` is computed from symmetric matrices
  only: `S_a S_b` is similar to `M = S_a^(1/2) S_b S_a^(1/2)` (conjugate it by
  `S_a^(1/2)`), which is symmetric positive semi-definite, so

      Tr (S_a S_b)^(1/2) = sum_i sqrt(lambda_i(M)).

  Any factor `S_a = F F^T` gives a matrix `F^T S_b F` with the same eigenvalues; the
  Cholesky factor is the cheapest and is used when a covariance is positive definite,
  the eigendecomposition square root otherwise (see `trace_sqrt_product`). Real, stable,
  and faster than `sqrtm` at d = 2048 (`benchmarks/fid_speed.py`: 7.4x with one BLAS
  thread, 4-5x with two OpenBLAS threads on a 2-core machine busy with other jobs).
* Inception score (Salimans et al., 2016): `IS = exp(E_x KL(p(y|x) || p(y)))`, between 1
  (every sample gets the same class distribution) and K (confident and uniform over K
  classes), averaged over `splits` disjoint parts of the samples.
* Kernel inception distance (Binkowski et al., 2018): the unbiased MMD^2 between feature
  sets with the cubic polynomial kernel `k(x, y) = (x.y / d + 1)^3`, averaged over random
  subsets. Unlike FID it has an unbiased estimator, so small sample sizes compare fairly.
"""
import numpy as np
import scipy.linalg
import scipy.linalg.blas

from keras_gen.errors import KerasGenError
from keras_gen.metrics.divergences import SUM_TOLERANCE, to_numpy
from keras_gen.metrics.mmd import check_pair_of_samples, mmd2_from_kernels


def _symmetric(a):
    return 0.5 * (a + a.T)


def sqrt_psd(matrix):
    """Square root of a symmetric positive semi-definite matrix by eigendecomposition.

    Formula: `S^(1/2) = V diag(sqrt(w)) V^T` for `S = V diag(w) V^T`; eigenvalues below
    round-off level (including the small negative ones of a singular covariance) count
    as 0.
    """
    w, v = np.linalg.eigh(_symmetric(np.asarray(matrix, dtype=np.float64)))
    return (v * _sqrt_eigenvalues(w)) @ v.T


def _sqrt_eigenvalues(w):
    """sqrt of eigenvalues of a PSD matrix, with those below round-off level set to 0.

    A rank-deficient covariance (fewer samples than features) has eigenvalues that are
    exactly 0 but come out of LAPACK as +-1e-16 * ||S||; their square roots (1e-8 each)
    would add up to a visible error. Below the usual rank tolerance `d * eps * max|w|`
    an eigenvalue cannot be told from 0, so it counts as 0.
    """
    tol = w.size * np.finfo(np.float64).eps * max(float(np.abs(w).max(initial=0.0)), 0.0)
    return np.sqrt(np.where(w > tol, w, 0.0))


def _trace_sqrt_by_cholesky(sigma_a, sigma_b):
    """`sum sqrt(eig(L^T S_b L))` with `S_a = L L^T`; None if `S_a` is not positive definite."""
    try:
        low = scipy.linalg.cholesky(sigma_a, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    # L^T S_b L with two triangular products (half the flops of general ones).
    m = scipy.linalg.blas.dtrmm(1.0, low, sigma_b, side=0, lower=1, trans_a=1)
    m = scipy.linalg.blas.dtrmm(1.0, low, m, side=1, lower=1)
    eig = scipy.linalg.eigh(_symmetric(m), eigvals_only=True, driver="evd", check_finite=False)
    return float(_sqrt_eigenvalues(eig).sum())


def _trace_sqrt_by_eigh(sigma_a, sigma_b):
    """`sum sqrt(eig(W^(1/2) V^T S_b V W^(1/2)))` with `S_a = V diag(w) V^T`."""
    w, v = np.linalg.eigh(sigma_a)
    root_w = _sqrt_eigenvalues(w)
    m = _symmetric(root_w[:, None] * (v.T @ sigma_b @ v) * root_w[None, :])
    return float(_sqrt_eigenvalues(np.linalg.eigvalsh(m)).sum())


def trace_sqrt_product(sigma_a, sigma_b):
    """`Tr (S_a S_b)^(1/2)` for symmetric PSD `S_a`, `S_b`, from symmetric eigenproblems only.

    Formula: for any factor `F` with `S_a = F F^T`, `S_a S_b = F (F^T S_b F) F^(-1)` is
    similar to the symmetric PSD `F^T S_b F`, so `Tr (S_a S_b)^(1/2) = sum_i
    sqrt(lambda_i(F^T S_b F))`. With `F = S_a^(1/2)` (eigendecomposition) this is
    `S_a^(1/2) S_b S_a^(1/2)`.

    Speed: when `S_a` (or `S_b`; the trace is symmetric in the two) is positive definite,
    `F` is its Cholesky factor, which costs a fraction of an eigendecomposition, and the
    only eigenproblem left asks for eigenvalues alone. Singular covariances (fewer
    samples than features) fall back to `F = S_a^(1/2) = V diag(sqrt(w)) V^T`, with the
    eigenvalues below round-off level counted as 0. Either way everything is real and
    symmetric.
    """
    a = _symmetric(np.asarray(sigma_a, dtype=np.float64))
    b = _symmetric(np.asarray(sigma_b, dtype=np.float64))
    for first, second in ((a, b), (b, a)):
        value = _trace_sqrt_by_cholesky(first, second)
        if value is not None:
            return value
    return _trace_sqrt_by_eigh(a, b)


def _check_moments(mu, sigma, name):
    mu = to_numpy(mu, f"mu_{name}")
    sigma = to_numpy(sigma, f"sigma_{name}")
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        raise KerasGenError(
            f"moments {name}: mu must be [d] and sigma [d, d], got {mu.shape} and {sigma.shape}"
        )
    if not np.allclose(sigma, sigma.T, rtol=1e-6, atol=1e-9 * max(1.0, np.abs(sigma).max())):
        raise KerasGenError(f"sigma_{name} is not symmetric")
    return mu, sigma


def frechet_distance_from_moments(mu_a, sigma_a, mu_b, sigma_b):
    """Frechet distance between N(mu_a, sigma_a) and N(mu_b, sigma_b).

    Formula: `||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr (S_a S_b)^(1/2)`.
    """
    mu_a, sigma_a = _check_moments(mu_a, sigma_a, "a")
    mu_b, sigma_b = _check_moments(mu_b, sigma_b, "b")
    if mu_a.shape != mu_b.shape:
        raise KerasGenError(f"the two feature sizes differ: {mu_a.size} vs {mu_b.size}")
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * trace_sqrt_product(sigma_a, sigma_b)
    # The exact distance is >= 0; round-off on identical inputs can give -1e-12.
    return float(max(value, 0.0))


def feature_moments(features, name="features"):
    """Mean [d] and unbiased covariance [d, d] (float64) of a [n, d] feature array."""
    f = to_numpy(features, name)
    if f.ndim != 2 or f.shape[0] < 2:
        raise KerasGenError(f"{name} must be [n, d] with n >= 2, got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two feature arrays (FID on Inception
    features; keras_gen's "domain FID" on its digit classifier's penultimate layer).

    Args:
        features_a: [n, d] features of one sample set (e.g. real images).
        features_b: [m, d] features of the other (e.g. generated images).

    Returns:
        The squared Frechet distance as a Python float (smaller is closer; 0 for equal
        moments).
    """
    fa, fb = to_numpy(features_a, "features_a"), to_numpy(features_b, "features_b")
    if fa.ndim != 2 or fb.ndim != 2 or fa.shape[1] != fb.shape[1]:
        raise KerasGenError(
            f"features must be [n, d] arrays with the same d, got {fa.shape} and {fb.shape}"
        )
    mu_a, sigma_a = feature_moments(fa, "features_a")
    mu_b, sigma_b = feature_moments(fb, "features_b")
    return frechet_distance_from_moments(mu_a, sigma_a, mu_b, sigma_b)


def check_class_probabilities(probs, name="probs"):
    """Class probabilities as a float64 [n, K] array after checking each row sums to 1."""
    p = to_numpy(probs, name)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise KerasGenError(f"{name} must be [n, K] class probabilities with K >= 2, got {p.shape}")
    if np.any(p < 0):
        raise KerasGenError(f"{name} has negative probabilities (min {p.min():.3g})")
    sums = p.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > SUM_TOLERANCE:
        raise KerasGenError(
            f"{name} row {worst} does not sum to 1 (sum {sums[worst]:.6g}); pass softmax outputs, not logits"
        )
    return p


def _xlogx(p):
    out = np.zeros_like(p)
    pos = p > 0
    out[pos] = p[pos] * np.log(p[pos])
    return out


def inception_score(probs, splits=10):
    """Inception score of classifier outputs p(y|x) for generated samples.

    Formula: `IS = exp(E_x KL(p(y|x) || p(y)))` with `p(y) = E_x p(y|x)`, computed on
    each of `splits` contiguous, equal-as-possible parts of the samples.

    Args:
        probs: [n, K] class probabilities (softmax outputs), one row per sample.
        splits: number of parts (the original protocol uses 10 parts of 5,000).

    Returns:
        `(mean, std)` of the per-part scores, Python floats. 1 <= IS <= K.
    """
    p = check_class_probabilities(probs)
    if int(splits) != splits or splits < 1 or splits > p.shape[0]:
        raise KerasGenError(f"splits must be an integer in [1, {p.shape[0]}] (the sample count), got {splits}")
    scores = []
    for part in np.array_split(p, int(splits)):
        marginal = part.mean(axis=0)
        # E_x KL(p(y|x) || p(y)) = E_x sum_y p log p - sum_y p(y) log p(y) (the cross
        # term averages to the marginal's); 0 log 0 = 0, so zeros need no epsilon.
        mean_kl = _xlogx(part).sum(axis=1).mean() - _xlogx(marginal).sum()
        scores.append(np.exp(max(mean_kl, 0.0)))
    return float(np.mean(scores)), float(np.std(scores))


def polynomial_kernel(x, y, degree=3, gamma=None, coef0=1.0):
    """`k(x, y) = (gamma x.y + coef0)^degree` with `gamma = 1/d` by default (KID's kernel)."""
    x, y = check_pair_of_samples(x, y)
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * (x @ y.T) + coef0) ** degree


_KID_FULL_KERNEL_ENTRIES = 30_000_000  # about 240 MB of float64 kernel entries


def kernel_inception_distance(features_a, features_b, num_subsets=100, subset_size=1000, seed=0):
    """Kernel inception distance: unbiased polynomial-kernel MMD^2 averaged over subsets.

    Formula: for each of `num_subsets` draws of `s = min(subset_size, n, m)` rows
    (without replacement) from each set, the unbiased MMD^2 (see `keras_gen.metrics.mmd`)
    with `k(x, y) = (x.y / d + 1)^3`.

    Args:
        features_a: [n, d] features; features_b: [m, d].
        num_subsets: number of random subsets.
        subset_size: rows per subset (Binkowski et al. use 1,000).
        seed: seed of the subset draws (the result is deterministic).

    Returns:
        `(mean, std)` over the subsets, Python floats.
    """
    fa, fb = check_pair_of_samples(features_a, features_b)
    if num_subsets < 1:
        raise KerasGenError(f"num_subsets must be >= 1, got {num_subsets}")
    s = min(int(subset_size), fa.shape[0], fb.shape[0])
    if s < 2:
        raise KerasGenError(f"KID needs subsets of at least 2 rows, got {s}")
    rng = np.random.default_rng(seed)
    n, m = fa.shape[0], fb.shape[0]
    # A subset's kernel matrices are sub-matrices of the full ones: compute those once
    # (every subset then costs an index instead of three matrix products) unless they
    # would be large; the subsets drawn, and so the result, are the same either way.
    full = (n * n + m * m + n * m) <= _KID_FULL_KERNEL_ENTRIES
    if full:
        k_aa, k_bb, k_ab = polynomial_kernel(fa, fa), polynomial_kernel(fb, fb), polynomial_kernel(fa, fb)
    values = []
    for _ in range(int(num_subsets)):
        ia = rng.choice(n, s, replace=False)
        ib = rng.choice(m, s, replace=False)
        if full:
            kernels = (k_aa[np.ix_(ia, ia)], k_bb[np.ix_(ib, ib)], k_ab[np.ix_(ia, ib)])
        else:
            a, b = fa[ia], fb[ib]
            kernels = (polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b))
        values.append(mmd2_from_kernels(*kernels))
    return float(np.mean(values)), float(np.std(values))
