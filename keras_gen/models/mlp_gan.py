"""Small MLP generator and discriminator for 1-D and 2-D toy distributions.

    G  z[latent_dim] -> Dense(h) ReLU x len(hidden) -> Dense(data_dim) (linear)
    D  x[data_dim]   -> Dense(h) LeakyReLU(0.2) x len(hidden) -> Dense(1) (logit / score)

`data_mean` / `data_std` (scalars or per-dimension) put the data's scale into the
networks: G's output is `data_mean + data_std * out` and D standardises its input with
the same numbers (fixed `Rescaling`, not trained). Without it D sees e.g. x ~ 4 while
every first-layer kink (bias 0) sits at x = 0, so D is linear on the data and can only
compare means, a degenerate "equilibrium".

`condition_dim=k` gives G the inputs `[z, y]` and D the inputs `[x, y]` (y concatenated to
the first layer's input: a one-hot label or codes); `heads={name: units}` makes D return
a dict `{"logit": ..., name: [batch, units]}` with one extra last layer per head on the
shared hidden layers (ACGAN's class logits, InfoGAN's Q).

No normalisation layers, so the same D works as a GAN discriminator, a clipped WGAN
critic and a WGAN-GP critic (whose per-example penalty forbids batch statistics).
"""
import keras

from keras_gen.layers.condition import check_condition_dim, check_heads


def _scale(data_mean, data_std):
    if data_mean is None and data_std is None:
        return None
    mean = 0.0 if data_mean is None else data_mean
    std = 1.0 if data_std is None else data_std
    return mean, std


def _condition(first, condition_dim, name):
    """(inputs, tensor): `first` alone, or `[first, y]` and their concatenation."""
    check_condition_dim(condition_dim)
    if not condition_dim:
        return first, first
    y = keras.Input((int(condition_dim),), name="y")
    return [first, y], keras.layers.Concatenate(name=name)([first, y])


def mlp_generator(data_dim=2, latent_dim=2, hidden=(128, 128, 128), data_mean=None, data_std=None,
                  condition_dim=0, name="mlp_generator"):
    """G: z (or [z, y]) -> x in R^data_dim (then `data_mean + data_std * x` if given)."""
    # === Layers ===
    z = keras.Input((latent_dim,), name="z")
    inputs, h = _condition(z, condition_dim, "z_y")
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, activation="relu", name=f"hidden{i}")(h)
    x = keras.layers.Dense(data_dim, name="output")(h)
    scale = _scale(data_mean, data_std)
    if scale is not None:
        x = keras.layers.Rescaling(scale=scale[1], offset=scale[0], name="to_data_scale")(x)
    # === Functional Model ===
    return keras.Model(inputs, x, name=name)


def mlp_discriminator(data_dim=2, hidden=(128, 128, 128), data_mean=None, data_std=None, condition_dim=0,
                      heads=None, name="mlp_discriminator"):
    """D: x (or [x, y]) -> one logit (GAN) or score (WGAN critic), or a dict with `heads`.

    Standardises x first if given the data's scale; y joins the standardised x.
    """
    heads = check_heads(heads)
    # === Layers ===
    x = keras.Input((data_dim,), name="x")
    h = x
    scale = _scale(data_mean, data_std)
    if scale is not None:
        h = keras.layers.Rescaling(scale=1.0 / scale[1], offset=-scale[0] / scale[1], name="standardize")(h)
    inputs = x
    if condition_dim:
        check_condition_dim(condition_dim)
        inputs = [x, keras.Input((int(condition_dim),), name="y")]
        h = keras.layers.Concatenate(name="x_y")([h, inputs[1]])
    for i, units in enumerate(hidden):
        h = keras.layers.Dense(units, name=f"hidden{i}")(h)
        h = keras.layers.LeakyReLU(negative_slope=0.2, name=f"hidden{i}_lrelu")(h)
    out = keras.layers.Dense(1, name="logit")(h)
    if not heads:
        # === Functional Model ===
        return keras.Model(inputs, out, name=name)
    outputs = {"logit": out}
    for head, units in heads.items():
        outputs[head] = keras.layers.Dense(units, name=head)(h)
    # === Functional Model ===
    return keras.Model(inputs, outputs, name=name)
