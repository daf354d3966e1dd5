"""Toy distributions: geometry, sampling statistics, mode assignment, tf.data access."""
import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

import keras_gen.data as kd
from keras_gen.data import toys
from keras_gen.errors import KerasGenError


def test_geometry():
    ring = kd.toy_distribution("toy_ring8")
    assert ring.centers.shape == (8, 2) and ring.sigma == 0.02
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0)
    angles = np.sort(np.mod(np.arctan2(ring.centers[:, 1], ring.centers[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, np.arange(8) * np.pi / 4, atol=1e-12)

    grid = kd.toy_distribution("toy_grid25")
    assert grid.centers.shape == (25, 2) and grid.sigma == 0.05
    want = {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in np.round(grid.centers, 12)} == want

    g1 = kd.toy_distribution("toy_gaussian_1d")
    assert g1.dim == 1 and g1.n_modes == 1 and g1.centers[0, 0] == 4.0 and g1.sigma == 0.5


@pytest.mark.parametrize("name", sorted(toys.TOYS))
def test_sampling_statistics(name):
    dist = kd.toy_distribution(name)
    n = 40_000
    x, modes = dist.sample(n, seed=7, return_modes=True)
    assert x.shape == (n, dist.dim) and x.dtype == np.float32
    # Modes equally likely: counts within 5 binomial standard deviations.
    p = 1 / dist.n_modes
    counts = np.bincount(modes, minlength=dist.n_modes)
    assert np.all(np.abs(counts - n * p) <= 5 * np.sqrt(n * p * (1 - p)))
    # Around its own center every point is N(center, sigma^2 I).
    resid = (x - dist.centers[modes]) / dist.sigma
    np.testing.assert_allclose(resid.mean(0), 0.0, atol=0.03)
    np.testing.assert_allclose(resid.std(0), 1.0, atol=0.02)
    # The nearest mode is the true one (modes are > 30 sigma apart).
    idx, dist_sig = dist.assign(x)
    np.testing.assert_array_equal(idx, modes)
    np.testing.assert_allclose(dist_sig, np.linalg.norm(resid, axis=1), rtol=1e-5)
    # Share within 3 sigma equals the chi distribution's CDF with d degrees of freedom.
    share = np.mean(dist_sig <= 3)
    assert abs(share - scipy.stats.chi(dist.dim).cdf(3)) < 0.003


def test_assign_far_points():
    ring = kd.toy_distribution("toy_ring8")
    idx, d = ring.assign(np.array([[0.0, 0.0], [2.0, 0.1]]))
    np.testing.assert_allclose(d[0], 2.0 / 0.02)
    assert idx[1] == 0 and abs(d[1] - 5.0) < 1e-9


def test_log_prob_against_scipy():
    ring = kd.toy_distribution("toy_ring8")
    pts = ring.sample(50, seed=1) + np.float32(0.01)
    want = np.log(
        np.mean([scipy.stats.multivariate_normal(c, ring.sigma**2 * np.eye(2)).pdf(pts) for c in ring.centers], axis=0)
    )
    np.testing.assert_allclose(ring.log_prob(pts), want, rtol=1e-8)
    g1 = kd.toy_distribution("toy_gaussian_1d")
    xs = np.linspace(2, 6, 9)[:, None]
    np.testing.assert_allclose(g1.log_prob(xs), scipy.stats.norm(4.0, 0.5).logpdf(xs[:, 0]), rtol=1e-10)


def test_determinism_and_splits():
    a = kd.toy_distribution("toy_grid25").sample(100, seed=3)
    b = kd.toy_distribution("toy_grid25").sample(100, seed=3)
    c = kd.toy_distribution("toy_grid25").sample(100, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    train = kd.toy_arrays("toy_ring8", "train")
    test = kd.toy_arrays("toy_ring8", "test")
    assert train.shape == (toys.TRAIN_SIZE, 2) and test.shape == (toys.TEST_SIZE, 2)
    assert not np.array_equal(train[: len(test)], test)
    # Through the common loader: same points, any order (the loader shuffles).
    loaded = kd.load_arrays("toy_ring8", split="test")
    assert loaded.shape == test.shape and loaded.dtype == np.float32
    np.testing.assert_array_equal(np.sort(loaded, axis=0), np.sort(test, axis=0))


def test_training_draws_never_coincide_with_held_out_splits():
    # `--seed 2000` used to draw exactly the "held-out" test points (split seed 2000).
    for split, split_seed in toys.SPLIT_SEEDS.items():
        held = kd.toy_arrays("toy_ring8", split)[:500]
        drawn = np.concatenate(list(kd.toy_dataset("toy_ring8", n=500, seed=split_seed, batch_size=500,
                                                    shuffle=False).as_numpy_iterator()))
        assert not {r.tobytes() for r in drawn} & {r.tobytes() for r in held}, split
    val = kd.toy_arrays("toy_ring8", "validation")
    test = kd.toy_arrays("toy_ring8", "test")
    assert val.shape == (toys.TEST_SIZE, 2) and not {r.tobytes() for r in val} & {r.tobytes() for r in test}


def test_tf_data_access():
    ds = kd.toy_dataset("toy_gaussian_1d", n=1000, seed=0, batch_size=64)
    first = next(iter(ds))
    assert first.shape == (64, 1) and first.dtype == tf.float32
    total = sum(int(b.shape[0]) for b in ds)
    assert total == 1000
    batch = next(iter(kd.load("toy_grid25", split="train", batch_size=32, seed=5)))
    assert batch.shape == (32, 2) and batch.dtype == tf.float32
    again = next(iter(kd.load("toy_grid25", split="train", batch_size=32, seed=5)))
    np.testing.assert_array_equal(batch.numpy(), again.numpy())


def test_bad_names():
    with pytest.raises(KerasGenError, match="toy_ring9"):
        kd.toy_distribution("toy_ring9")
    with pytest.raises(KerasGenError, match="unknown split of toy_ring8 'valid'"):
        kd.load("toy_ring8", split="valid")
    with pytest.raises(KerasGenError, match="non-negative"):
        kd.toy_distribution("toy_ring8").sample(-1)
