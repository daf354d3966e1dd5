"""SpectralNorm and spectral_normalize against numpy.linalg.svd and Miyato et al.'s gradient."""
import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.layers import SpectralNorm, power_iteration
from keras_gen.models import dcgan_discriminator, mlp_discriminator, spectral_normalize


def _matrix(layer, kernel):
    """[fan_in, out] as the module documents it, built independently with NumPy."""
    if isinstance(layer, keras.layers.Conv2DTranspose):
        kernel = np.swapaxes(kernel, -1, -2)  # [k, k, out, in] -> [k, k, in, out]
    return kernel.reshape(-1, kernel.shape[-1])


def _top_singular_value(m):
    return np.linalg.svd(m, compute_uv=False)[0]


LAYERS = {
    "dense": (lambda: keras.layers.Dense(6, activation="relu"), (4, 5)),
    "conv2d": (lambda: keras.layers.Conv2D(5, 3, strides=2, padding="same"), (2, 8, 8, 3)),
    "conv2d_transpose": (lambda: keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (2, 4, 4, 5)),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_normalised_kernel_has_unit_spectral_norm(kind):
    keras.utils.set_random_seed(0)
    make, shape = LAYERS[kind]
    layer = SpectralNorm(make())
    x = np.random.RandomState(0).normal(size=shape).astype("float32")
    for _ in range(60):  # one power iteration per training call
        layer(x, training=True)
    raw = layer.layer.kernel.numpy()
    assert float(layer.sigma()) == pytest.approx(_top_singular_value(_matrix(layer.layer, raw)), rel=1e-4)
    normalised = layer.normalized_kernel().numpy()
    assert abs(_top_singular_value(_matrix(layer.layer, normalised)) - 1.0) < 1e-3
    # The stored kernel is never overwritten: training calls leave W as it was.
    np.testing.assert_array_equal(raw, layer.layer.kernel.numpy())


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_output_is_the_wrapped_layer_with_the_normalised_kernel(kind):
    keras.utils.set_random_seed(1)
    make, shape = LAYERS[kind]
    layer = SpectralNorm(make())
    x = np.random.RandomState(1).normal(size=shape).astype("float32")
    out = layer(x).numpy()
    plain = make()
    plain.build(shape)
    plain.set_weights([layer.normalized_kernel().numpy(), layer.layer.bias.numpy()])
    np.testing.assert_allclose(out, plain(x).numpy(), rtol=1e-5, atol=1e-6)


def test_inference_does_not_update_u_and_training_does():
    layer = SpectralNorm(keras.layers.Dense(3))
    x = np.ones((2, 4), "float32")
    layer(x)
    u0 = layer.u.numpy().copy()
    layer(x, training=False)
    np.testing.assert_array_equal(u0, layer.u.numpy())
    layer(x, training=True)
    assert not np.allclose(u0, layer.u.numpy())


def test_gradient_flows_through_sigma_as_in_miyato_et_al():
    """dL/dW = (G - <G, W_SN> u1 v1^T) / sigma with G = dL/dW_SN (Miyato et al. 2018, eq. 12)."""
    keras.utils.set_random_seed(2)
    layer = SpectralNorm(keras.layers.Dense(4, use_bias=False), power_iterations=50)
    x = np.random.RandomState(2).normal(size=(5, 3)).astype("float64")
    layer(x.astype("float32"), training=True)  # build and converge u
    target = np.random.RandomState(3).normal(size=(5, 4))
    with tf.GradientTape() as tape:
        y = layer(x.astype("float32"), training=True)
        loss = tf.reduce_sum(tf.cast(y, tf.float64) * target)
    grad = tape.gradient(loss, layer.layer.kernel).numpy()

    w = layer.layer.kernel.numpy().astype("float64")  # [in, out]; sigma as NumPy sees it
    left, s, right = np.linalg.svd(w)
    sigma, a, b = s[0], left[:, 0], right[0]  # w ~ sigma a b^T
    g = x.T @ target  # dL/dW_SN for L = sum(target * x W_SN)
    w_sn = w / sigma
    want = (g - np.sum(g * w_sn) * np.outer(a, b)) / sigma
    np.testing.assert_allclose(grad, want, rtol=1e-3, atol=1e-5)


def test_power_iteration_estimates_the_top_singular_value():
    m = np.random.RandomState(4).normal(size=(7, 4))
    u = tf.constant(np.ones(4))
    _, sigma = power_iteration(tf.constant(m), u, 100)
    assert float(sigma) == pytest.approx(_top_singular_value(m), rel=1e-8)


def test_spectral_normalize_keeps_names_weights_and_function():
    keras.utils.set_random_seed(5)
    d = mlp_discriminator(2, (8, 8))
    sn = spectral_normalize(d)
    assert [layer.name for layer in sn.layers] == [layer.name for layer in d.layers]
    wrapped = [layer.name for layer in sn.layers if isinstance(layer, SpectralNorm)]
    assert wrapped == ["hidden0", "hidden1", "logit"]
    for name in wrapped:
        np.testing.assert_array_equal(sn.get_layer(name).layer.kernel.numpy(), d.get_layer(name).kernel.numpy())
    assert not any(isinstance(layer, SpectralNorm) for layer in d.layers)  # the original is untouched
    # With converged u, sn(x) = the original network with every kernel divided by its sigma_max.
    x = np.random.RandomState(5).normal(size=(6, 2)).astype("float32")
    for _ in range(100):
        sn(x, training=True)
    ref = keras.models.clone_model(d)
    ref.set_weights(d.get_weights())
    for name in wrapped:
        k = d.get_layer(name).kernel.numpy()
        ref.get_layer(name).kernel.assign(k / _top_singular_value(k))
    np.testing.assert_allclose(sn(x).numpy(), ref(x).numpy(), rtol=1e-4, atol=1e-5)


def test_spectral_normalize_handles_convolutions_and_batch_norm():
    sn = spectral_normalize(dcgan_discriminator(width=4), power_iterations=2, name="sn_dcgan_d")
    assert sn.name == "sn_dcgan_d"
    kinds = {layer.name: type(layer).__name__ for layer in sn.layers}
    assert kinds["down0_conv"] == kinds["down1_conv"] == kinds["logit_conv"] == "SpectralNorm"
    assert kinds["down1_bn"] == "BatchNormalization"
    assert sn.get_layer("down1_conv").power_iterations == 2
    assert sn(np.zeros((2, 28, 28, 1), "float32"), training=True).shape == (2, 1)


def test_spectral_normalize_handles_sequential_and_nested_models():
    seq = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="a"), keras.layers.ReLU(name="relu"),
                            keras.layers.Dense(1, name="b")], name="seq")
    sn_seq = spectral_normalize(seq)
    assert [type(layer).__name__ for layer in sn_seq.layers] == ["SpectralNorm", "ReLU", "SpectralNorm"]
    np.testing.assert_array_equal(sn_seq.get_layer("b").layer.kernel.numpy(), seq.get_layer("b").kernel.numpy())

    x = keras.Input((3,))
    inner = keras.Model(x, keras.layers.Dense(4, name="inner_dense")(x), name="inner")
    y = keras.Input((3,))
    outer = keras.Model(y, keras.layers.Dense(1, name="outer_dense")(inner(y)))
    sn_outer = spectral_normalize(outer)
    inner_copy = sn_outer.get_layer("inner").get_layer("inner_dense")
    assert isinstance(inner_copy, SpectralNorm)
    np.testing.assert_array_equal(inner_copy.layer.kernel.numpy(), inner.get_layer("inner_dense").kernel.numpy())


def test_wrapped_model_round_trips_through_keras_files(tmp_path):
    keras.utils.set_random_seed(6)
    sn = spectral_normalize(dcgan_discriminator(width=4))
    x = np.random.RandomState(6).uniform(-1, 1, size=(3, 28, 28, 1)).astype("float32")
    for _ in range(3):
        sn(x, training=True)
    path = str(tmp_path / "sn.keras")
    sn.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("down1_conv"), SpectralNorm)
    for a, b in zip(loaded.weights, sn.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(loaded(x).numpy(), sn(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(loaded(x, training=True).numpy(), sn(x, training=True).numpy(), rtol=1e-5)


def test_bad_input_raises_clear_errors():
    with pytest.raises(KerasGenError, match="SpectralNorm wraps Dense"):
        SpectralNorm(keras.layers.LayerNormalization())
    with pytest.raises(KerasGenError, match="causal"):
        SpectralNorm(keras.layers.Conv1D(2, 3, padding="causal"))
    with pytest.raises(KerasGenError, match="power_iterations"):
        SpectralNorm(keras.layers.Dense(2), power_iterations=0)

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(KerasGenError, match="functional or Sequential"):
        spectral_normalize(Subclassed())
