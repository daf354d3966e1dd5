"""S1: the group-meeting convolutional autoencoder (notes 000), exactly as specified.

    input                 [b, 2, 88, 1]   two rows of an 88-key piano roll
    encoder_conv          Conv2D(2, (1, 40), same) + ReLU        -> [b, 2, 88, 2]     82
    encoder_flatten       Reshape                                -> [b, 352]
    code                  Dense(44, hard_sigmoid)   (the code h) -> [b, 44]       15,532
    decoder_dense         Dense(176, sigmoid)                    -> [b, 176]       7,920
    decoder_reshape       Reshape                                -> [b, 1, 176, 1]
    decoder_conv          Conv2D(1, (1, 81), same) + ReLU        -> [b, 1, 176, 1]    82
    output                Reshape                                -> [b, 2, 88, 1]
                                                                     total       23,616

    loss = MSE(x_rec, x) + l1 * sum|h| + l2 * sum(w^2)

`h` carries an activity L1 regulariser (Keras 3 averages it over the batch, so the term
is l1 times the mean over examples of sum|h|) and every kernel `w` an L2 regulariser
(biases are not penalised). `hard_sigmoid` is Keras 3's, relu6(x + 3) / 6.

Why the default initialisation is not Glorot (the training recipe)
------------------------------------------------------------------
The output is ReLU(conv(sigmoid(...))). With Glorot-uniform kernels about half of the
81 taps of `decoder_conv` are negative, and the data is ~95% zeros: MSE pushes every
output towards 0, the conv's pre-activation goes negative everywhere, the ReLU's
gradient is then exactly zero and no later step can revive it: every output stays 0
(the all-zeros baseline). Two initialisers fix this without touching the
architecture or the loss:

* `decoder_conv` starts as the identity filter (centre tap 1, every other tap 0,
  bias 0). Its input is a sigmoid, strictly positive, so the ReLU starts in its linear
  region for every key and gradients reach the whole network from step one.
* `decoder_dense`'s bias starts at logit(0.05), about -2.9: the sigmoid starts near
  the piano roll's note density instead of at 0.5, so the first steps are spent
  learning which keys sound rather than undoing a 0.5 everywhere, and the
  pre-activation of the ReLU stays positive while the rest learns.

With these, Adam at 3e-3 with a cosine decay learns reliably from every seed we tried
(see reproductions/group_meeting_autoencoder.py). `initialization="glorot"` builds
the plain-Glorot variant, to show the dead-ReLU failure.
"""
import math

import keras

from keras_gen.data.piano_roll import N_KEYS

ROWS = 2
CODE_UNITS = 44
ENCODER_KERNEL = (1, 40)
DECODER_KERNEL = (1, 81)
# The note density the decoder's bias starts from (the bundled chorales: 0.02-0.04).
START_DENSITY = 0.05
INITIALIZATIONS = ("recipe", "glorot")


