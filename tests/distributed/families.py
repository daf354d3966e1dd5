"""One tiny model of every family, its data and its optimizers: what the multi-worker and
resume tests train. Build inside the strategy's scope; `train` runs `Run.fit`-style
training on a shuffled `EpochBatches` pipeline (full batches) and returns every weight
and optimizer variable (step counters included)."""
import keras
import numpy as np

KINDS = ("ae", "dcgan_r1", "wgan_clip", "wgangp", "cgan", "acgan", "infogan", "bigan", "vae", "cvae", "aae",
         "gmmn", "rbm")


def _images(rng, n, size=28, low=-1.0):
    return rng.uniform(low, 1.0, size=(n, size, size, 1)).astype("float32")


def data(kind):
    """The training arrays of `kind` (24 or 48 examples; a fixed NumPy seed)."""
    rng = np.random.RandomState(0)
    if kind == "ae":
        x = (rng.uniform(size=(48, 2, 88, 1)) < 0.1).astype("float32")
        return (x, x)
    if kind in ("dcgan_r1", "wgan_clip", "bigan"):
        return _images(rng, 24)
    if kind in ("cgan", "acgan", "infogan"):
        return (_images(rng, 24), rng.randint(0, 10, 24).astype("int64"))
    if kind in ("wgangp", "gmmn"):
        return rng.normal(size=(24, 2)).astype("float32")
    if kind == "vae":
        return _images(rng, 24, 8, 0.0)
    if kind == "cvae":
        return (_images(rng, 24, 6, 0.0), rng.randint(0, 3, 24).astype("int64"))
    if kind == "aae":
        return _images(rng, 24, 6, 0.0)
    if kind == "rbm":
        return (rng.uniform(size=(24, 4, 4, 1)) < 0.3).astype("float32")
    raise ValueError(kind)


def build(kind, optimizer=lambda: keras.optimizers.Adam(1e-2)):
    """The compiled model of `kind` (call inside `strategy.scope()`; seeds its weights itself)."""
    from keras_gen import models as m

    keras.utils.set_random_seed(5)
    if kind == "ae":
        model = m.group_meeting_autoencoder(l1=1e-3, l2=1e-3)
        model.compile(optimizer=optimizer(), loss="mse")
        return model
    if kind == "dcgan_r1":
        model = m.GAN(m.dcgan_generator(latent_dim=4, width=4), m.dcgan_discriminator(width=4), r1_weight=1.0, seed=11)
    elif kind == "wgan_clip":
        model = m.WGAN(m.dcgan_generator(latent_dim=4, width=4), m.dcgan_discriminator(width=4, normalization="none"),
                       clip_value=0.05, n_critic=2, seed=11)
    elif kind == "wgangp":
        model = m.WGANGP(m.mlp_generator(2, 3, (8, 8)), m.mlp_discriminator(2, (8, 8)), n_critic=2, seed=11)
    elif kind == "cgan":
        model = m.CGAN(m.dcgan_generator(latent_dim=4, width=4, condition_dim=10),
                       m.dcgan_discriminator(width=4, condition_dim=10), seed=11)
    elif kind == "acgan":
        model = m.ACGAN(m.dcgan_generator(latent_dim=4, width=4, condition_dim=10),
                        m.dcgan_discriminator(width=4, heads={"class_logits": 10}), seed=11)
    elif kind == "infogan":
        model = m.InfoGAN(m.dcgan_generator(latent_dim=4, width=4, condition_dim=12),
                          m.dcgan_discriminator(width=4, heads={"code_logits": 10, "code_mean": 2}), seed=11)
    elif kind == "bigan":
        model = m.BiGAN(m.dcgan_generator(latent_dim=4, width=4),
                        m.bigan_discriminator(latent_dim=4, width=4, joint_units=8, dropout=0.0),
                        m.bigan_encoder(latent_dim=4, width=4), seed=11)
    elif kind == "vae":
        model = m.VAE(m.mlp_encoder((8, 8, 1), 3, hidden=(16,)), m.mlp_decoder(3, (8, 8, 1), hidden=(16,)), seed=3)
        model.compile(optimizer=optimizer())
        return model
    elif kind == "cvae":
        model = m.CVAE(m.mlp_encoder((6, 6, 1), 2, hidden=(16,), condition_dim=3),
                       m.mlp_decoder(2, (6, 6, 1), hidden=(16,), condition_dim=3), num_classes=3, seed=3)
        model.compile(optimizer=optimizer())
        return model
    elif kind == "aae":
        model = m.AAE(m.deterministic_encoder((6, 6, 1), 2, hidden=(16,)), m.mlp_decoder(2, (6, 6, 1), hidden=(16,)),
                      m.latent_discriminator(2, hidden=(16,)), seed=1)
        model.compile(optimizer(), optimizer(), optimizer())
        return model
    elif kind == "gmmn":
        z = keras.Input((3,), name="z")
        h = keras.layers.Dense(16, activation="relu", name="hidden")(z)
        model = m.GMMN(keras.Model(z, keras.layers.Dense(2, name="output")(h)), bandwidths=(0.5, 2.0), seed=5)
        model.compile(optimizer=optimizer())
        return model
    elif kind == "rbm":
        model = m.RBM(n_visible=16, n_hidden=5, k=2, seed=0)
        model.compile(optimizer=optimizer())
        return model
    else:
        raise ValueError(kind)
    model.compile(d_optimizer=optimizer(), g_optimizer=optimizer())
    return model


def optimizers(model):
    """Every optimizer the model holds (one, two or three), in attribute order."""
    found = []
    for value in vars(model).values():
        if isinstance(value, keras.optimizers.Optimizer) and all(value is not o for o in found):
            found.append(value)
    if model.optimizer is not None and all(model.optimizer is not o for o in found):
        found.append(model.optimizer)
    return found


def state(model):
    """`{name: array}` of every weight of the model and every variable of its optimizers."""
    out = {f"w{i}:{v.path}": np.asarray(v.numpy()) for i, v in enumerate(model.weights)}
    for j, opt in enumerate(optimizers(model)):
        for i, v in enumerate(opt.variables):
            out[f"opt{j}.{i}:{v.path}"] = np.asarray(v.numpy())
    return out
