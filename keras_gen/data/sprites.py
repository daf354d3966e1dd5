"""Procedural sprites with known generative factors (for disentanglement, S13 / C7).

A small, fully factorial dataset in the spirit of dSprites (Matthey et al. 2017), drawn
in code (nothing is downloaded): one white shape on a black `size` x `size` canvas, for
every combination of

| factor  | values                                          |
|---------|-------------------------------------------------|
| `shape` | 0 square, 1 disc, 2 triangle                     |
| `scale` | `len(scales)` half-widths in pixels             |
| `x`     | `n_positions` centre columns, one pixel apart   |
| `y`     | `n_positions` centre rows, one pixel apart      |

so each factor is uniform and independent of the others, and the MIG
(`keras_gen.metrics.disentanglement`) can be computed exactly against them. The
default (32 x 32, 3 x 4 x 16 x 16) has 3,072 images.
"""
import itertools

import numpy as np

from keras_gen.errors import KerasGenError

FACTOR_NAMES = ("shape", "scale", "x", "y")
SHAPES = ("square", "disc", "triangle")
DEFAULT_SCALES = (3.0, 4.0, 5.0, 6.0)


def _mask(shape, half, dx, dy):
    if shape == "square":
        return (np.abs(dx) <= half) & (np.abs(dy) <= half)
    if shape == "disc":
        return dx**2 + dy**2 <= (half + 0.5) ** 2
    # triangle pointing up: apex at -half, base at +half (rows grow downwards)
    return (dy >= -half) & (dy <= half) & (np.abs(dx) <= (dy + half) / 2 + 0.5)


def draw_sprite(shape, half_width, cx, cy, size=32):
    """One binary float32 image `[size, size, 1]` with `shape` centred at column `cx`, row `cy`."""
    if shape not in SHAPES:
        raise KerasGenError(f"unknown sprite shape {shape!r}; choose one of: {', '.join(SHAPES)}")
    rows, cols = np.mgrid[0:size, 0:size]
    return _mask(shape, half_width, cols - cx, rows - cy).astype(np.float32)[..., None]


def sprites(size=32, n_positions=16, scales=DEFAULT_SCALES):
    """The full factorial sprites dataset.

    Args:
        size: canvas height and width in pixels.
        n_positions: positions per axis, one pixel apart, centred on the canvas.
        scales: the shapes' half-widths in pixels.

    Returns:
        `(images, factors)`: float32 `[n, size, size, 1]` in {0, 1} and int64 `[n, 4]`
        factor indices in the order of `FACTOR_NAMES`, n = 3 * len(scales) * n_positions^2.
    """
    scales = tuple(float(s) for s in scales)
    margin = max(scales) + 1
    first = (size - 1) / 2 - (n_positions - 1) / 2
    if first < margin - 0.5 or n_positions < 1:
        raise KerasGenError(
            f"{n_positions} positions of sprites up to half-width {max(scales)} do not fit a {size}-pixel canvas"
        )
    positions = first + np.arange(n_positions)
    images, factors = [], []
    for s, k, i, j in itertools.product(range(len(SHAPES)), range(len(scales)), range(n_positions),
                                        range(n_positions)):
        images.append(draw_sprite(SHAPES[s], scales[k], positions[i], positions[j], size))
        factors.append((s, k, i, j))
    return np.stack(images), np.asarray(factors, np.int64)
