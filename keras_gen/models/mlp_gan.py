"""Small MLP generator and discriminator for 1-D and 2-D toy distributions.

    G  z[latent_dim] -> Dense(h) ReLU x len(hidden) -> Dense(data_dim) (linear)
    D  x[data_dim]   -> Dense(h) LeakyReLU(0.2) x len(hidden) -> Dense(1) (logit / score)

`data_mean` / `data_std` (scalars or per-dimension) put the data's scale into the
networks: G's output is `data_mean + data_std * out` and D standardises its input with
the same numbers (fixed `Rescaling`, not trained). Without it D sees e.g. x ~ 4 while
every first-layer kink (bias 0) sits at x = 0, so D is linear on the data and can only
compare means, a degenerate "equilibrium".

No normalisation layers, so the same D works as a GAN discriminator, a clipped WGAN
critic and a WGAN-GP critic (whose per-example penalty forbids batch statistics).
"""
import keras


def _scale(data_mean, data_std):
    if data_mean is None and data_std is None:
        return None
    mean = 0.0 if data_mean is None else data_mean
    std = 1.0 if data_std is None else data_std
    return mean, std


def mlp_generator(data_dim=2, latent_dim=2, hidden=(128, 128, 128), data_mean=None, data_std=None,
                  name="mlp_generator"):
    """G: z -> x in R^data_dim (then `data_mean + data_std * x` if given)."""
    # === Layers ===
    z = keras.Input((latent_dim,), name="z")
    h = z
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="relu", name=f"hidden{i}")(h)
    x = keras.layers.Dense(data_dim, name="output")(h)
    scale = _scale(data_mean, data_std)
    if scale is not None:
        x = keras.layers.Rescaling(scale=scale[1], offset=scale[0], name="to_data_scale")(x)
    # === Functional Model ===
    return keras.Model(z, x, name=name)


def mlp_discriminator(data_dim=2, hidden=(128, 128, 128), data_mean=None, data_std=None,
                      name="mlp_discriminator"):
    """D: x -> one logit (GAN) or score (WGAN critic); standardises x first if given the scale."""
    # === Layers ===
    x = keras.Input((data_dim,), name="x")
    h = x
    scale = _scale(data_mean, data_std)
    if scale is not None:
        h = keras.layers.Rescaling(scale=1.0 / scale[1], offset=-scale[0] / scale[1], name="standardize")(h)
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, name=f"hidden{i}")(h)
        h = keras.layers.LeakyReLU(negative_slope=0.2, name=f"hidden{i}_lrelu")(h)
    out = keras.layers.Dense(1, name="logit")(h)
    # === Functional Model ===
    return keras.Model(x, out, name=name)
