"""S2: autoencoder variants (notes 000, 001), as plain functional models for compile/fit.

| builder                  | what it adds to encoder -> code -> decoder                 |
|--------------------------|------------------------------------------------------------|
| `dense_autoencoder`      | the plain AE: Dense layers, loss E = MSE(x_rec, x)          |
| `denoising_autoencoder`  | corrupts the input (Gaussian or masking noise, training only) and reconstructs the clean x: fit(x, x) |
| `conv_autoencoder`       | strided Conv2D encoder, Conv2DTranspose decoder             |
| `sparse_autoencoder`     | activity L1 on the code: E + l1 * sum|h| (Keras averages it over the batch) |
| `regularized_autoencoder`| weight decay E + l2 * sum w^2 (and/or l1 * sum|w|) and dropout |

Every builder returns a `keras.Model` x -> x_rec with a sigmoid output (data in
[0, 1]); train with `model.compile(optimizer, loss="mse")` and `model.fit(x, x)`.
The code layer is named `code` (`encoder_of(model)` gives x -> h). All options of
`dense_autoencoder` combine (e.g. a sparse denoising AE with dropout).

Masking noise (Vincent et al. 2008) sets a random fraction of the inputs to 0 and,
unlike `Dropout`, does not rescale the rest: the network sees corrupted pixels, not a
rescaled image.
"""
import keras
import numpy as np

from keras_gen.errors import KerasGenError, unknown_name

NOISES = ("gaussian", "masking")


