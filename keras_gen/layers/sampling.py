"""The reparameterisation layer z = mu + sigma * eps (Kingma & Welling 2014, section 2.4).

Why eps is drawn for the *global* batch
---------------------------------------
Under `MirroredStrategy` each replica sees a slice of the global batch. If each replica
drew its own noise, 2 replicas at global batch B would not make the update of
1 replica at batch B, and runs would depend on the device count. When the caller
passes the training `step`, `GaussianSampler` draws eps for the whole global batch
from stateless noise seeded by `(seed, step)` and keeps the rows of its own replica:
example i of the global batch gets the same eps whatever the number of replicas
(MirroredStrategy hands replica r the r-th contiguous slice of each global batch).
Without a step (inference, `generate`) it draws ordinary seeded noise.
"""
import keras
import tensorflow as tf

from keras_gen.training.strategy import replica_rows


def replica_slice_normal(local_shape, seed, step, dtype=tf.float32):
    """Standard normal noise of `local_shape` for this replica's slice of the global batch.

    Draws `[num_replicas * local_batch, ...]` values with
    `tf.random.stateless_normal(seed=(seed, step))` and returns the rows
    `[r * local_batch, (r + 1) * local_batch)` of replica `r`. With one replica this is
    the whole draw, so the noise of a global example does not depend on the replica
    count (when the global batch divides evenly, as with `drop_remainder=True`).
    """
    local_shape = tf.convert_to_tensor(local_shape, tf.int32)
    seeds = tf.stack([tf.cast(seed, tf.int64), tf.cast(step, tf.int64)])
    return replica_rows(
        lambda b: tf.random.stateless_normal(tf.concat([[b], local_shape[1:]], axis=0), seed=seeds, dtype=dtype),
        local_shape[0],
    )


@keras.saving.register_keras_serializable(package="keras_gen")
class GaussianSampler(keras.layers.Layer):
    """Samples z ~ N(mean, diag(exp(log_var))) by reparameterisation.

    Formula: `z = mean + exp(0.5 * log_var) * eps`, `eps ~ N(0, I)`, so gradients flow to
    `mean` and `log_var`.

    Call arguments:
        inputs: `[mean, log_var]`, each `[b, d]`.
        step: optional integer training step. Given, eps comes from stateless noise
            seeded by `(seed, step)` for the global batch (replica-count invariant);
            otherwise from a seeded random generator.

    Args:
        seed: integer seed.
    """

    def __init__(self, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)
        self._generator = keras.random.SeedGenerator(self.seed)
        # no weights to create: built from the start (as keras.layers.Dropout), so that a
        # model holding it counts as built and Keras's symbolic build under a strategy
        # does not call the model on a bare input (a CVAE needs (images, labels))
        self.built = True

    def call(self, inputs, step=None):
        mean, log_var = inputs
        if step is None:
            eps = keras.random.normal(keras.ops.shape(mean), seed=self._generator, dtype=mean.dtype)
        else:
            eps = replica_slice_normal(tf.shape(mean), self.seed, step, dtype=mean.dtype)
        return mean + keras.ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
