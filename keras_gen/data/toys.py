"""Toy distributions for GANs and GMMNs: a 1-D Gaussian and two 2-D Gaussian mixtures.

| name              | dim | modes | centers                              | sigma |
|-------------------|-----|-------|--------------------------------------|-------|
| `toy_gaussian_1d` | 1   | 1     | 4.0                                  | 0.5   |
| `toy_ring8`       | 2   | 8     | radius 2, angles 0, 45, ..., 315 deg | 0.02  |
| `toy_grid25`      | 2   | 25    | {-4, -2, 0, 2, 4} x {-4, -2, 0, 2, 4} | 0.05  |

Every mixture picks its modes with equal probability and adds isotropic Gaussian noise
of standard deviation `sigma`. The ring and the grid are the usual mode-collapse
benchmarks (Metz et al. 2017, "Unrolled GANs"; Srivastava et al. 2017, "VEEGAN"): their
modes are far apart in units of sigma, so a sample can be assigned to the nearest mode
and called high quality when it lies within 3 sigma of it (`ToyDistribution.assign`).

Three ways in:
- `toy_distribution(name)` -> `ToyDistribution` with `centers` [k, d], `sigma`,
  `sample(n, seed)` (NumPy) and `assign(x)` (nearest mode, distance in sigmas);
- `toy_dataset(name, n=..., seed=..., batch_size=...)` -> tf.data of float32 [d] points;
- `keras_gen.data.load(name, split="train"|"validation"|"test", ...)`: fixed splits
  of `TRAIN_SIZE` / `TEST_SIZE` / `TEST_SIZE` points drawn with fixed seeds, so every
  run and every engineer sees the same data (`seed` then only drives the shuffling).

The fixed splits and the training draws of `toy_dataset` never share a random stream:
the splits come from `default_rng(k)` with one 32-bit word `k` (`SPLIT_SEEDS`), the
training draws from `default_rng([seed, TRAINING_STREAM])`, two words. A `seed` equal
to a split's seed therefore still draws other points than the held-out ones.
"""
import dataclasses

import numpy as np
import tensorflow as tf

from keras_gen.data.batching import pipeline
from keras_gen.errors import KerasGenError, unknown_name

TRAIN_SIZE = 25_000
TEST_SIZE = 5_000
# The fixed splits behind `load(name, split=...)`: independent streams of one generator.
# `validation` is the draw that was called `test` before there was a validation split
# (earlier choices looked at it); `test` is a fresh draw.
SPLIT_SEEDS = {"train": 1_000, "validation": 2_000, "test": 3_000}
TRAINING_STREAM = 1  # second seed word of every `toy_dataset` draw (see the module docstring)


@dataclasses.dataclass(frozen=True)
class ToyDistribution:
    """An equal-weight mixture of isotropic Gaussians with standard deviation `sigma`."""

    name: str
    centers: np.ndarray  # [k, d]
    sigma: float

    @property
    def dim(self):
        return self.centers.shape[1]

    @property
    def n_modes(self):
        return self.centers.shape[0]

    def sample(self, n, seed=0, return_modes=False):
        """`n` float32 points [n, d] (and their mode indices [n] if `return_modes`)."""
        if int(n) != n or n < 0:
            raise KerasGenError(f"number of samples must be a non-negative integer, got {n!r}")
        rng = np.random.default_rng(seed)
        modes = rng.integers(self.n_modes, size=int(n))
        x = self.centers[modes] + self.sigma * rng.standard_normal((int(n), self.dim))
        x = x.astype(np.float32)
        return (x, modes) if return_modes else x

    def assign(self, x):
        """Nearest mode of each point and its distance in units of sigma.

        Returns `(mode_index [n] int, distance_in_sigmas [n] float)`; a point is
        "high quality" when its distance is at most 3 (Srivastava et al. 2017).
        """
        x = np.asarray(x, np.float64).reshape(-1, self.dim)
        d2 = ((x[:, None, :] - self.centers[None, :, :]) ** 2).sum(-1)
        idx = d2.argmin(1)
        return idx, np.sqrt(d2[np.arange(len(x)), idx]) / self.sigma

    def log_prob(self, x):
        """Exact log density of the mixture at points x [n, d] (natural log)."""
        x = np.asarray(x, np.float64).reshape(-1, self.dim)
        d2 = ((x[:, None, :] - self.centers[None, :, :]) ** 2).sum(-1)
        log_comp = -d2 / (2 * self.sigma**2) - 0.5 * self.dim * np.log(2 * np.pi * self.sigma**2)
        m = log_comp.max(1, keepdims=True)
        return (m[:, 0] + np.log(np.exp(log_comp - m).mean(1)))


def _ring(n_modes=8, radius=2.0):
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def _grid(side=5, spacing=2.0):
    ticks = (np.arange(side) - (side - 1) / 2) * spacing
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


TOYS = {
    "toy_gaussian_1d": ToyDistribution("toy_gaussian_1d", np.array([[4.0]]), 0.5),
    "toy_ring8": ToyDistribution("toy_ring8", _ring(8, 2.0), 0.02),
    "toy_grid25": ToyDistribution("toy_grid25", _grid(5, 2.0), 0.05),
}


def toy_distribution(name):
    """The `ToyDistribution` called `name` (see the module table)."""
    if name not in TOYS:
        raise unknown_name("toy distribution", name, TOYS)
    return TOYS[name]


def toy_arrays(name, split="train"):
    """The fixed `train` (TRAIN_SIZE points), `validation` or `test` (TEST_SIZE) split as float32 [n, d]."""
    dist = toy_distribution(name)
    if split not in SPLIT_SEEDS:
        raise unknown_name(f"split of {name}", split, SPLIT_SEEDS)
    n = TRAIN_SIZE if split == "train" else TEST_SIZE
    return dist.sample(n, seed=SPLIT_SEEDS[split])


def toy_dataset(name, n=TRAIN_SIZE, seed=0, batch_size=256, shuffle=True, repeat=False, drop_remainder=False):
    """tf.data of `n` float32 [d] points of toy `name`, drawn with `seed` (batched, prefetched).

    The points are drawn once (the dataset is finite and the same every epoch) and
    shuffled each epoch with the same `seed`. They come from the stream
    `[seed, TRAINING_STREAM]`, which no held-out split uses (whatever `seed` is).
    """
    x = toy_distribution(name).sample(n, seed=[int(seed), TRAINING_STREAM])
    return pipeline(tf.data.Dataset.from_tensor_slices(x), batch_size, shuffle, seed, repeat=repeat,
                    drop_remainder=drop_remainder, buffer=len(x))
