"""DCGAN G and D (S4): every rule of notes 003 checked layer by layer, for 28x28x1 and 32x32x3."""
import numpy as np
import pytest
import keras

from keras_gen.errors import KerasGenError
from keras_gen.models import GAN, WGANGP, dcgan_discriminator, dcgan_generator

SHAPES = [(28, 28, 1), (32, 32, 3)]
POOLING = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling2D,
           keras.layers.GlobalMaxPooling2D)


def _layers(model):
    return [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]


def _activation_kinds(model):
    """Names of the non-linearities in order (activation layers and fused activations)."""
    kinds = []
    for layer in _layers(model):
        if isinstance(layer, keras.layers.ReLU):
            kinds.append("relu")
        elif isinstance(layer, keras.layers.LeakyReLU):
            kinds.append("leaky_relu")
        elif isinstance(layer, keras.layers.Activation):
            kinds.append(layer.get_config()["activation"])
        act = getattr(layer, "activation", None)
        if act is not None and not isinstance(layer, keras.layers.Activation) and act.__name__ != "linear":
            kinds.append(act.__name__)
    return kinds


@pytest.fixture(scope="module", params=SHAPES, ids=["28x28x1", "32x32x3"])
def nets(request):
    shape = request.param
    return shape, dcgan_generator(shape, latent_dim=16, width=8), dcgan_discriminator(shape, width=8)


def test_shapes(nets):
    shape, g, d = nets
    assert g.output_shape == (None,) + shape and g.input_shape == (None, 16)
    assert d.input_shape == (None,) + shape and d.output_shape == (None, 1)


def test_rule_strided_convolutions_no_pooling(nets):
    shape, g, d = nets
    for model in (g, d):
        assert not any(isinstance(l, POOLING) for l in model.layers)
        assert not any(isinstance(l, keras.layers.UpSampling2D) for l in model.layers)
    ups = [l for l in g.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    downs = [l for l in d.layers if isinstance(l, keras.layers.Conv2D)]
    # Every resolution change is a stride-2 convolution: G doubles, D halves, from/to the base map.
    n = {28: 2, 32: 3}[shape[0]]
    assert len(ups) == n and all(l.strides == (2, 2) for l in ups)
    assert [l.strides for l in downs[:-1]] == [(2, 2)] * n
    assert downs[-1].strides == (1, 1) and downs[-1].padding == "valid"  # the logit conv covers the map


def test_rule_batchnorm_in_g_and_d(nets):
    _, g, d = nets
    g_convs = [l for l in g.layers if isinstance(l, (keras.layers.Dense, keras.layers.Conv2DTranspose))]
    d_convs = [l for l in d.layers if isinstance(l, keras.layers.Conv2D)]
    g_bn = [l for l in g.layers if isinstance(l, keras.layers.BatchNormalization)]
    d_bn = [l for l in d.layers if isinstance(l, keras.layers.BatchNormalization)]
    # Every hidden layer is normalised; the paper leaves out G's output and D's input layer
    # (and D's logit layer).
    assert len(g_bn) == len(g_convs) - 1 and len(d_bn) == len(d_convs) - 2
    layers = _layers(g)
    for layer in g_convs[:-1]:
        assert isinstance(layers[layers.index(layer) + 1 + isinstance(layers[layers.index(layer) + 1], keras.layers.Reshape)],
                          keras.layers.BatchNormalization)
    assert all(l.synchronized for l in g_bn + d_bn)


def test_rule_no_fully_connected_except_projection(nets):
    _, g, d = nets
    g_dense = [l for l in g.layers if isinstance(l, keras.layers.Dense)]
    assert len(g_dense) == 1 and _layers(g)[0] is g_dense[0]  # the projection of z, first layer
    assert not any(isinstance(l, (keras.layers.Dense, keras.layers.Flatten)) for l in d.layers)


def test_rule_relu_in_g_tanh_output(nets):
    _, g, _ = nets
    kinds = _activation_kinds(g)
    assert kinds[-1] == "tanh" and set(kinds[:-1]) == {"relu"}
    n_hidden = sum(isinstance(l, (keras.layers.Dense, keras.layers.Conv2DTranspose)) for l in g.layers) - 1
    assert len(kinds) == n_hidden + 1
    assert _layers(g)[-1].name == "output_tanh"


def test_rule_leaky_relu_everywhere_in_d(nets):
    _, _, d = nets
    kinds = _activation_kinds(d)
    n_hidden = sum(isinstance(l, keras.layers.Conv2D) for l in d.layers) - 1
    assert kinds == ["leaky_relu"] * n_hidden  # the logit stays linear (the loss applies the sigmoid)


def test_critic_variants_for_wgan_gp():
    d = dcgan_discriminator((28, 28, 1), width=4, normalization="layer")
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in d.layers)
    assert any(isinstance(l, keras.layers.LayerNormalization) for l in d.layers)
    with pytest.raises(KerasGenError, match="normalization"):
        dcgan_discriminator(normalization="group")
    with pytest.raises(KerasGenError, match="square"):
        dcgan_generator((28, 32, 1))


def test_dcgan_fit_step_and_wgangp_with_layer_norm():
    x = np.random.RandomState(0).uniform(-1, 1, size=(16, 28, 28, 1)).astype("float32")
    for cls, d in ((GAN, dcgan_discriminator(width=4)), (WGANGP, dcgan_discriminator(width=4, normalization="layer"))):
        g = dcgan_generator(latent_dim=8, width=4)
        model = cls(generator=g, discriminator=d, **({"n_critic": 2} if cls is WGANGP else {}))
        model.compile(run_eagerly=True)  # one step: tracing would cost more than it saves
        before = [w.numpy().copy() for w in g.trainable_weights]
        hist = model.fit(x, batch_size=8, epochs=1, verbose=0).history
        assert all(np.isfinite(v[-1]) for v in hist.values())
        assert all(np.any(a != b.numpy()) for a, b in zip(before, g.trainable_weights))


def test_optional_dropout_follows_every_hidden_leaky_relu():
    plain = dcgan_discriminator(width=4)
    assert not any(isinstance(l, keras.layers.Dropout) for l in plain.layers)
    d = dcgan_discriminator(width=4, dropout=0.3)
    names = [l.name for l in d.layers]
    lrelus = [n for n in names if n.endswith("_lrelu")]
    assert len(lrelus) == 2
    for n in lrelus:
        nxt = d.layers[names.index(n) + 1]
        assert isinstance(nxt, keras.layers.Dropout) and nxt.rate == pytest.approx(0.3)
    x = np.random.RandomState(0).uniform(-1, 1, (2, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(d(x, training=False), d(x, training=False))  # inference is deterministic
    with pytest.raises(KerasGenError, match="dropout"):
        dcgan_discriminator(width=4, dropout=1.0)


def test_optional_base_convolutions_keep_the_rules():
    g = dcgan_generator(latent_dim=8, width=4, base_convs=2)
    base = [l for l in g.layers if l.name.startswith("base") and isinstance(l, keras.layers.Conv2DTranspose)]
    assert len(base) == 2 and all(l.strides == (1, 1) for l in base)
    assert all(isinstance(g.get_layer(f"base{j}_bn"), keras.layers.BatchNormalization) for j in range(2))
    assert all(isinstance(g.get_layer(f"base{j}_relu"), keras.layers.ReLU) for j in range(2))
    assert g.output_shape == (None, 28, 28, 1)
    assert len([l for l in g.layers if isinstance(l, keras.layers.Dense)]) == 1  # still only the projection
    with pytest.raises(KerasGenError, match="base_convs"):
        dcgan_generator(base_convs=-1)
