"""Small MLP generator and discriminator for 1-D and 2-D toy distributions.

    G  z[latent_dim] -> Dense(h) ReLU x len(hidden) -> Dense(data_dim) (linear)
    D  x[data_dim]   -> Dense(h) LeakyReLU(0.2) x len(hidden) -> Dense(1) (logit / score)

No normalisation layers, so the same D works as a GAN discriminator, a clipped WGAN
critic and a WGAN-GP critic (whose per-example penalty forbids batch statistics).
"""
import keras


def mlp_generator(data_dim=2, latent_dim=2, hidden=(128, 128, 128), name="mlp_generator"):
    """G: z -> x in R^data_dim."""
    # === Layers ===
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="relu", name=f"hidden{i}")(h)
    x = keras.layers.Dense(data_dim, name="output")(h)
    # === Functional Model ===
    return keras.Model(z, x, name=name)


def mlp_discriminator(data_dim=2, hidden=(128, 128, 128), name="mlp_discriminator"):
    """D: x -> one logit (GAN) or score (WGAN critic)."""
    # === Layers ===
    x = keras.Input((data_dim,), name="x")
    h = x
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, name=f"hidden{i}")(h)
        h = keras.layers.LeakyReLU(negative_slope=0.2, name=f"hidden{i}_lrelu")(h)
    out = keras.layers.Dense(1, name="logit")(h)
    # === Functional Model ===
    return keras.Model(x, out, name=name)
