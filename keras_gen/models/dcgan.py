"""S4: DCGAN generator and discriminator (Radford et al. 2016), for 28x28x1 and 32x32x3.

The rules of notes 003, and how each is met here:

    strided convolutions, no pooling      G upsamples with stride-2 Conv2DTranspose,
                                          D downsamples with stride-2 Conv2D
    BatchNorm in G and D                  after every hidden convolution (not on D's
                                          input layer nor G's output, as in the paper)
    no fully connected layers             the only Dense is G's projection of z; D ends
                                          with a convolution whose kernel covers the map
    G: ReLU, Tanh output                  ReLU after every hidden layer, tanh at the end
    D: LeakyReLU everywhere               LeakyReLU(0.2) after every hidden layer

28x28x1, width w = 64:
    G  z[100] -> projection Dense 7*7*2w -> BN, ReLU -> [7,7,2w]
       -> ConvT(w, 5, s2) BN ReLU [14,14,w] -> ConvT(1, 5, s2) tanh [28,28,1]
    D  x[28,28,1] -> Conv(w, 5, s2) LReLU [14,14,w] -> Conv(2w, 5, s2) BN LReLU [7,7,2w]
       -> Conv(1, 7, valid) logits [1]
32x32x3 adds one stage: projection to [4,4,4w], then 8, 16, 32 (and the mirror in D).

Samples are in [-1, 1] (tanh): scale real images x in [0, 1] to 2x - 1.

Two options leave the S4 rules, for the networks of the InfoGAN paper (Chen et al. 2016,
table 1: 4x4 kernels, and one fully connected hidden layer of 1024 units in G before
the projection and in D after the convolutions); both are off by default:

    kernel_size=4                          every convolution's kernel (5 in the DCGAN paper)
    dense_units=1024                       G: z -> Dense(1024) BN ReLU -> projection ...
                                           D: ... -> flatten -> Dense(1024) BN LReLU -> a
                                           Dense output (and heads) on that shared body

Conditions and extra heads (for the conditional and representation GANs, S7-S10):

    dcgan_generator(condition_dim=k)       inputs [z, y]: y (one-hot label, or InfoGAN's
                                           codes) is concatenated to z before the
                                           projection (CGAN, ACGAN, InfoGAN)
    dcgan_discriminator(condition_dim=k)   inputs [x, y]: y is tiled to k constant
                                           feature maps and concatenated to the image
                                           channels, so every convolution sees it (CGAN)
    dcgan_discriminator(heads={...})       outputs a dict {"logit": [b, 1], name: [b, units]}:
                                           each head is its own last convolution on the
                                           shared body (ACGAN's class logits, InfoGAN's Q)

BatchNorm is `synchronized` so that under `MirroredStrategy` its batch statistics are
those of the global batch (N replicas then compute what one replica would). For
WGAN-GP, whose penalty is per example, build D with `normalization="layer"`.
"""
import keras

from keras_gen.layers.condition import TileCondition, check_condition_dim, check_heads

NORMALIZATIONS = ("batch", "layer", "none")
LEAK = 0.2
KERNEL = 5


def _stages(size):
    """Number of stride-2 stages from a base map of at most 7 pixels up to `size`."""
    n = 0
    while size % 2 == 0 and size > 7:
        size //= 2
        n += 1
    return n, size


def _check_shape(image_shape):
    from keras_gen.errors import KerasGenError

    h, w, c = image_shape
    n, base = _stages(h)
    if h != w or n < 2:
        raise KerasGenError(f"DCGAN needs square images whose side halves at least twice down to <= 7 pixels, got {image_shape}")
    return n, base


def _norm(kind, name):
    if kind == "batch":
        return keras.layers.BatchNormalization(momentum=0.9, synchronized=True, name=name)
    if kind == "layer":
        return keras.layers.LayerNormalization(axis=[1, 2, 3], name=name)
    return None