@keras.saving.register_keras_serializable(package="keras_gen")
class CentreTap(keras.initializers.Initializer):
    """A `(1, k, c, c)` conv kernel that passes its input through: 1 at the centre tap
    of each channel's own filter, 0 elsewhere (a "delta" or identity filter)."""

    def __call__(self, shape, dtype=None):
        rows, k, c_in, c_out = shape
        if rows != 1 or c_in != c_out:
            raise ValueError(f"CentreTap needs a (1, k, c, c) kernel shape, got {shape}")
        tap = keras.ops.one_hot(k // 2, k, dtype=dtype or "float32")
        eye = keras.ops.eye(c_in, dtype=dtype or "float32")
        return keras.ops.reshape(tap, (1, k, 1, 1)) * keras.ops.reshape(eye, (1, 1, c_in, c_out))

    def get_config(self):
        return {}


@keras.saving.register_keras_serializable(package="keras_gen")
class Float32L1(keras.regularizers.L1):
    """Keras's L1 activity penalty, computed in float32 whatever the layer's compute dtype.

    Formula: `l1 * sum |x|` with x cast up to float32. Keras's own `L1` computes in the
    dtype of its input, so under mixed precision the code layer's penalty would be a
    bfloat16/float16 scalar (and Keras then fails to add it to the float32 losses:
    "Cannot convert a list containing a tensor of dtype bfloat16 to float32").
    """

    def __call__(self, x):
        return self.l1 * keras.ops.sum(keras.ops.absolute(keras.ops.cast(x, "float32")))


def group_meeting_autoencoder(l1=1e-5, l2=1e-5, initialization="recipe", name="group_meeting_autoencoder",
                              precision=None):
    """Builds the exact S1 autoencoder (functional API, 23,616 parameters).

    Args:
        l1: weight of the activity L1 penalty on the 44-unit code h.
        l2: weight of the L2 penalty on every kernel.
        initialization: "recipe" (identity decoder filter, density-matched decoder
            bias; trains reliably) or "glorot" (Keras defaults; the final ReLU dies).
        name: model name.
        precision: the layers' dtype policy: `float32`, `mixed_bfloat16` or
            `mixed_float16` (None: Keras's global policy, which `--precision` sets). The
            weights stay float32; the reconstruction is cast up to float32 by the last
            layer, so the MSE and every metric are computed in float32.

    Returns:
        A `keras.Model` mapping `[b, 2, 88, 1]` rolls to `[b, 2, 88, 1]` reconstructions.
        `encoder(model)` and `decoder(model)` give the two halves, sharing its layers.
    """
    from keras_gen.errors import unknown_name

    if initialization not in INITIALIZATIONS:
        raise unknown_name("initialization", initialization, INITIALIZATIONS)
    for label, value in (("l1", l1), ("l2", l2)):
        if not (isinstance(value, (int, float)) and value >= 0 and math.isfinite(value)):
            raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")
    recipe = initialization == "recipe"
    dtype = _policy(precision)
    kernel_reg = keras.regularizers.L2(l2) if l2 else None

    # === Layers ===
    encoder_conv = keras.layers.Conv2D(
        2, ENCODER_KERNEL, padding="same", activation="relu", kernel_regularizer=kernel_reg, name="encoder_conv",
        dtype=dtype,
    )
    encoder_flatten = keras.layers.Reshape((ROWS * 2 * N_KEYS,), name="encoder_flatten", dtype=dtype)
    code = keras.layers.Dense(
        CODE_UNITS,
        activation="hard_sigmoid",
        kernel_regularizer=kernel_reg,
        activity_regularizer=Float32L1(l1) if l1 else None,
        name="code", dtype=dtype,
    )
    decoder_dense = keras.layers.Dense(
        ROWS * N_KEYS,
        activation="sigmoid",
        kernel_regularizer=kernel_reg,
        bias_initializer=(
            keras.initializers.Constant(math.log(START_DENSITY / (1 - START_DENSITY))) if recipe else "zeros"
        ),
        name="decoder_dense", dtype=dtype,
    )
    decoder_reshape = keras.layers.Reshape((1, ROWS * N_KEYS, 1), name="decoder_reshape", dtype=dtype)
    decoder_conv = keras.layers.Conv2D(
        1,
        DECODER_KERNEL,
        padding="same",
        activation="relu",
        kernel_regularizer=kernel_reg,
        kernel_initializer=CentreTap() if recipe else "glorot_uniform",
        name="decoder_conv", dtype=dtype,
    )
    # float32 output: the reconstruction (and the loss and metrics on it) in full precision.
    output = keras.layers.Reshape((ROWS, N_KEYS, 1), name="output", dtype="float32")

    # === Functional Model ===
    inputs = keras.Input((ROWS, N_KEYS, 1), name="roll")
    h = code(encoder_flatten(encoder_conv(inputs)))
    x_rec = output(decoder_conv(decoder_reshape(decoder_dense(h))))
    return keras.Model(inputs, x_rec, name=name)


def _policy(precision):
    """A dtype policy for `precision` (None: the global policy)."""
    from keras_gen.errors import unknown_name
    from keras_gen.training.cluster import PRECISIONS

    if precision is None:
        return keras.mixed_precision.global_policy()
    if precision not in PRECISIONS:
        raise unknown_name("precision", precision, PRECISIONS)
    return keras.DTypePolicy(precision)


def encoder(model):
    """The encoder half of a `group_meeting_autoencoder`: rolls -> the 44 codes."""
    return keras.Model(model.input, model.get_layer("code").output, name="encoder")


def decoder(model):
    """The decoder half: 44 codes -> rolls, sharing the autoencoder's layers."""
    codes = keras.Input((CODE_UNITS,), name="code")
    x = codes
    for layer_name in ("decoder_dense", "decoder_reshape", "decoder_conv", "output"):
        x = model.get_layer(layer_name)(x)
    return keras.Model(codes, x, name="decoder")
