"""The end of every keras_gen tf.data pipeline: `pipeline` (shuffle, repeat, batch) and `steady_prefetch`."""
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
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(batches).with_options(options)


def pipeline(ds, batch_size, shuffle, seed, repeat=False, drop_remainder=False, buffer=10_000):
    """shuffle (fixed seed, reshuffled every epoch) -> repeat -> batch -> `steady_prefetch`."""
    if shuffle:
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if batch_size:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return steady_prefetch(ds)