def _check_options(kernel_size, dense_units):
    from keras_gen.errors import KerasGenError

    if not isinstance(kernel_size, int) or kernel_size < 1:
        raise KerasGenError(f"kernel_size must be a positive integer, got {kernel_size!r}")
    if not isinstance(dense_units, int) or dense_units < 0:
        raise KerasGenError(f"dense_units must be an integer >= 0, got {dense_units!r}")


def dcgan_generator(image_shape=(28, 28, 1), latent_dim=100, width=64, condition_dim=0, base_convs=0,
                    kernel_size=KERNEL, dense_units=0, name="dcgan_generator"):
    """The DCGAN generator G: z -> image in [-1, 1] (see the module table).

    Args:
        condition_dim: if > 0, G takes `[z, y]` with `y` of this width (a one-hot label or
            codes), concatenated to z before the projection.
        base_convs: stride-1 transposed convolutions (BN, ReLU) added at the base map after
            the projection (0 in the paper's table; the keras.io MNIST DCGAN has one): more
            depth where it is cheapest.
        kernel_size: kernel of every transposed convolution (5; the InfoGAN paper: 4).
        dense_units: if > 0, a fully connected hidden layer (BN, ReLU) of this width before
            the projection (not a DCGAN rule: the InfoGAN paper's G has 1024).
    """
    if int(base_convs) < 0:
        from keras_gen.errors import KerasGenError

        raise KerasGenError(f"base_convs must be >= 0, got {base_convs}")
    _check_options(kernel_size, dense_units)
    image_shape = tuple(image_shape)
    n, base = _check_shape(image_shape)
    condition_dim = check_condition_dim(condition_dim)
    init = keras.initializers.RandomNormal(stddev=0.02)  # the paper's initialisation
    # === Layers ===
    z = keras.Input((latent_dim,), name="z")
    inputs, h = z, z
    if condition_dim:
        y = keras.Input((condition_dim,), name="y")
        inputs = [z, y]
        h = keras.layers.Concatenate(name="z_y")([z, y])
    if dense_units:
        h = keras.layers.Dense(dense_units, use_bias=False, kernel_initializer=init, name="hidden_dense")(h)
        h = _norm("batch", "hidden_bn")(h)
        h = keras.layers.ReLU(name="hidden_relu")(h)
    channels = width * 2 ** (n - 1)
    h = keras.layers.Dense(base * base * channels, use_bias=False, kernel_initializer=init, name="projection")(h)
    h = keras.layers.Reshape((base, base, channels), name="projection_reshape")(h)
    h = _norm("batch", "projection_bn")(h)
    h = keras.layers.ReLU(name="projection_relu")(h)
    for j in range(int(base_convs)):
        h = keras.layers.Conv2DTranspose(channels, kernel_size, strides=1, padding="same", use_bias=False,
                                         kernel_initializer=init, name=f"base{j}_convt")(h)
        h = _norm("batch", f"base{j}_bn")(h)
        h = keras.layers.ReLU(name=f"base{j}_relu")(h)
    for i in range(1, n):
        channels //= 2
        h = keras.layers.Conv2DTranspose(channels, kernel_size, strides=2, padding="same", use_bias=False,
                                         kernel_initializer=init, name=f"up{i}_convt")(h)
        h = _norm("batch", f"up{i}_bn")(h)
        h = keras.layers.ReLU(name=f"up{i}_relu")(h)
    h = keras.layers.Conv2DTranspose(image_shape[-1], kernel_size, strides=2, padding="same",
                                     kernel_initializer=init, name="output_convt")(h)
    x = keras.layers.Activation("tanh", name="output_tanh")(h)
    # === Functional Model ===
    return keras.Model(inputs, x, name=name)


