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
