"""CGAN (S7), ACGAN (S8), InfoGAN (S9), BiGAN (S10): losses against NumPy, conditioning,
train steps, configs, `.keras` save/load, argument errors."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models import (ACGAN, BiGAN, CGAN, InfoGAN, bigan_discriminator, bigan_encoder, dcgan_discriminator,
                              dcgan_generator, mlp_discriminator, mlp_generator)

K = 3  # classes / categories of the toy players


def _softplus(t):
    return np.logaddexp(0.0, t)


def _log_softmax(t):
    t = t - t.max(-1, keepdims=True)
    return t - np.log(np.exp(t).sum(-1, keepdims=True))


def _labelled(n=48, seed=0):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, K, n)
    x = (rng.normal(size=(n, 2)) * 0.3 + np.stack([np.cos(2 * np.pi * y / K), np.sin(2 * np.pi * y / K)], 1) * 2)
    return x.astype("float32"), y


def _dataset(n=48, batch=16):
    x, y = _labelled(n)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch, drop_remainder=True)


def make(kind, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    if kind == "cgan":
        return CGAN(mlp_generator(2, 4, (16,), condition_dim=K), mlp_discriminator(2, (16,), condition_dim=K),
                    num_classes=K, seed=seed, **kwargs)
    if kind == "acgan":
        return ACGAN(mlp_generator(2, 4, (16,), condition_dim=K), mlp_discriminator(2, (16,), heads={"class_logits": K}),
                     num_classes=K, seed=seed, **kwargs)
    if kind == "infogan":
        return InfoGAN(mlp_generator(2, 4, (16,), condition_dim=K + 2),
                       mlp_discriminator(2, (16,), heads={"code_logits": K, "code_mean": 2}),
                       num_categories=K, num_continuous=2, seed=seed, **kwargs)
    if kind == "bigan":
        enc = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
        z, x = keras.Input((4,)), keras.Input((2,))
        h = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([x, z]))
        disc = keras.Model([x, z], keras.layers.Dense(1)(h))
        return BiGAN(mlp_generator(2, 4, (16,)), disc, enc, seed=seed, **kwargs)
    raise ValueError(kind)


KINDS = ["cgan", "acgan", "infogan", "bigan"]
METRICS = {
    "cgan": {"d_loss", "g_loss", "d_real", "d_fake"},
    "acgan": {"d_loss", "g_loss", "d_real", "d_fake", "class_acc_real", "class_acc_fake"},
    "infogan": {"d_loss", "g_loss", "d_real", "d_fake", "info_loss", "mi_lower_bound", "code_accuracy", "info_weight"},
    "bigan": {"d_loss", "g_loss", "e_loss", "d_real", "d_fake"},
}


def _weights(nets):
    return [w.numpy().copy() for net in nets for w in net.trainable_weights]


def _players(model):
    nets = [model.generator, model.discriminator]
    return nets + ([model.encoder] if isinstance(model, BiGAN) else [])


@pytest.mark.parametrize("kind", KINDS)
def test_fit_gives_finite_metrics_and_moves_every_network(kind):
    model = make(kind)
    model.compile()
    before = [_weights([net]) for net in _players(model)]
    hist = model.fit(_dataset(), epochs=1, verbose=0).history
    assert set(hist) == METRICS[kind]
    assert all(np.isfinite(v[-1]) for v in hist.values())
    for net, old in zip(_players(model), before):
        changed = [np.any(a != b) for a, b in zip(old, _weights([net]))]
        assert all(changed), (kind, net.name)


@pytest.mark.parametrize("kind", KINDS)
def test_config_round_trip_and_keras_save_load(kind, tmp_path):
    model = make(kind, seed=1)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(2e-3))
    model.fit(_dataset(), epochs=1, verbose=0)
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = str(tmp_path / f"{kind}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    kwargs = {"labels": [0, 1, 2, 1]} if kind in ("cgan", "acgan") else {}
    np.testing.assert_allclose(loaded.generate(4, seed=3, **kwargs), model.generate(4, seed=3, **kwargs), rtol=1e-6)
    assert int(loaded.g_optimizer.iterations) == 3
    loaded.fit(_dataset(), epochs=1, verbose=0)  # training resumes


# === CGAN ===
def test_cgan_feeds_the_label_to_both_players():
    model = make("cgan")
    x, y = _labelled(6)
    onehot = np.eye(K, dtype="float32")[y]
    other = np.eye(K, dtype="float32")[(y + 1) % K]
    # D's output depends on the label it is shown
    assert not np.allclose(model.discriminate(x, onehot).numpy(), model.discriminate(x, other).numpy())
    # G: the same z with another label gives another sample; generate(labels) uses them
    a = model.generate(6, labels=y, seed=0)
    b = model.generate(6, labels=(y + 1) % K, seed=0)
    assert not np.allclose(a, b)
    z = model.sample_latents(6, tf.constant([0, 0], tf.int64))
    np.testing.assert_allclose(a, model.generator([z, tf.constant(onehot)]).numpy(), rtol=1e-6)


def test_cgan_step_trains_on_the_batch_labels():
    """The D loss of a step is the minimax loss of D(x|y) and D(G(z|y)|y), y the batch's labels."""
    model = make("cgan", seed=2)
    model.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    x, y = _labelled(8)
    onehot = tf.constant(np.eye(K, dtype="float32")[y])
    z = model.sample_latents(8, model.step_seed(0))
    fake = model.generator([z, onehot], training=True)
    r = model.discriminator([tf.constant(x), onehot]).numpy()[:, 0]
    f = model.discriminator([fake, onehot]).numpy()[:, 0]
    expected = np.mean(_softplus(-r) + _softplus(f))
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["d_loss"] == pytest.approx(expected, rel=1e-5)