def dcgan_discriminator(image_shape=(28, 28, 1), width=64, normalization="batch", condition_dim=0, heads=None,
                        dropout=0.0, kernel_size=KERNEL, dense_units=0, name="dcgan_discriminator"):
    """The DCGAN discriminator D: image -> one logit (see the module table).

    Args:
        normalization: "batch" (the DCGAN rule), or "layer"/"none" for a WGAN-GP critic.
        condition_dim: if > 0, D takes `[x, y]`; y is tiled over the image and
            concatenated to its channels (CGAN).
        heads: optional `{name: units}`; D then returns a dict with "logit" and one
            `[batch, units]` output per head, each a last convolution of its own on the
            shared body (ACGAN's class logits, InfoGAN's Q network).
        dropout: if > 0, dropout at this rate after every hidden LeakyReLU (a regulariser
            for small data sets, where D otherwise memorises the training images).
        kernel_size: kernel of every strided convolution (5; the InfoGAN paper: 4).
        dense_units: if > 0, the body ends with a fully connected hidden layer (normalised
            as the convolutions, LeakyReLU) of this width, and the logit and every head are
            Dense layers on it (not a DCGAN rule: the InfoGAN paper's D/Q has 1024).
    """
    from keras_gen.errors import KerasGenError, unknown_name

    if normalization not in NORMALIZATIONS:
        raise unknown_name("normalization", normalization, NORMALIZATIONS)
    if not 0.0 <= float(dropout) < 1.0:
        raise KerasGenError(f"dropout must be in [0, 1), got {dropout}")
    heads = check_heads(heads)
    _check_options(kernel_size, dense_units)
    image_shape = tuple(image_shape)
    n, base = _check_shape(image_shape)
    condition_dim = check_condition_dim(condition_dim)
    init = keras.initializers.RandomNormal(stddev=0.02)
    # === Layers ===
    x = keras.Input(image_shape, name="x")
    inputs, h = x, x
    if condition_dim:
        y = keras.Input((condition_dim,), name="y")
        inputs = [x, y]
        maps = TileCondition(image_shape[0], image_shape[1], name="y_tile")(y)
        h = keras.layers.Concatenate(name="x_y")([x, maps])
    channels = width
    for i in range(n):
        h = keras.layers.Conv2D(channels, kernel_size, strides=2, padding="same", use_bias=(i == 0 or normalization == "none"),
                                kernel_initializer=init, name=f"down{i}_conv")(h)
        if i > 0 and normalization != "none":
            h = _norm(normalization, f"down{i}_{normalization[0]}n")(h)
        h = keras.layers.LeakyReLU(negative_slope=LEAK, name=f"down{i}_lrelu")(h)
        if dropout:
            h = keras.layers.Dropout(dropout, name=f"down{i}_dropout")(h)
        channels *= 2
    if dense_units:
        h = keras.layers.Flatten(name="flatten")(h)
        h = keras.layers.Dense(dense_units, use_bias=normalization == "none", kernel_initializer=init,
                               name="hidden_dense")(h)
        if normalization == "batch":
            h = _norm("batch", "hidden_bn")(h)
        elif normalization == "layer":
            h = keras.layers.LayerNormalization(name="hidden_ln")(h)
        h = keras.layers.LeakyReLU(negative_slope=LEAK, name="hidden_lrelu")(h)
        if dropout:
            h = keras.layers.Dropout(dropout, name="hidden_dropout")(h)
    body = h

    def output(units, name):
        """A last layer on the body: a Dense, or a convolution covering the whole map."""
        if dense_units:
            return keras.layers.Dense(units, kernel_initializer=init, name=name)(body)
        out = keras.layers.Conv2D(units, base, padding="valid", kernel_initializer=init, name=f"{name}_conv")(body)
        return keras.layers.Reshape((units,), name=name)(out)

    logits = output(1, "logit")
    if not heads:
        # === Functional Model ===
        return keras.Model(inputs, logits, name=name)
    outputs = {"logit": logits}
    for head, units in heads.items():
        outputs[head] = output(units, head)
    # === Functional Model ===
    return keras.Model(inputs, outputs, name=name)
