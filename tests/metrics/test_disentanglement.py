"""MIG: mutual information against scikit-learn, and MIG on latents of known structure."""
import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from keras_gen.errors import KerasGenError
from keras_gen.metrics.disentanglement import (
    discretize,
    entropy_discrete,
    mutual_information_discrete,
    mutual_information_gap,
    mutual_information_matrix,
)

RNG = np.random.default_rng(0)
N = 4000
FACTORS = np.stack([RNG.integers(0, 3, N), RNG.integers(0, 8, N)], axis=1)


def test_mutual_information_matches_sklearn():
    a = RNG.integers(0, 5, 1000)
    b = (a + RNG.integers(0, 3, 1000)) % 7
    assert mutual_information_discrete(a, b) == pytest.approx(mutual_info_score(a, b), rel=1e-10)
    assert entropy_discrete(a) == pytest.approx(mutual_info_score(a, a), rel=1e-10)


def test_discretize_uses_equal_width_bins():
    z = np.array([[0.0], [0.49], [0.51], [1.0]])
    np.testing.assert_array_equal(discretize(z, n_bins=2)[:, 0], [0, 0, 1, 1])


def test_perfectly_disentangled_latents_score_near_one():
    latents = np.column_stack([FACTORS[:, 0] + 0.01 * RNG.normal(size=N), FACTORS[:, 1] * 0.3,
                               RNG.normal(size=N)])
    mig, details = mutual_information_gap(latents, FACTORS, return_details=True)
    assert mig > 0.95
    np.testing.assert_array_equal(details["best_latent_per_factor"], [0, 1])
    np.testing.assert_allclose(details["factor_entropy"], [np.log(3), np.log(8)], rtol=0.01)


def test_duplicated_or_mixed_latents_score_low():
    duplicated = np.column_stack([FACTORS[:, 0], FACTORS[:, 0], FACTORS[:, 1], FACTORS[:, 1]]).astype(float)
    assert mutual_information_gap(duplicated, FACTORS) == pytest.approx(0.0, abs=1e-12)
    a, b = FACTORS[:, 0] / 2.0, FACTORS[:, 1] / 7.0
    mixed = np.column_stack([a + b, a - b])
    separate = np.column_stack([a, b])
    assert mutual_information_gap(mixed, FACTORS) < 0.5 < mutual_information_gap(separate, FACTORS)


def test_matrix_shape_and_bad_inputs():
    assert mutual_information_matrix(RNG.normal(size=(N, 5)), FACTORS).shape == (5, 2)
    with pytest.raises(KerasGenError, match="at least 2"):
        mutual_information_gap(RNG.normal(size=(N, 1)), FACTORS)
    with pytest.raises(KerasGenError, match="same n"):
        mutual_information_gap(RNG.normal(size=(10, 3)), FACTORS)
    with pytest.raises(KerasGenError, match="single value"):
        mutual_information_gap(RNG.normal(size=(N, 3)), np.zeros((N, 1)))
