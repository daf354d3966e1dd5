"""EpochBatches: each epoch's order is a pure function of (seed, epoch), checked against NumPy."""
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.data import EpochBatches, epoch_batches, epoch_order, shard_by_data, steady_prefetch
from keras_gen.errors import KerasGenError


def test_epoch_order_is_a_fixed_permutation_per_seed_and_epoch():
    a = epoch_order(10, seed=3, epoch=1)
    np.testing.assert_array_equal(np.sort(a), np.arange(10))
    np.testing.assert_array_equal(a, epoch_order(10, seed=3, epoch=1))
    assert not np.array_equal(a, epoch_order(10, seed=3, epoch=2))
    assert not np.array_equal(a, epoch_order(10, seed=4, epoch=1))


def test_batches_are_the_arrays_gathered_in_each_epochs_order():
    x = np.arange(10, dtype=np.float32)[:, None] * 10
    y = np.arange(10, dtype=np.int64)
    eb = EpochBatches((x, y), 4, seed=3)
    assert eb.steps_per_epoch == 2  # drop_remainder: 2 full batches of 4 out of 10
    got = [(bx.numpy(), by.numpy()) for bx, by in eb.dataset(epochs=3)]
    assert len(got) == 6
    for epoch in range(3):
        order = epoch_order(10, 3, epoch)
        for step in range(2):
            idx = order[step * 4:(step + 1) * 4]  # batches never straddle two epochs
            bx, by = got[epoch * 2 + step]
            np.testing.assert_array_equal(by, y[idx])
            np.testing.assert_array_equal(bx, x[idx])


def test_starting_later_gives_the_tail_of_the_whole_run():
    x = np.arange(12, dtype=np.float32)
    whole = [b.numpy() for b in epoch_batches(x, 5, seed=1, epochs=4)]
    tail = [b.numpy() for b in epoch_batches(x, 5, seed=1, epochs=4, start_epoch=2)]
    assert len(whole) == 8 and len(tail) == 4
    for a, b in zip(whole[4:], tail):
        np.testing.assert_array_equal(a, b)
    ds = EpochBatches(x, 5, seed=1).dataset(4, 2)
    assert int(ds.cardinality()) == 4


def test_without_drop_remainder_and_with_map_fn():
    x = np.arange(5, dtype=np.float32)
    got = [b.numpy() for b in epoch_batches(x, 2, seed=0, epochs=1, drop_remainder=False, map_fn=lambda b: -b)]
    assert [len(b) for b in got] == [2, 2, 1]
    np.testing.assert_array_equal(np.sort(-np.concatenate(got)), x)


def test_pipelines_shard_by_data_with_the_autotuner_off():
    ds = steady_prefetch(tf.data.Dataset.range(4).batch(2))
    options = ds.options()
    assert options.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    assert options.autotune.enabled is False
    eb = EpochBatches(np.zeros((4, 1), np.float32), 2, seed=0).dataset(1)
    assert eb.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    assert shard_by_data(tf.data.Dataset.range(2)).options().experimental_distribute.auto_shard_policy == \
        tf.data.experimental.AutoShardPolicy.DATA


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(KerasGenError, match="one first dimension"):
        EpochBatches((np.zeros(3), np.zeros(4)), 2, seed=0)
    with pytest.raises(KerasGenError, match="batch_size 8 does not fit 3"):
        EpochBatches(np.zeros(3), 8, seed=0)
    with pytest.raises(KerasGenError, match="start_epoch"):
        EpochBatches(np.zeros(3), 1, seed=0).dataset(2, 3)
