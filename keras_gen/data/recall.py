"""Remembering the first token: the long-term-dependency toy of notes 001 ("长期依赖").

A sequence of `length` tokens starts with its class c in {0, ..., num_classes - 1};
every later token is a distractor drawn uniformly from {num_classes, ...,
num_classes + num_distractors - 1}. A model reading the sequence must name c at the
end, so the answer is exactly length - 1 steps away from the loss (Hochreiter &
Schmidhuber 1997 use such tasks to show what a plain RNN cannot learn).
"""
import numpy as np

from keras_gen.errors import KerasGenError


def first_token_recall(n, length, num_classes=4, num_distractors=4, seed=0):
    """`(tokens int32 [n, length], labels int64 [n])`: labels = tokens[:, 0], the rest distractors.

    The vocabulary has `num_classes + num_distractors` tokens.
    """
    for name, value, low in (("n", n, 1), ("length", length, 1), ("num_classes", num_classes, 2),
                             ("num_distractors", num_distractors, 1)):
        if int(value) < low:
            raise KerasGenError(f"{name} must be >= {low}, got {value}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=int(n))
    tokens = rng.integers(num_classes, num_classes + num_distractors, size=(int(n), int(length)))
    tokens[:, 0] = labels
    return tokens.astype(np.int32), labels.astype(np.int64)
