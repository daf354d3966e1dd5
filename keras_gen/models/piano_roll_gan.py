"""A generator and a WGAN critic for [2, 88, 1] piano-roll frames (the group's "wgan-5000").

The frames are two time steps of an 88-key roll, binary and sparse (a few per cent of
keys on). Convolutions run along the key axis (width 88), where pitch structure is
(chords, octaves); the time axis has only two rows.

    G  z[64] -> projection Dense 2*22*64 -> ReLU -> [2,22,64]
       -> ConvT(32, (1,5), s(1,2)) ReLU [2,44,32] -> ConvT(16, (1,5), s(1,2)) ReLU [2,88,16]
       -> Conv(1, (2,13), same) sigmoid [2,88,1]    (note-on probabilities in [0, 1])
    C  x[2,88,1] -> Conv(32, (2,13), s(1,2)) LReLU [2,44,32]
       -> Conv(64, (2,5), s(1,2)) LReLU [2,22,64] -> Flatten -> Dense(1) (score, no sigmoid)

The critic has no normalisation, so it serves both weight clipping (WGAN) and the
gradient penalty (WGAN-GP).
"""
import keras

ROWS, KEYS = 2, 88


def piano_roll_generator(latent_dim=64, width=64, name="piano_roll_generator"):
    """G: z -> [2, 88, 1] note-on probabilities."""
    # === Layers ===
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Dense(ROWS * (KEYS // 4) * width, name="projection")(z)
    h = keras.layers.Reshape((ROWS, KEYS // 4, width), name="projection_reshape")(h)
    h = keras.layers.ReLU(name="projection_relu")(h)
    h = keras.layers.Conv2DTranspose(width // 2, (1, 5), strides=(1, 2), padding="same",
                                     activation="relu", name="up1_convt")(h)
    h = keras.layers.Conv2DTranspose(width // 4, (1, 5), strides=(1, 2), padding="same",
                                     activation="relu", name="up2_convt")(h)
    x = keras.layers.Conv2D(1, (ROWS, 13), padding="same", activation="sigmoid", name="output_conv")(h)
    # === Functional Model ===
    return keras.Model(z, x, name=name)


def piano_roll_critic(width=32, name="piano_roll_critic"):
    """C: [2, 88, 1] -> one score (linear)."""
    # === Layers ===
    x = keras.Input((ROWS, KEYS, 1), name="x")
    h = keras.layers.Conv2D(width, (ROWS, 13), strides=(1, 2), padding="same", name="down1_conv")(x)
    h = keras.layers.LeakyReLU(negative_slope=0.2, name="down1_lrelu")(h)
    h = keras.layers.Conv2D(width * 2, (ROWS, 5), strides=(1, 2), padding="same", name="down2_conv")(h)
    h = keras.layers.LeakyReLU(negative_slope=0.2, name="down2_lrelu")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    out = keras.layers.Dense(1, name="score")(h)
    # === Functional Model ===
    return keras.Model(x, out, name=name)
