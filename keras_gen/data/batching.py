"""The end of every keras_gen tf.data pipeline: `pipeline` (shuffle, repeat, batch), `steady_prefetch`
(which also shards by DATA under multi-worker training) and `EpochBatches` (an order that is a pure
function of (seed, epoch))."""
import tensorflow as tf

PREFETCH_BATCHES = 2


def steady_prefetch(ds, batches=PREFETCH_BATCHES):
    """`ds.prefetch(batches)` with tf.data's autotuner switched off for the whole pipeline.

    On a 2-core CPU machine (TensorFlow 2.21), a pipeline left to the autotuner
    (`prefetch(tf.data.AUTOTUNE)`, or any autotuned stage) made whole epochs of the
    models' train steps run serialised: in about half of the epochs, chosen anew with
    every epoch's iterator, the two compute threads took turns instead of working
    together, and the epoch took 1.8x as long (InfoGAN on the digits: 5.7 s or 10.2 s per
    epoch; with or without XLA). A fixed prefetch buffer with the autotuner off gave the
    fast epochs every time. The data of these models is small and in memory, so two
    batches ahead are plenty; the elements and their order do not change.

    It also sets `AutoShardPolicy.DATA` (see `shard_by_data`): every keras_gen pipeline
    ends here, and all of them read in-memory or cached data, so under multi-worker
    training each worker keeps its own slice of every global batch.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return shard_by_data(ds.prefetch(batches).with_options(options))


def pipeline(ds, batch_size, shuffle, seed, repeat=False, drop_remainder=False, buffer=10_000):
    """shuffle (fixed seed, reshuffled every epoch) -> repeat -> batch -> `steady_prefetch`."""
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return steady_prefetch(ds)


def shard_by_data(ds):
    """`ds` with `AutoShardPolicy.DATA`: under multi-worker training every worker reads the
    whole pipeline and keeps its own rows of each global batch.

    The right policy for in-memory and cached pipelines: there are no files to split
    (`FILE`, the default `AUTO` choice for file readers, would fail with "cannot shard"
    and fall back with a warning), and with `DATA` the global batch of `batch_size` is
    cut into one slice per replica, so no example is seen twice in a step and the
    global batch stays `batch_size` whatever the number of workers.
    """
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def epoch_order(n, seed, epoch):
    """The order in which epoch `epoch` of `EpochBatches` visits examples `0..n-1` (NumPy int64).

    Formula: `order[i] = index_shuffle(i, seed=(seed, epoch), max_index=n - 1)`, a
    stateless pseudo-random permutation of `0..n-1` (`tf.random.experimental.index_shuffle`):
    the same numbers on every run, process and strategy.
    """
    idx = tf.random.experimental.index_shuffle(
        tf.range(n, dtype=tf.int64), seed=tf.constant([int(seed), int(epoch)], tf.int64), max_index=n - 1)
    return idx.numpy()


class EpochBatches:
    """In-memory examples served in batches whose order is a pure function of (seed, epoch).

    `tf.data`'s `shuffle(..., reshuffle_each_iteration=True)` draws each epoch's order
    from the number of iterators the dataset has made in this process, so the order
    shifts when something opens an extra iterator (Keras does, under a non-default
    strategy) and a resumed run starts again at the first epoch's order. Here epoch e
    visits the examples in `epoch_order(n, seed, e)`: one strategy or another, one
    process or several workers, interrupted or not, epoch e sees the same batches.

    `dataset(epochs, start_epoch)` is the whole training run as one dataset: epochs
    `start_epoch .. epochs - 1` one after the other, `steps_per_epoch` batches each
    (batches never straddle two epochs), with `AutoShardPolicy.DATA` and
    `steady_prefetch` at the end. Give `fit` `steps_per_epoch=` so it keeps one
    iterator across epochs (`reproductions.common.Run.fit` does this, and starts at
    the epoch a resumed run continues from).

    Args:
        arrays: an array, or a tuple/dict of arrays with the same first dimension n
            (e.g. `(x, y)`): the examples.
        batch_size: the global batch size.
        seed: the seed of the orders.
        drop_remainder: drop each epoch's last partial batch (what the multi-replica
            models need: every replica then gets the same number of rows).
        map_fn: applied to each batch (the nest of gathered arrays), e.g. a rescale.
    """

    def __init__(self, arrays, batch_size, seed, drop_remainder=True, map_fn=None):
        from keras_gen.errors import KerasGenError

        leaves = tf.nest.flatten(arrays)
        sizes = {int(a.shape[0]) for a in leaves}
        if len(sizes) != 1:
            raise KerasGenError(f"EpochBatches needs arrays with one first dimension, got sizes {sorted(sizes)}")
        self.n = sizes.pop()
        self.batch_size = int(batch_size)
        if self.batch_size < 1 or (drop_remainder and self.batch_size > self.n):
            raise KerasGenError(f"batch_size {batch_size} does not fit {self.n} examples")
        self.arrays = arrays
        self.seed = int(seed)
        self.drop_remainder = bool(drop_remainder)
        self.map_fn = map_fn
        self.steps_per_epoch = self.n // self.batch_size if drop_remainder else -(-self.n // self.batch_size)

    def order(self, epoch):
        """Example indices of epoch `epoch`, in the order they are served."""
        return epoch_order(self.n, self.seed, epoch)

    def dataset(self, epochs, start_epoch=0):
        """Batches of epochs `start_epoch .. epochs - 1` (see the class docstring)."""
        from keras_gen.errors import KerasGenError

        if not 0 <= int(start_epoch) <= int(epochs):
            raise KerasGenError(f"start_epoch must be in [0, {epochs}], got {start_epoch}")
        n, seed, bs, drop = self.n, self.seed, self.batch_size, self.drop_remainder
        tensors = tf.nest.map_structure(tf.convert_to_tensor, self.arrays)

        def one_epoch(epoch):
            idx = tf.random.experimental.index_shuffle(
                tf.range(n, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), epoch]), max_index=n - 1)
            return tf.data.Dataset.from_tensor_slices(idx).batch(bs, drop_remainder=drop)

        def gather(idx):
            batch = tf.nest.map_structure(lambda t: tf.gather(t, idx), tensors)
            return batch if self.map_fn is None else self.map_fn(batch)

        ds = tf.data.Dataset.range(int(start_epoch), int(epochs), output_type=tf.int64).flat_map(one_epoch)
        ds = ds.map(gather).apply(
            tf.data.experimental.assert_cardinality((int(epochs) - int(start_epoch)) * self.steps_per_epoch))
        return steady_prefetch(ds)


def epoch_batches(arrays, batch_size, seed, epochs, start_epoch=0, drop_remainder=True, map_fn=None):
    """`EpochBatches(arrays, batch_size, seed, ...).dataset(epochs, start_epoch)`."""
    return EpochBatches(arrays, batch_size, seed, drop_remainder, map_fn).dataset(epochs, start_epoch)