@keras.saving.register_keras_serializable(package="keras_gen")
class MaskingNoise(keras.layers.Layer):
    """Zeroes each input value with probability `rate` during training only (no rescaling).

    Formula: `x * m`, `m ~ Bernoulli(1 - rate)` elementwise when training; `x` otherwise.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise KerasGenError(f"masking noise rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self._generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = keras.random.uniform(keras.ops.shape(inputs), seed=self._generator) >= self.rate
        return inputs * keras.ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def _noise_layer(noise, noise_level, seed):
    if noise is None or noise_level == 0:
        return None
    if noise == "gaussian":
        return keras.layers.GaussianNoise(noise_level, seed=seed, name="input_noise")
    if noise == "masking":
        return MaskingNoise(noise_level, seed=seed, name="input_noise")
    raise unknown_name("noise", noise, NOISES)


def _regularizer(l1, l2):
    for label, v in (("l1", l1), ("l2", l2)):
        if v < 0:
            raise KerasGenError(f"{label} must be >= 0, got {v!r}")
    if l1 and l2:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return keras.regularizers.L1(l1)
    return keras.regularizers.L2(l2) if l2 else None


def dense_autoencoder(input_shape, code_dim=32, hidden=(256,), activation="relu", code_activation="relu",
                      noise=None, noise_level=0.0, activity_l1=0.0, l2=0.0, l1=0.0, dropout=0.0, seed=None,
                      name="dense_autoencoder"):
    """x -> [noise] -> Dense(hidden...) -> code -> Dense(reversed hidden...) -> sigmoid x_rec.

    Args:
        input_shape: shape of one example (flattened inside).
        code_dim: width of the code h.
        hidden: encoder widths (the decoder mirrors them).
        noise: None, "gaussian" (std `noise_level`) or "masking" (rate `noise_level`),
            applied to the input in training only.
        activity_l1: L1 penalty on the code (sparse AE).
        l2, l1: weight penalties on every kernel.
        dropout: dropout rate after each hidden layer and the code (training only).
    """
    reg = _regularizer(l1, l2)
    x = keras.Input(tuple(input_shape), name="x")
    h = x
    noise_layer = _noise_layer(noise, noise_level, seed)
    if noise_layer is not None:
        h = noise_layer(h)
    h = keras.layers.Flatten(name="encoder_flatten")(h)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation=activation, kernel_regularizer=reg, name=f"encoder_dense_{i}")(h)
        if dropout:
            h = keras.layers.Dropout(dropout, seed=seed, name=f"encoder_dropout_{i}")(h)
    h = keras.layers.Dense(code_dim, activation=code_activation, kernel_regularizer=reg,
                           activity_regularizer=keras.regularizers.L1(activity_l1) if activity_l1 else None,
                           name="code")(h)
    if dropout:
        h = keras.layers.Dropout(dropout, seed=seed, name="code_dropout")(h)
    for i, units in enumerate(reversed(hidden)):
        h = keras.layers.Dense(units, activation=activation, kernel_regularizer=reg, name=f"decoder_dense_{i}")(h)
        if dropout:
            h = keras.layers.Dropout(dropout, seed=seed, name=f"decoder_dropout_{i}")(h)
    h = keras.layers.Dense(int(np.prod(input_shape)), activation="sigmoid", kernel_regularizer=reg,
                           name="decoder_output")(h)
    return keras.Model(x, keras.layers.Reshape(tuple(input_shape), name="reconstruction")(h), name=name)


def denoising_autoencoder(input_shape, noise="gaussian", noise_level=0.3, name="denoising_autoencoder", **kwargs):
    """A dense AE trained to undo input corruption (Vincent et al. 2008): Gaussian noise of
    std `noise_level` or masking noise zeroing a fraction `noise_level`, training only."""
    if noise not in NOISES:
        raise unknown_name("noise", noise, NOISES)
    return dense_autoencoder(input_shape, noise=noise, noise_level=noise_level, name=name, **kwargs)


def sparse_autoencoder(input_shape, activity_l1=1e-4, name="sparse_autoencoder", **kwargs):
    """A dense AE with an L1 penalty on the code activations: E + l1 * sum|h|."""
    return dense_autoencoder(input_shape, activity_l1=activity_l1, name=name, **kwargs)


def regularized_autoencoder(input_shape, l2=1e-4, dropout=0.2, name="regularized_autoencoder", **kwargs):
    """A dense AE with weight decay (E + l2 * sum w^2; `l1=` adds l1 * sum|w|) and dropout."""
    return dense_autoencoder(input_shape, l2=l2, dropout=dropout, name=name, **kwargs)


def conv_autoencoder(input_shape=(28, 28, 1), filters=(16, 32), code_dim=32, kernel_size=3, noise=None,
                     noise_level=0.0, l2=0.0, seed=None, name="conv_autoencoder"):
    """Conv2D(f, stride 2, ReLU) per filter -> Dense code -> Dense grid -> Conv2DTranspose
    (stride 2) per filter, reversed -> Conv2D(c, sigmoid). Height and width must be
    divisible by 2^len(filters)."""
    height, width, channels = input_shape
    scale = 2 ** len(filters)
    if height % scale or width % scale:
        raise KerasGenError(f"conv_autoencoder input {tuple(input_shape)} is not divisible by 2^{len(filters)}")
    reg = _regularizer(0.0, l2)
    x = keras.Input(tuple(input_shape), name="x")
    h = x
    noise_layer = _noise_layer(noise, noise_level, seed)
    if noise_layer is not None:
        h = noise_layer(h)
    for i, f in enumerate(filters):
        h = keras.layers.Conv2D(f, kernel_size, strides=2, padding="same", activation="relu",
                                kernel_regularizer=reg, name=f"encoder_conv_{i}")(h)
    h = keras.layers.Flatten(name="encoder_flatten")(h)
    h = keras.layers.Dense(code_dim, activation="relu", kernel_regularizer=reg, name="code")(h)
    grid = (height // scale, width // scale, filters[-1])
    h = keras.layers.Dense(int(np.prod(grid)), activation="relu", kernel_regularizer=reg, name="decoder_grid")(h)
    h = keras.layers.Reshape(grid, name="decoder_reshape")(h)
    for i, f in enumerate(reversed(filters)):
        h = keras.layers.Conv2DTranspose(f, kernel_size, strides=2, padding="same", activation="relu",
                                         kernel_regularizer=reg, name=f"decoder_deconv_{i}")(h)
    out = keras.layers.Conv2D(channels, kernel_size, padding="same", activation="sigmoid", name="reconstruction")(h)
    return keras.Model(x, out, name=name)


def encoder_of(model):
    """x -> the code h of any autoencoder built here (shares its layers)."""
    return keras.Model(model.input, model.get_layer("code").output, name=f"{model.name}_encoder")
