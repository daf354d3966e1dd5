"""S16: the generative moment matching network (GMMN; Li, Swersky & Zemel 2015; notes 001).

A generator G maps noise z ~ N(0, I) to samples and is trained, with no discriminator,
to minimise the squared MMD between a batch of real data X and a batch of samples
Y = G(Z) of the same size:

    for each batch X of real data:
        Z ~ N(0, I);  Y = G(Z)
        loss = MMD²(X, Y)   with k = sum of Gaussian kernels over `bandwidths`
        descend the gradient of loss w.r.t. G's weights

The loss is `keras_gen.losses.mmd.mmd2`. Departure from the paper: by default the
*unbiased* estimate is minimised (`unbiased=True`). The paper's and the notes' biased
V-statistic has expectation MMD²(P, Q) + (1/B)(k(y, y) - E_Q k(y, y')) + const over a
batch of B samples, so minimising it also rewards a more concentrated Q (larger
E_Q k(y, y')) by O(1/B); the unbiased estimate's expectation is MMD²(P, Q) itself,
minimised exactly at Q = P. `unbiased=False` trains on the paper's form.

Distribution: MMD² couples all pairs of a batch, so the loss is computed on the global
batch gathered from all replicas (`replica_mmd2`), and z is drawn for the global batch
from stateless noise seeded by (`seed`, step), each replica keeping its rows
(`keras_gen.layers.sampling.replica_slice_normal`). N replicas at global batch B then
make exactly the update of one replica at batch B (use `drop_remainder=True`).
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.layers.sampling import replica_slice_normal
from keras_gen.losses.mmd import DEFAULT_BANDWIDTHS, _check_bandwidths, replica_mmd2
from keras_gen.training.precision import to_float32
from keras_gen.training.strategy import apply_gradients


@keras.saving.register_keras_serializable(package="keras_gen")
class GMMN(keras.Model):
    """Generator trained by minimising MMD² to the data (`train_step` override).

    Args:
        generator: a functional Keras model z `[b, latent_dim]` -> x.
        bandwidths: Gaussian kernel widths; the kernel is their sum. Choose them on the
            scale of the data's pairwise distances.
        unbiased: minimise the unbiased MMD² estimate (default) or the biased one.
        latent_dim: size of z; read from the generator's input by default.
        seed: seed of the stateless training noise.
        **kwargs: `keras.Model` arguments.

    `compile(optimizer=...)` (default Adam 1e-3), then `fit` on batches of real `x`
    (or `(x, y)`; labels are ignored). Metric: `mmd2`, the global batch's MMD² (the
estimate that is minimised).
    """

    def __init__(self, generator, bandwidths=DEFAULT_BANDWIDTHS, unbiased=True, latent_dim=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(generator, keras.Model):
            raise KerasGenError("generator must be a keras.Model")
        # === Layers ===
        self.generator = generator
        # === Config ===
        self.bandwidths = _check_bandwidths(bandwidths)
        self.unbiased = bool(unbiased)
        if latent_dim is None:
            shape = generator.input_shape
            if not (isinstance(shape, tuple) and isinstance(shape[-1], int)):
                raise KerasGenError("cannot infer latent_dim from the generator; pass latent_dim=")
            latent_dim = shape[-1]
        self.latent_dim = int(latent_dim)
        self.seed = int(seed)
        self.mmd2_tracker = keras.metrics.Mean(name="mmd2")
        self.built = True

    def call(self, z, training=False):
        """G(z)."""
        return self.generator(z, training=training)

    @property
    def metrics(self):
        return [self.mmd2_tracker]

    def compile(self, optimizer=None, **kwargs):
        """Compiles; builds the optimizer's slots now (inside the caller's strategy scope)."""
        if kwargs.get("loss") is not None:
            raise KerasGenError("GMMN has its own loss (MMD²); do not pass loss=")
        kwargs.pop("loss", None)
        optimizer = keras.optimizers.Adam(1e-3) if optimizer is None else optimizer
        super().compile(optimizer=optimizer, **kwargs)
        with self.distribute_strategy.scope():
            self.optimizer.build(self.generator.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer)}

    def compile_from_config(self, config):
        if config:
            self.compile(optimizer=keras.saving.deserialize_keras_object(config["optimizer"]))

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        local_batch = tf.shape(x)[0]
        z = replica_slice_normal(tf.stack([local_batch, self.latent_dim]), self.seed, self.optimizer.iterations)
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            y = to_float32(self.generator(z, training=True))  # the MMD in float32 under mixed precision
            loss, value = replica_mmd2(tf.cast(x, y.dtype), y, self.bandwidths, self.unbiased)
        apply_gradients(self.optimizer, loss, variables, tape)
        self.mmd2_tracker.update_state(value)
        return {"mmd2": self.mmd2_tracker.result()}

    def test_step(self, data):
        raise KerasGenError("GMMN has no evaluate(); compare generate() samples with keras_gen.metrics.mmd2")

    # === Sampling and export ===
    def generate(self, n, seed=None, batch_size=4096):
        """`n` samples G(z) as a NumPy array, z ~ N(0, I) (seeded when `seed` is given)."""
        if seed is None:
            seed = np.random.randint(0, 2**31 - 1)
        z = tf.random.stateless_normal([int(n), self.latent_dim], seed=[int(seed), 1])
        out = [
            keras.ops.convert_to_numpy(self.generator(z[i:i + batch_size], training=False))
            for i in range(0, int(n), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0,) + tuple(self.generator.output_shape[1:]), np.float32)

    def export(self, name="gmmn", base_dir="saved_models", version=None, overwrite=False):
        """SavedModel `<base_dir>/<name>/<version>/` with signature `generate` (z -> x)."""
        from keras_gen.export import export_endpoints

        z_spec = [tf.TensorSpec((None, self.latent_dim), tf.float32, name="z")]
        return export_endpoints(
            name, [("generate", self.generator, z_spec, "x")], base_dir=base_dir, version=version, overwrite=overwrite
        )

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update(
            generator=keras.saving.serialize_keras_object(self.generator),
            bandwidths=list(self.bandwidths),
            unbiased=self.unbiased,
            latent_dim=self.latent_dim,
            seed=self.seed,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        return cls(**config)
