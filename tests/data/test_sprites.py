"""Procedural sprites: factorial, independent factors, shapes drawn where the factors say."""
import numpy as np
import pytest

from keras_gen.data.sprites import FACTOR_NAMES, SHAPES, draw_sprite, sprites
from keras_gen.errors import KerasGenError


def test_full_factorial_and_balanced():
    images, factors = sprites(size=24, n_positions=6, scales=(2, 3))
    assert images.shape == (3 * 2 * 6 * 6, 24, 24, 1) and images.dtype == np.float32
    assert set(np.unique(images)) == {0.0, 1.0}
    assert factors.shape == (len(images), len(FACTOR_NAMES))
    assert len({tuple(f) for f in factors}) == len(factors)  # every combination once
    for k, n_values in enumerate((3, 2, 6, 6)):
        counts = np.bincount(factors[:, k])
        assert len(counts) == n_values and np.all(counts == len(factors) // n_values)


def test_position_and_scale_move_the_shape():
    images, factors = sprites(size=24, n_positions=6, scales=(2, 3))
    rows, cols = np.mgrid[0:24, 0:24]
    mass = images[..., 0].sum(axis=(1, 2))
    cx = (images[..., 0] * cols).sum(axis=(1, 2)) / mass
    cy = (images[..., 0] * rows).sum(axis=(1, 2)) / mass
    squares = factors[:, 0] == 0
    # square centroids sit exactly at the grid positions (one pixel apart)
    np.testing.assert_allclose(np.diff(np.unique(np.round(cx[squares], 6))), 1.0)
    np.testing.assert_allclose(cx[squares] - factors[squares, 2], cx[squares][0] - factors[squares][0, 2])
    np.testing.assert_allclose(cy[squares] - factors[squares, 3], cy[squares][0] - factors[squares][0, 3])
    for s in range(3):  # larger scale -> more pixels, for every shape
        small = mass[(factors[:, 0] == s) & (factors[:, 1] == 0)].mean()
        large = mass[(factors[:, 0] == s) & (factors[:, 1] == 1)].mean()
        assert large > small


def test_shapes_have_the_expected_areas():
    half = 6
    areas = {s: draw_sprite(s, half, 15, 15, size=32).sum() for s in SHAPES}
    assert areas["square"] == (2 * half + 1) ** 2
    assert abs(areas["disc"] - np.pi * (half + 0.5) ** 2) < 0.06 * areas["disc"]
    assert areas["triangle"] < areas["disc"] < areas["square"]


def test_bad_arguments():
    with pytest.raises(KerasGenError, match="do not fit"):
        sprites(size=16, n_positions=16)
    with pytest.raises(KerasGenError, match="unknown sprite shape"):
        draw_sprite("star", 3, 5, 5)
