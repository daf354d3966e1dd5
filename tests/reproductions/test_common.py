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
