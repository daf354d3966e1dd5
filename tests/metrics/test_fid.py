"""FID, IS and KID against closed forms, scipy.linalg.sqrtm and double loops."""
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from keras_gen.errors import KerasGenError
from keras_gen.metrics import (
    frechet_distance,
    frechet_distance_from_moments,
    inception_score,
    kernel_inception_distance,
)
from keras_gen.metrics import fid as fid_module


def _sqrtm_fid(mu_a, s_a, mu_b, s_b):
    """The usual FID code: scipy.linalg.sqrtm of the (non-symmetric) product."""
    root = np.real(scipy.linalg.sqrtm(s_a @ s_b))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(root))


def _random_spd(rng, d, scale=1.0):
    a = rng.normal(size=(d, 2 * d))
    return scale * a @ a.T / (2 * d) + 0.1 * np.eye(d)


def test_gaussians_with_known_moments():
    rng = np.random.default_rng(0)
    d = 12
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a, b = rng.uniform(0.1, 3.0, d), rng.uniform(0.1, 3.0, d)
    mu_a, mu_b = rng.normal(size=d), rng.normal(size=d)
    # Commuting covariances (same eigenvectors): d^2 = ||mu_a - mu_b||^2 + sum (sqrt a - sqrt b)^2.
    s_a, s_b = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    closed = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance_from_moments(mu_a, s_a, mu_b, s_b) == pytest.approx(closed, rel=1e-10)
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance_from_moments([1.0], [[4.0]], [-0.5], [[0.25]]) == pytest.approx(1.5**2 + 1.5**2)
    # Equal moments: 0.
    assert frechet_distance_from_moments(mu_a, s_a, mu_a, s_a) == pytest.approx(0.0, abs=1e-10)


def test_agrees_with_the_sqrtm_formula_to_1e6_and_raises_no_warnings():
    rng = np.random.default_rng(1)
    for d in (2, 16, 128):
        mu_a, mu_b = rng.normal(size=d), 0.3 * rng.normal(size=d)
        s_a, s_b = _random_spd(rng, d), _random_spd(rng, d, scale=2.0)
        expected = _sqrtm_fid(mu_a, s_a, mu_b, s_b)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value = frechet_distance_from_moments(mu_a, s_a, mu_b, s_b)
        assert value == pytest.approx(expected, rel=1e-6)
        assert type(value) is float
        # Both code paths (Cholesky factor and eigendecomposition square root) agree.
        t_chol = fid_module._trace_sqrt_by_cholesky(s_a, s_b)
        t_eigh = fid_module._trace_sqrt_by_eigh(s_a, s_b)
        t_ref = np.trace(np.real(scipy.linalg.sqrtm(s_a @ s_b)))
        assert t_chol == pytest.approx(t_ref, rel=1e-9)
        assert t_eigh == pytest.approx(t_ref, rel=1e-9)


def test_from_features_equals_the_moment_formula_and_is_symmetric():
    rng = np.random.default_rng(2)
    fa = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8))
    fb = rng.normal(loc=0.5, size=(200, 8))
    expected = _sqrtm_fid(fa.mean(0), np.cov(fa, rowvar=False), fb.mean(0), np.cov(fb, rowvar=False))
    assert frechet_distance(fa, fb) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(fa, fb) == pytest.approx(frechet_distance(fb, fa), rel=1e-12)


