"""The reversed-digits addition data: formatting, correctness, disjoint fixed splits, batches."""
import numpy as np
import pytest

from keras_gen.data import addition
from keras_gen.errors import KerasGenError


def test_question_and_answer_text_follow_keras_io():
    assert addition.question_text(12, 345, 3) == " 543+21"   # "12+345 " reversed
    assert addition.question_text(12, 345, 3, reverse=False) == "12+345 "
    assert addition.answer_text(12, 345, 3) == "357 "
    assert addition.answer_text(999, 999, 3) == "1998"
    assert addition.question_length(3) == 7 and addition.answer_length(3) == 4
    np.testing.assert_array_equal(addition.encode("=1+ "), [12, 2, 11, 0])
    assert addition.decode(addition.encode(" 543+21")) == " 543+21"
    assert addition.decode(np.array([[2, 3], [0, 12]])) == ["12", " ="]
    with pytest.raises(KerasGenError, match="'x'"):
        addition.encode("1x")


def test_splits_are_correct_disjoint_and_fixed():
    splits = addition.addition_splits(digits=3, train=3000, validation=300, test=300)
    assert {k: len(v["questions"]) for k, v in splits.items()} == {"train": 3000, "validation": 300, "test": 300}
    keys = {}
    for name, split in splits.items():
        q, a, pairs = split["questions"], split["answers"], split["pairs"]
        assert q.shape == (len(q), 7) and a.shape == (len(a), 4) and q.dtype == np.int32
        for question, answer, (x, y) in zip(addition.decode(q), addition.decode(a), pairs):
            left, right = question[::-1].strip().split("+")       # undo the reversal
            assert (int(left), int(right)) == (x, y)
            assert int(answer) == x + y and answer == answer.strip().ljust(4)
            assert max(len(left), len(right)) <= 3
        keys[name] = {(min(x, y), max(x, y)) for x, y in pairs}
        assert len(keys[name]) == len(pairs)                       # no question twice, also as b+a
    assert not keys["train"] & keys["validation"] and not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]
    again = addition.addition_splits(digits=3, train=3000, validation=300, test=300)
    np.testing.assert_array_equal(again["test"]["questions"], splits["test"]["questions"])
    # Operand lengths 1, 2 and 3 are all common (the keras.io sampling).
    lengths = np.array([[len(str(v)) for v in p] for p in splits["train"]["pairs"]])
    assert all((lengths == k).mean() > 0.15 for k in (1, 2, 3))


def test_teacher_forcing_inputs_and_dataset():
    splits = addition.addition_splits(digits=2, train=40, validation=5, test=5)
    q, a = splits["train"]["questions"], splits["train"]["answers"]
    dec = addition.decoder_inputs(a)
    np.testing.assert_array_equal(dec[:, 0], addition.START)
    np.testing.assert_array_equal(dec[:, 1:], a[:, :-1])
    batches = list(addition.addition_dataset(q, a, 16, shuffle_seed=0))
    assert [len(b[1]) for b in batches] == [16, 16, 8]
    seen = np.concatenate([b[0][0].numpy() for b in batches])
    assert sorted(map(tuple, seen)) == sorted(map(tuple, q))
    for (questions, decoder_input), answers in batches:
        np.testing.assert_array_equal(decoder_input.numpy()[:, 1:], answers.numpy()[:, :-1])


def test_too_many_questions_and_empty_splits_are_refused():
    with pytest.raises(KerasGenError, match="at most 27"):
        addition.sample_pairs(40, 1, seed=0)
    with pytest.raises(KerasGenError, match="validation split"):
        addition.addition_splits(digits=2, train=10, validation=0, test=5)
