"""reproductions.common: the pieces several reproductions share."""
import pytest

from keras_gen.errors import KerasGenError, MissingFileError, UnknownNameError
from reproductions import common


def test_parse_int_list():
    assert common.parse_int_list("0, 1,2", "seeds") == [0, 1, 2]
    assert common.parse_int_list("7,", "seeds") == [7]
    with pytest.raises(KerasGenError, match="--seeds must be comma-separated integers, got '0,a'"):
        common.parse_int_list("0,a", "seeds")
    with pytest.raises(KerasGenError, match="--seeds names nothing"):
        common.parse_int_list(" , ", "seeds")
    with pytest.raises(KerasGenError, match="--n-seeds names nothing"):
        common.parse_int_list("", "n_seeds")


def test_parse_choice_list():
    choices = ("baseline", "label_smoothing")
    assert common.parse_choice_list("baseline, label_smoothing", "settings", choices, "setting") == list(choices)
    with pytest.raises(UnknownNameError, match="unknown setting 'dropout'; choose one of: baseline, label_smoothing"):
        common.parse_choice_list("baseline,dropout", "settings", choices, "setting")
    with pytest.raises(KerasGenError, match="--settings names nothing"):
        common.parse_choice_list("", "settings", choices, "setting")


def test_export_saved_run_names_the_missing_model(tmp_path):
    with pytest.raises(MissingFileError) as info:
        common.export_saved_run(str(tmp_path), "gan.keras", "dcgan_mnist", "dcgan-mnist")
    assert str(info.value) == (f"no trained model at {tmp_path / 'gan.keras'}; "
                               f"run `keras-gen reproduce dcgan-mnist --out {tmp_path}` first")


def test_tanh_digits_dataset_scales_batches_and_keeps_labels():
    import numpy as np

    x = np.linspace(0.0, 1.0, 70 * 4, dtype="float32").reshape(70, 2, 2, 1)
    y = np.arange(70, dtype="int32")
    batches = list(common.tanh_digits_dataset(x, 32, seed=0, labels=y))
    assert [len(b[1]) for b in batches] == [32, 32]  # the incomplete batch is dropped
    for images, labels in batches:
        np.testing.assert_allclose(images.numpy(), x[labels.numpy()] * 2.0 - 1.0)
    images_only = list(common.tanh_digits_dataset(x, 32, seed=0))
    np.testing.assert_array_equal(images_only[0].numpy(), batches[0][0].numpy())  # same seeded order


def test_adam_hold_then_cosine_is_a_fresh_adam_with_the_schedule():
    from keras_gen.training import HoldThenCosine

    a = common.adam_hold_then_cosine(1e-3, 100, 0.5)
    b = common.adam_hold_then_cosine(1e-3, 100, 0.5)
    assert a is not b and a.beta_1 == 0.5
    schedule = a._learning_rate  # Keras 3 keeps the schedule object there
    assert isinstance(schedule, HoldThenCosine) and schedule.get_config() == HoldThenCosine(1e-3, 100, 0.5).get_config()
    assert float(schedule(0)) == pytest.approx(1e-3) and float(schedule(100)) == pytest.approx(0.05e-3)


def test_tanh_digits_dataset_reshuffles_every_epoch_and_keeps_pairs():
    import numpy as np

    from reproductions.common import tanh_digits_dataset

    x = np.linspace(0, 1, 40, dtype="float32").reshape(40, 1, 1, 1)
    labels = np.arange(40)
    ds = tanh_digits_dataset(x, 8, seed=3, labels=labels)
    epochs = [[(bx.numpy().ravel(), by.numpy()) for bx, by in ds] for _ in range(2)]
    order = [np.concatenate([by for _, by in e]) for e in epochs]
    assert sorted(order[0]) == list(range(40)) and sorted(order[1]) == list(range(40))
    assert not np.array_equal(order[0], order[1])  # a new order each epoch
    for e in epochs:
        for bx, by in e:
            np.testing.assert_allclose(bx, x.ravel()[by] * 2 - 1, rtol=1e-6)  # images stay with their labels
