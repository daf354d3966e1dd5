"""The first-token recall sequences."""
import numpy as np
import pytest

from keras_gen.data.recall import first_token_recall
from keras_gen.errors import KerasGenError


def test_first_token_is_the_label_and_the_rest_are_distractors():
    tokens, labels = first_token_recall(500, 12, num_classes=3, num_distractors=5, seed=1)
    assert tokens.shape == (500, 12) and tokens.dtype == np.int32 and labels.dtype == np.int64
    np.testing.assert_array_equal(tokens[:, 0], labels)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert tokens[:, 1:].min() == 3 and tokens[:, 1:].max() == 7
    again, _ = first_token_recall(500, 12, num_classes=3, num_distractors=5, seed=1)
    np.testing.assert_array_equal(again, tokens)
    with pytest.raises(KerasGenError, match="num_classes"):
        first_token_recall(5, 4, num_classes=1)
