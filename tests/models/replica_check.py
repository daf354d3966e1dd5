"""One replica vs two: the comparison the 2-replica tests run in their subprocesses.

Import this only after `keras_gen.training.strategy.setup_logical_cpus(2)`: the logical
devices must exist before TensorFlow initialises.

`compare(build, data, mirrored)` trains the model `build()` makes for a few steps on one
replica, then again under `mirrored` from the same initial weights and on the same
global batches, and reports how far the two results are apart.
"""
import keras
import numpy as np
import tensorflow as tf


def networks(model):
    """The model's networks in a fixed order (G, D, and E for a BiGAN)."""
    nets = [model.generator, model.discriminator]
    return nets + ([model.encoder] if hasattr(model, "encoder") else [])


def sgd(lr):
    return lambda: keras.optimizers.SGD(lr)


def train(build, strategy, data, init=None, steps=3, batch=8, optimizer=sgd(0.1), seed=5):
    """(initial weights per network, final weights, last logs, largest move of a trainable weight)."""
    keras.utils.set_random_seed(seed)  # the same initial weights in every run of a test
    with strategy.scope():
        model = build()
        nets = networks(model)
        if init is not None:
            for net, weights in zip(nets, init):
                net.set_weights(weights)
        start = [net.get_weights() for net in nets]
        start_trainable = [w.numpy().copy() for net in nets for w in net.trainable_weights]
        model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    ds = tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True).take(steps)
    hist = model.fit(ds, epochs=1, verbose=0).history
    trained = [w.numpy() for net in nets for w in net.trainable_weights]
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(trained, start_trainable))
    final = [w for net in nets for w in net.get_weights()]
    return start, final, {k: float(v[-1]) for k, v in hist.items()}, moved


def compare(build, data, mirrored, **kwargs):
    """max_abs_diff over every weight (BatchNorm statistics, spectral norm's u too),
    max_change of the trainable weights (did training move them?), and both runs' logs."""
    init, one, logs1, moved = train(build, tf.distribute.get_strategy(), data, **kwargs)
    _, two, logs2, _ = train(build, mirrored, data, init=init, **kwargs)
    return {"max_abs_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(one, two)),
            "max_change": moved, "logs1": logs1, "logs2": logs2}
