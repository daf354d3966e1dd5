"""Mode coverage and high-quality share on constructed samples."""
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.metrics import high_quality_share, mode_counts, modes_covered

RING = 2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], 1)


def test_counts_modes_and_quality_by_hand():
    sigma = 0.02
    samples = np.concatenate(
        [
            RING[0] + [[0.0, 0.0], [0.059, 0.0], [0.0, -0.05]],  # 3 good samples at mode 0
            RING[3] + [[0.0, 0.061]],  # just outside 3 sigma of mode 3
            RING[5] + [[0.01, 0.01]],  # good at mode 5
            [[0.0, 0.0]],  # the centre: far from every mode
        ]
    )
    assert list(mode_counts(samples, RING, sigma)) == [3, 0, 0, 0, 0, 1, 0, 0]
    assert modes_covered(samples, RING, sigma) == 2
    assert modes_covered(samples, RING, sigma, min_count=2) == 1
    assert high_quality_share(samples, RING, sigma) == pytest.approx(4 / 6)


def test_samples_from_the_mixture_itself():
    rng = np.random.default_rng(0)
    sigma = 0.05
    x = RING[rng.integers(0, 8, 20000)] + sigma * rng.normal(size=(20000, 2))
    assert modes_covered(x, RING, sigma, min_count=100) == 8
    # P(||N(0, s^2 I_2)|| <= 3 s) = 1 - exp(-9/2) for a 2-D isotropic Gaussian.
    assert high_quality_share(x, RING, sigma) == pytest.approx(1 - np.exp(-4.5), abs=0.003)
    collapsed = RING[2] + sigma * rng.normal(size=(500, 2))
    assert modes_covered(collapsed, RING, sigma) == 1


def test_bad_inputs():
    with pytest.raises(KerasGenError, match="2-D"):
        modes_covered(np.zeros((5, 3)), RING, 0.1)
    with pytest.raises(KerasGenError, match="sigma"):
        high_quality_share(np.zeros((5, 2)), RING, -1.0)
    with pytest.raises(KerasGenError, match="sigma"):
        high_quality_share(np.zeros((5, 2)), RING, [0.1, 0.2])


def test_fair_share_rule():
    from keras_gen.metrics import fair_share_count

    # 5% of a fair share of 2,500 samples over 8 modes: ceil(15.625) = 16.
    assert fair_share_count(2500, 8, 0.05) == 16
    assert fair_share_count(1600, 8, 0.05) == 10  # exactly 10, not ceil(10.000000000000002)
    assert fair_share_count(10, 8, 0.05) == 1
    sigma = 0.02
    # Mode 0 gets 16 good samples, mode 1 gets 15, the rest of the 2,500 are far away.
    far = np.zeros((2500 - 31, 2))
    samples = np.concatenate([np.repeat(RING[:1], 16, 0), np.repeat(RING[1:2], 15, 0), far])
    assert modes_covered(samples, RING, sigma, min_share=0.05) == 1
    assert modes_covered(samples, RING, sigma) == 2  # the literal rule: one sample is enough
    with pytest.raises(KerasGenError, match="not both"):
        modes_covered(samples, RING, sigma, min_count=2, min_share=0.05)
    with pytest.raises(KerasGenError, match="min_share"):
        modes_covered(samples, RING, sigma, min_share=0.0)


def test_trivial_generators():
    from keras_gen.metrics import fitted_gaussian_samples, uniform_ring_samples

    rng = np.random.default_rng(1)
    data = RING[rng.integers(0, 8, 4000)] + 0.02 * rng.normal(size=(4000, 2))
    g = fitted_gaussian_samples(data, 20000, seed=3)
    np.testing.assert_allclose(g.mean(0), data.mean(0), atol=0.05)
    np.testing.assert_allclose(np.cov(g, rowvar=False), np.cov(data, rowvar=False), atol=0.08)
    assert modes_covered(g, RING, 0.02, min_share=0.05) == 0  # no modes
    ring = uniform_ring_samples(RING, 0.02, 20000, seed=3)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1).mean(), 2.0, atol=0.002)
    assert modes_covered(ring, RING, 0.02, min_share=0.05) == 8
    # Within 3 sigma of a mode: about 8 * 2 * 0.06 / (2 pi 2) of the points (radial noise aside).
    share = high_quality_share(ring, RING, 0.02)
    assert 0.04 < share < 8 * 2 * 0.06 / (4 * np.pi)
    with pytest.raises(KerasGenError, match="centers"):
        uniform_ring_samples(np.zeros((4, 3)), 0.1, 10)
