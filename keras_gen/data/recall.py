"""Remembering the first input over T noisy steps: the long-term-dependency toy of notes 001.

A sequence of `length` steps, each a vector of `num_classes + 1` numbers: step 0 holds
the one-hot class c and a marker 1 in the last position; every later step holds
Gaussian noise N(0, noise^2) in the class positions and 0 as marker. A model reading
the sequence must name c at the end, exactly length - 1 steps after it saw it, while
noise keeps arriving in the same input units (the "latching" problem of Bengio,
Simard & Frasconi 1994; Hochreiter & Schmidhuber 1997, section 5, use such tasks to
show what gradient descent on a plain RNN cannot learn). The marker lets a gated cell
tell the step to store from the steps to ignore.
"""
import numpy as np

from keras_gen.errors import KerasGenError


def first_token_recall(n, length, num_classes=4, noise=1.0, seed=0):
    """`(inputs float32 [n, length, num_classes + 1], labels int64 [n])` (module docstring)."""
    for name, value, low in (("n", n, 1), ("length", length, 1), ("num_classes", num_classes, 2)):
        if int(value) < low:
            raise KerasGenError(f"{name} must be >= {low}, got {value}")
    if not float(noise) >= 0:
        raise KerasGenError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=int(n))
    x = np.zeros((int(n), int(length), int(num_classes) + 1), dtype=np.float32)
    x[:, 1:, :num_classes] = rng.normal(0.0, float(noise), size=(int(n), int(length) - 1, int(num_classes)))
    x[:, 0, :num_classes] = np.eye(num_classes, dtype=np.float32)[labels]
    x[:, 0, num_classes] = 1.0
    return x, labels.astype(np.int64)