def test_cgan_argument_and_label_errors():
    g, d = mlp_generator(2, 4, (8,), condition_dim=K), mlp_discriminator(2, (8,), condition_dim=K)
    with pytest.raises(KerasGenError, match="condition_dim=5"):
        CGAN(g, d, num_classes=5)
    with pytest.raises(KerasGenError, match="condition_dim"):
        CGAN(mlp_generator(2, 4, (8,)), d, num_classes=K)
    model = CGAN(g, d, num_classes=K)
    with pytest.raises(KerasGenError, match=r"in \[0, 2\]"):
        model.generate(2, labels=[0, 3])
    with pytest.raises(KerasGenError, match="one class id or 3"):
        model.generate(3, labels=[0, 1])
    with pytest.raises(KerasGenError, match="integer class ids"):
        model.generate(2, labels=[0.5, 1])
    model.compile()
    with pytest.raises(KerasGenError, match=r"\(images, labels\)"):
        model.train_on_batch(_labelled(4)[0])


# === ACGAN ===
def test_acgan_losses_match_the_formulas():
    model = make("acgan", class_weight=0.7)
    rng = np.random.RandomState(0)
    y = np.eye(K, dtype="float32")[rng.randint(0, K, 5)]
    real = {"logit": rng.normal(size=(5, 1)).astype("float32"), "class_logits": rng.normal(size=(5, K)).astype("float32")}
    fake = {"logit": rng.normal(size=(5, 1)).astype("float32"), "class_logits": rng.normal(size=(5, K)).astype("float32")}
    batch = {"condition": tf.constant(y)}
    d_loss, logs = model.discriminator_loss(real, fake, batch)
    ce_real = -(y * _log_softmax(real["class_logits"])).sum(1)
    ce_fake = -(y * _log_softmax(fake["class_logits"])).sum(1)
    expected = _softplus(-real["logit"][:, 0]) + _softplus(fake["logit"][:, 0]) + 0.7 * (ce_real + ce_fake)
    np.testing.assert_allclose(d_loss.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(logs["class_acc_real"].numpy(),
                               (real["class_logits"].argmax(1) == y.argmax(1)).astype("float32"))
    g_loss, _ = model.generator_loss(fake, batch)
    np.testing.assert_allclose(g_loss.numpy(), _softplus(-fake["logit"][:, 0]) + 0.7 * ce_fake, rtol=1e-5)


def test_acgan_discriminator_sees_only_the_image_and_checks_its_heads():
    model = make("acgan")
    assert model.discriminator_inputs("x", "y") == "x"
    g = mlp_generator(2, 4, (8,), condition_dim=K)
    with pytest.raises(KerasGenError, match="heads="):
        ACGAN(g, mlp_discriminator(2, (8,)), num_classes=K)
    with pytest.raises(KerasGenError, match="heads="):
        ACGAN(g, mlp_discriminator(2, (8,), heads={"class_logits": K + 1}), num_classes=K)
    with pytest.raises(KerasGenError, match="class_weight"):
        make("acgan", class_weight=-1)


# === InfoGAN ===
def test_infogan_codes_are_drawn_as_specified():
    model = make("infogan")
    latents = model.sample_latents(6000, tf.constant([3, 4], tf.int64))
    codes = latents["codes"].numpy()
    cat, cont = codes[:, :K], codes[:, K:]
    assert latents["z"].shape == (6000, 4)
    np.testing.assert_array_equal(cat.sum(1), 1.0)  # one-hot
    shares = cat.mean(0)
    assert np.all(np.abs(shares - 1 / K) < 0.03)  # uniform over categories (6000 draws: sd ~0.006)
    assert cont.min() >= -1 and cont.max() <= 1 and np.all(np.abs(cont.mean(0)) < 0.05)
    assert np.all(np.abs(cont.var(0) - 1 / 3) < 0.03)  # U[-1, 1] has variance 1/3


def _infogan_outputs(seed, n=5):
    """Random codes and D/Q outputs for n examples, the loss batch, and NumPy's CE and Gaussian NLL."""
    rng = np.random.RandomState(seed)
    codes = np.concatenate([np.eye(K)[rng.randint(0, K, n)], rng.uniform(-1, 1, (n, 2))], 1).astype("float32")
    real = {"logit": rng.normal(size=(n, 1)).astype("float32")}
    fake = {"logit": rng.normal(size=(n, 1)).astype("float32"),
            "code_logits": rng.normal(size=(n, K)).astype("float32"), "code_mean": rng.normal(size=(n, 2)).astype("float32")}
    batch = {"latents": {"codes": tf.constant(codes)}, "condition": None}
    ce = -(codes[:, :K] * _log_softmax(fake["code_logits"])).sum(1)
    nll = 0.5 * ((codes[:, K:] - fake["code_mean"]) ** 2).sum(1)
    return codes, real, fake, batch, ce, nll


def test_infogan_losses_match_the_formulas():
    model = make("infogan", info_weight=0.5)
    codes, real, fake, batch, ce, nll = _infogan_outputs(seed=1)
    d_loss, logs = model.discriminator_loss(real, fake, batch)
    np.testing.assert_allclose(d_loss.numpy(), _softplus(-real["logit"][:, 0]) + _softplus(fake["logit"][:, 0])
                               + 0.5 * (ce + nll), rtol=1e-5)
    np.testing.assert_allclose(logs["mi_lower_bound"].numpy(), np.log(K) - ce, rtol=1e-5)
    g_loss, _ = model.generator_loss(fake, batch)
    np.testing.assert_allclose(g_loss.numpy(), _softplus(-fake["logit"][:, 0]) + 0.5 * (ce + nll), rtol=1e-5)
    # continuous_weight scales only the continuous codes' term
    weighted = make("infogan", info_weight=0.5, continuous_weight=0.3)
    g_loss, _ = weighted.generator_loss(fake, batch)
    np.testing.assert_allclose(g_loss.numpy(), _softplus(-fake["logit"][:, 0]) + 0.5 * (ce + 0.3 * nll), rtol=1e-5)
    d_loss, logs = weighted.discriminator_loss(real, fake, batch)
    np.testing.assert_allclose(d_loss.numpy(), _softplus(-real["logit"][:, 0]) + _softplus(fake["logit"][:, 0])
                               + 0.5 * (ce + 0.3 * nll), rtol=1e-5)
    np.testing.assert_allclose(logs["mi_lower_bound"].numpy(), np.log(K) - ce, rtol=1e-5)


def test_infogan_ignores_labels_and_generates_requested_codes():
    model = make("infogan")
    x, y = _labelled(4)
    assert model.unpack((x, y))[1] is None
    codes = model.codes(4, categorical=[0, 1, 2, 0], continuous=[0.5, -0.5])
    np.testing.assert_array_equal(codes[:, :K].argmax(1), [0, 1, 2, 0])
    np.testing.assert_array_equal(codes[:, K:], np.tile([0.5, -0.5], (4, 1)))
    a = model.generate(4, codes={"categorical": [0, 1, 2, 0], "continuous": [0.5, -0.5]}, seed=1)
    z = model.sample_latents(4, tf.constant([1, 0], tf.int64))["z"]
    np.testing.assert_allclose(a, model.generator([z, tf.constant(codes)]).numpy(), rtol=1e-6)
    probs, means = model.infer_codes(x)
    assert probs.shape == (4, K) and means.shape == (4, 2)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    with pytest.raises(KerasGenError, match="codes must have shape"):
        model.generate(4, codes=np.zeros((4, 3)))
    with pytest.raises(KerasGenError, match="unknown code names"):
        model.generate(4, codes={"style": 1})
    with pytest.raises(KerasGenError, match="continuous codes"):
        model.codes(2, continuous=[[np.nan, 0], [0, 0]])
    with pytest.raises(KerasGenError, match="heads="):
        InfoGAN(mlp_generator(2, 4, (8,), condition_dim=K + 2), mlp_discriminator(2, (8,), heads={"code_logits": K}),
                num_categories=K, num_continuous=2)
    for bad in ({"noise_std": 0.0}, {"noise_std": float("nan")}, {"continuous_weight": -1.0}):
        with pytest.raises(KerasGenError, match=next(iter(bad))):
            make("infogan", **bad)


def test_infogan_info_weight_schedule():
    model = make("infogan", info_weight=2.0, info_warmup_steps=2, info_ramp_steps=4)
    model.compile()
    expected = {0: 0.0, 2: 0.0, 3: 0.5, 4: 1.0, 6: 2.0, 50: 2.0}  # 2 * clip((t - 2) / 4, 0, 1)
    _, real, fake, batch, ce, nll = _infogan_outputs(seed=2)
    info = ce + nll
    for step, weight in expected.items():
        model.g_optimizer.iterations.assign(step)
        assert float(model.scheduled_info_weight()) == pytest.approx(weight)
        g_loss, _ = model.generator_loss(fake, batch)
        np.testing.assert_allclose(g_loss.numpy(), _softplus(-fake["logit"][:, 0]) + weight * info, rtol=1e-5)
        d_loss, logs = model.discriminator_loss(real, fake, batch)
        np.testing.assert_allclose(d_loss.numpy(), _softplus(-real["logit"][:, 0]) + _softplus(fake["logit"][:, 0])
                                   + weight * info, rtol=1e-5)
        np.testing.assert_allclose(logs["info_weight"].numpy(), weight)
    # inside fit (a traced step), one G iteration per epoch
    fitted = make("infogan", info_weight=2.0, info_warmup_steps=2, info_ramp_steps=2)
    fitted.compile()
    history = fitted.fit(_dataset(n=16, batch=16), epochs=5, verbose=0).history
    np.testing.assert_allclose(history["info_weight"], [0.0, 0.0, 0.0, 1.0, 2.0], atol=1e-6)
    step_only = make("infogan", info_warmup_steps=3)  # no ramp: a step from 0 to info_weight
    step_only.compile()
    for step, weight in {2: 0.0, 3: 1.0}.items():
        step_only.g_optimizer.iterations.assign(step)
        assert float(step_only.scheduled_info_weight()) == weight
    clone = InfoGAN.from_config(model.get_config())
    assert (clone.info_warmup_steps, clone.info_ramp_steps) == (2, 4)
    for bad in ({"info_warmup_steps": -1}, {"info_ramp_steps": 2.5}):
        with pytest.raises(KerasGenError, match=next(iter(bad))):
            make("infogan", **bad)


def test_infogan_noise_std_scales_only_the_noise():
    model = make("infogan", noise_std=0.25)
    codes = model.codes(5, categorical=[0, 1, 2, 0, 1], continuous=[0.5, -0.5])
    out = model.generate(5, codes=codes, seed=3)
    z = model.sample_latents(5, tf.constant([3, 0], tf.int64))["z"]
    assert abs(float(np.std(model.sample_latents(4000, tf.constant([1, 2], tf.int64))["z"])) - 1.0) < 0.03
    np.testing.assert_allclose(out, model.generator([0.25 * z, tf.constant(codes)]).numpy(), rtol=1e-6)
    assert not np.allclose(out, model.generator([z, tf.constant(codes)]).numpy(), atol=1e-3)
    clone = InfoGAN.from_config(model.get_config())
    assert clone.noise_std == 0.25 and clone.continuous_weight == 1.0


# === BiGAN ===
def test_bigan_pairs_and_generator_encoder_loss():
    model = make("bigan")
    x, _ = _labelled(5)
    x = tf.constant(x)
    z = tf.constant(np.random.RandomState(0).normal(size=(5, 4)).astype("float32"))
    # real data is judged with its code E(x), fakes with their z
    np.testing.assert_allclose(model.discriminate(x).numpy(), model.discriminator([x, model.encoder(x)]).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(model.discriminate(x, latents=z).numpy(), model.discriminator([x, z]).numpy(), rtol=1e-6)
    fake = model.generator(z)
    fake_logit = model.discriminator([fake, z]).numpy()[:, 0]
    real_logit = model.discriminator([x, model.encoder(x)]).numpy()[:, 0]
    loss, logs = model.generator_loss(model.discriminator([fake, z]), {"x_real": x, "condition": None})
    # -log D(G(z), z) - log(1 - D(x, E(x)))
    np.testing.assert_allclose(loss.numpy(), _softplus(-fake_logit) + _softplus(real_logit), rtol=1e-5)
    np.testing.assert_allclose(logs["e_loss"].numpy(), _softplus(real_logit), rtol=1e-5)
    assert len(model.g_trainable_variables) == len(model.generator.trainable_variables) + len(
        model.encoder.trainable_variables)
    assert model.encode(x).shape == (5, 4)
    with pytest.raises(KerasGenError, match="encode expects"):
        model.encode(np.zeros((2, 3)))


def test_bigan_builders_and_errors():
    enc, d = bigan_encoder(latent_dim=6, width=4), bigan_discriminator(latent_dim=6, width=4, joint_units=8)
    assert enc.output_shape == (None, 6) and d.output_shape == (None, 1)
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in d.layers)  # per-pair judgement
    g = dcgan_generator(latent_dim=6, width=4)
    BiGAN(g, d, enc)
    with pytest.raises(KerasGenError, match="encoder must map"):
        BiGAN(g, d, bigan_encoder(latent_dim=5, width=4))
    with pytest.raises(KerasGenError, match=r"\[x, z\]"):
        BiGAN(g, bigan_discriminator(latent_dim=5, width=4), enc)


# === Conditional DCGAN networks ===
def test_conditional_dcgan_networks_keep_the_s4_rules():
    g = dcgan_generator(latent_dim=8, width=4, condition_dim=10)
    d = dcgan_discriminator(width=4, condition_dim=10, heads={"class_logits": 10})
    assert g.input_shape == [(None, 8), (None, 10)] and g.output_shape == (None, 28, 28, 1)
    out = d([np.zeros((2, 28, 28, 1), "float32"), np.eye(10, dtype="float32")[:2]])
    assert out["logit"].shape == (2, 1) and out["class_logits"].shape == (2, 10)
    for net in (g, d):
        kinds = {type(l).__name__ for l in net.layers}
        assert not kinds & {"MaxPooling2D", "AveragePooling2D", "UpSampling2D"}
        assert "BatchNormalization" in kinds
    assert [l.name for l in g.layers if isinstance(l, keras.layers.Dense)] == ["projection"]
    assert not any(isinstance(l, keras.layers.Dense) for l in d.layers)
    # the label reaches every pixel of D's input: two labels give different first-layer maps
    tile = d.get_layer("y_tile")
    maps = tile(np.eye(10, dtype="float32")[[3]]).numpy()
    assert maps.shape == (1, 28, 28, 10) and np.all(maps[..., 3] == 1) and np.all(np.delete(maps, 3, -1) == 0)
    with pytest.raises(KerasGenError, match="heads"):
        dcgan_discriminator(width=4, heads={"logit": 3})


def test_dcgan_builders_infogan_paper_options():
    """kernel_size and dense_units build the InfoGAN paper's table-1 networks."""
    g = dcgan_generator(latent_dim=8, width=4, condition_dim=12, kernel_size=4, dense_units=32)
    d = dcgan_discriminator(width=4, kernel_size=4, dense_units=32, heads={"code_logits": 10, "code_mean": 2})
    assert [l.name for l in g.layers if isinstance(l, keras.layers.Dense)] == ["hidden_dense", "projection"]
    assert g.get_layer("hidden_dense").output.shape == (None, 32) and g.output_shape == (None, 28, 28, 1)
    assert all(l.kernel_size == (4, 4) for l in g.layers if isinstance(l, keras.layers.Conv2DTranspose))
    assert all(l.kernel_size == (4, 4) for l in d.layers if isinstance(l, keras.layers.Conv2D))
    dense = {l.name: l for l in d.layers if isinstance(l, keras.layers.Dense)}
    assert set(dense) == {"hidden_dense", "logit", "code_logits", "code_mean"}
    # logit and both Q heads read the same shared body: only the last layer differs (S9)
    body = d.get_layer("hidden_lrelu").output
    assert all(dense[k].input is body for k in ("logit", "code_logits", "code_mean"))
    out = d(np.zeros((3, 28, 28, 1), "float32"))
    assert out["logit"].shape == (3, 1) and out["code_logits"].shape == (3, 10) and out["code_mean"].shape == (3, 2)
    for bad in ({"kernel_size": 0}, {"dense_units": -1}, {"dense_units": 2.5}):
        with pytest.raises(KerasGenError, match=next(iter(bad))):
            dcgan_discriminator(width=4, **bad)
        with pytest.raises(KerasGenError, match=next(iter(bad))):
            dcgan_generator(width=4, **bad)