def test_singular_covariances_fewer_samples_than_features():
    # Independent formula: with centred features A [n, d], B [m, d],
    # Tr (S_a S_b)^(1/2) = nuclear norm of A B^T / sqrt((n - 1)(m - 1)).
    rng = np.random.default_rng(3)
    fa, fb = rng.normal(size=(20, 64)), rng.normal(loc=0.2, size=(30, 64))
    a, b = fa - fa.mean(0), fb - fb.mean(0)
    tr = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt(19 * 29)
    s_a, s_b = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    expected = np.sum((fa.mean(0) - fb.mean(0)) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * tr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert frechet_distance(fa, fb) == pytest.approx(expected, rel=1e-8)
    assert fid_module._trace_sqrt_by_eigh(s_a, s_b) == pytest.approx(tr, rel=1e-8)


def test_frechet_bad_inputs():
    with pytest.raises(KerasGenError, match="same d"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(KerasGenError, match="n >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(KerasGenError, match="not symmetric"):
        frechet_distance_from_moments([0, 0], [[1, 0.5], [0, 1]], [0, 0], np.eye(2))


def _is_reference(probs, splits):
    scores = []
    for part in np.array_split(probs, splits):
        py = part.mean(0)
        kls = [scipy.stats.entropy(row, py) for row in part]
        scores.append(np.exp(np.mean(kls)))
    return np.mean(scores), np.std(scores)


def test_inception_score_bounds_and_reference():
    k = 7
    same = np.tile(np.full(k, 1.0 / k), (50, 1))
    assert inception_score(same, splits=5) == pytest.approx((1.0, 0.0))
    peaked_same = np.tile(np.eye(k)[3], (40, 1))
    assert inception_score(peaked_same, splits=4)[0] == pytest.approx(1.0)
    one_hot = np.eye(k)
    assert inception_score(one_hot, splits=1) == pytest.approx((float(k), 0.0))
    assert inception_score(np.tile(one_hot, (10, 1)), splits=10) == pytest.approx((float(k), 0.0))
    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.full(10, 0.3), size=1000)
    mean, std = inception_score(probs, splits=10)
    ref_mean, ref_std = _is_reference(probs, 10)
    assert mean == pytest.approx(ref_mean, rel=1e-10)
    assert std == pytest.approx(ref_std, rel=1e-8)
    assert 1.0 < mean < 10.0


def test_inception_score_bad_inputs():
    with pytest.raises(KerasGenError, match="logits"):
        inception_score(np.array([[2.0, 1.0], [0.5, 0.5]]), splits=1)
    with pytest.raises(KerasGenError, match="splits"):
        inception_score(np.eye(3), splits=10)
    with pytest.raises(KerasGenError, match="negative"):
        inception_score(np.array([[1.5, -0.5], [0.5, 0.5]]), splits=1)


def test_kid_matches_a_double_loop_polynomial_mmd():
    rng = np.random.default_rng(5)
    fa, fb = rng.normal(size=(15, 4)), rng.normal(loc=0.3, size=(15, 4))

    def k(x, y):
        return (x @ y / 4 + 1.0) ** 3

    n = len(fa)
    xx = sum(k(fa[i], fa[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(fb[i], fb[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(fa[i], fb[j]) for i in range(n) for j in range(n)) / (n * n)
    # One subset as large as the sets: the subset is a permutation, MMD^2_u is invariant.
    mean, std = kernel_inception_distance(fa, fb, num_subsets=3, subset_size=100)
    assert mean == pytest.approx(xx + yy - 2 * xy, rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_kid_near_zero_for_one_distribution_and_positive_otherwise():
    rng = np.random.default_rng(6)
    same = kernel_inception_distance(rng.normal(size=(600, 16)), rng.normal(size=(600, 16)), 20, 200)
    diff = kernel_inception_distance(rng.normal(size=(600, 16)), rng.normal(0.5, size=(600, 16)), 20, 200)
    assert abs(same[0]) < 3 * same[1] + 1e-3
    assert diff[0] > 10 * same[1]


def test_kid_from_the_full_kernels_equals_kid_from_each_subsets_own_kernels(monkeypatch):
    from keras_gen.metrics import fid

    rng = np.random.default_rng(7)
    fa, fb = rng.normal(size=(90, 6)), rng.normal(0.2, size=(70, 6))
    indexed = kernel_inception_distance(fa, fb, num_subsets=12, subset_size=40, seed=3)
    monkeypatch.setattr(fid, "_KID_FULL_KERNEL_ENTRIES", 0)  # force the per-subset products
    recomputed = kernel_inception_distance(fa, fb, num_subsets=12, subset_size=40, seed=3)
    np.testing.assert_allclose(indexed, recomputed, rtol=1e-9, atol=1e-12)
    assert indexed[1] > 0  # the subsets differ
