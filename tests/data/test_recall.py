"""The first-input recall sequences."""
import numpy as np
import pytest

from keras_gen.data.recall import first_token_recall
from keras_gen.errors import KerasGenError


def test_first_step_holds_the_class_and_a_marker_then_noise():
    x, labels = first_token_recall(2000, 12, num_classes=3, noise=0.5, seed=1)
    assert x.shape == (2000, 12, 4) and x.dtype == np.float32 and labels.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0, :3], np.eye(3)[labels])
    np.testing.assert_array_equal(x[:, 0, 3], 1.0)
    np.testing.assert_array_equal(x[:, 1:, 3], 0.0)
    assert set(np.unique(labels)) == {0, 1, 2}
    noise = x[:, 1:, :3]
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    again, _ = first_token_recall(2000, 12, num_classes=3, noise=0.5, seed=1)
    np.testing.assert_array_equal(again, x)
    with pytest.raises(KerasGenError, match="num_classes"):
        first_token_recall(5, 4, num_classes=1)
    with pytest.raises(KerasGenError, match="noise"):
        first_token_recall(5, 4, noise=-1.0)
