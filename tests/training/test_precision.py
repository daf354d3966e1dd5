"""Mixed precision: losses in float32, LossScaleOptimizer for float16 (both players of a
GAN), and one GAN / VAE / GMMN / AAE / RBM step that trains under each policy."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.training import configure
from keras_gen.training.precision import loss_scaled, to_float32, uses_float16
from keras_gen.training.strategy import apply_gradients, global_mean


@pytest.fixture
def policy():
    def set_policy(name):
        configure(precision=name)

    yield set_policy
    keras.mixed_precision.set_global_policy("float32")


def test_to_float32_casts_up_only():
    x = {"a": tf.constant([1.5], tf.bfloat16), "b": tf.constant([1.0], tf.float64), "c": tf.constant([2], tf.int32)}
    y = to_float32(x)
    assert (y["a"].dtype, y["b"].dtype, y["c"].dtype) == (tf.float32, tf.float64, tf.int32)


def test_global_mean_of_low_precision_values_is_float32():
    assert global_mean(tf.constant([1.0, 2.0], tf.float16)).dtype == tf.float32


def test_loss_scaled_wraps_only_under_float16(policy):
    opt = keras.optimizers.SGD(0.1)
    assert loss_scaled(opt) is opt and not uses_float16()
    policy("mixed_bfloat16")
    assert loss_scaled(opt) is opt  # bfloat16 has float32's range: no scaling
    policy("mixed_float16")
    assert isinstance(loss_scaled(opt), keras.optimizers.LossScaleOptimizer)


def test_scaled_gradients_are_unscaled_by_the_optimizer():
    v = tf.Variable([1.0, -2.0])
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=1024.0)
    opt.build([v])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(v ** 2)
    grads = apply_gradients(opt, loss, [v], tape)
    np.testing.assert_allclose(grads[0].numpy(), 1024.0 * np.array([2.0, -4.0]))  # d(scale * loss)
    np.testing.assert_allclose(v.numpy(), [1.0 - 0.5 * 2.0, -2.0 + 0.5 * 4.0])  # the unscaled SGD step


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
def test_every_family_trains_a_step_with_float32_losses(policy, precision):
    from keras_gen.data import EpochBatches
    from tests.distributed import families

    policy(precision)
    for kind in ("dcgan_r1", "wgangp", "vae", "aae", "gmmn", "rbm"):
        model = families.build(kind)
        if kind == "dcgan_r1":
            assert model.generator.layers[-1].compute_dtype == precision.split("_")[1]
            if precision == "mixed_float16":
                assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
                assert isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
        batches = EpochBatches(families.data(kind), 8, seed=3)
        before = [w.numpy().copy() for w in model.trainable_weights]
        logs = model.fit(batches.dataset(1), steps_per_epoch=batches.steps_per_epoch, epochs=1, verbose=0).history
        for name, values in logs.items():
            assert np.isfinite(values[-1]), (kind, name)
        moved = max(float(np.max(np.abs(a - b.numpy()))) for a, b in zip(before, model.trainable_weights))
        assert moved > 0, kind
        for w in model.weights:
            assert w.dtype in ("float32", "int64", "int32", "bool"), (kind, w.path, w.dtype)


def test_float32_l1_matches_numpy_for_low_precision_codes():
    from keras_gen.models.autoencoder import Float32L1

    x = np.array([[0.5, -1.25], [2.0, 0.0]], np.float32)
    value = Float32L1(0.1)(tf.constant(x, tf.bfloat16))
    assert value.dtype == tf.float32
    np.testing.assert_allclose(float(value), 0.1 * np.abs(x).sum(), rtol=1e-6)


def test_s1_under_mixed_bfloat16_keeps_float32_output_and_saves(policy, tmp_path):
    from keras_gen.models import group_meeting_autoencoder

    model = group_meeting_autoencoder(precision="mixed_bfloat16")
    assert model.get_layer("code").compute_dtype == "bfloat16"
    assert model.get_layer("output").compute_dtype == "float32" and model.output.dtype == "float32"
    assert all(w.dtype == "float32" for w in model.weights)
    model.compile(optimizer="adam", loss="mse")
    x = (np.random.RandomState(0).uniform(size=(16, 2, 88, 1)) < 0.1).astype("float32")
    loss = model.fit(x, x, batch_size=8, epochs=1, verbose=0).history["loss"][-1]
    assert np.isfinite(loss)
    model.save(tmp_path / "s1.keras")
    again = keras.models.load_model(tmp_path / "s1.keras")
    assert again.get_layer("code").compute_dtype == "bfloat16"
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=0, atol=1e-6)
    policy("mixed_float16")
    model16 = group_meeting_autoencoder()
    model16.compile(optimizer="adam", loss="mse")  # Keras wraps it for float16 itself
    assert isinstance(model16.optimizer, keras.optimizers.LossScaleOptimizer)
