"""The shared condition helpers: one-hot labels and the checks of labels, condition_dim and heads."""
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.layers.condition import check_condition_dim, check_heads, check_labels, one_hot_labels


def test_one_hot_from_ids_columns_and_one_hot_rows():
    expected = np.eye(4, dtype="float32")[[2, 0, 3]]
    np.testing.assert_array_equal(one_hot_labels(np.array([2, 0, 3]), 4).numpy(), expected)
    np.testing.assert_array_equal(one_hot_labels(np.array([[2], [0], [3]]), 4).numpy(), expected)
    np.testing.assert_array_equal(one_hot_labels(expected, 4).numpy(), expected)
    np.testing.assert_array_equal(one_hot_labels(np.array([2.0, 0.0, 3.0]), 4).numpy(), expected)


def test_check_labels_forms_and_errors():
    np.testing.assert_array_equal(check_labels(None, 5, 3), [0, 1, 2, 0, 1])
    np.testing.assert_array_equal(check_labels(2, 3, 3), [2, 2, 2])
    np.testing.assert_array_equal(check_labels([[1], [0]], 2, 3), [1, 0])
    with pytest.raises(KerasGenError, match="2 labels for n=3"):
        check_labels([0, 1], 3, 3)
    with pytest.raises(KerasGenError, match=r"must be in \[0, 2\]"):
        check_labels([0, 3], 2, 3)
    with pytest.raises(KerasGenError, match="integer class ids"):
        check_labels([0.5, 1.0], 2, 3)


def test_network_argument_checks():
    assert check_condition_dim(0) == 0 and check_condition_dim(10) == 10
    with pytest.raises(KerasGenError, match="condition_dim"):
        check_condition_dim(-1)
    assert check_heads(None) == {} and check_heads({"q": 2}) == {"q": 2}
    for bad in ({"logit": 1}, {"q": 0}, {"q": 1.5}):
        with pytest.raises(KerasGenError, match="heads"):
            check_heads(bad)
