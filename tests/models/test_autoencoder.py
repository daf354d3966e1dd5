"""S1, the group-meeting autoencoder: every layer, shape and parameter, and the loss."""
import numpy as np
import keras
import pytest

from keras_gen.models.autoencoder import decoder, encoder, group_meeting_autoencoder

# (name, class, output shape, params) exactly as in SPEC S1.
S1_LAYERS = [
    ("roll", "InputLayer", (None, 2, 88, 1), 0),
    ("encoder_conv", "Conv2D", (None, 2, 88, 2), 1 * 40 * 1 * 2 + 2),
    ("encoder_flatten", "Reshape", (None, 352), 0),
    ("code", "Dense", (None, 44), 352 * 44 + 44),
    ("decoder_dense", "Dense", (None, 176), 44 * 176 + 176),
    ("decoder_reshape", "Reshape", (None, 1, 176, 1), 0),
    ("decoder_conv", "Conv2D", (None, 1, 176, 1), 1 * 81 * 1 * 1 + 1),
    ("output", "Reshape", (None, 2, 88, 1), 0),
]


def test_every_layer_shape_and_parameter_count():
    model = group_meeting_autoencoder()
    got = [(l.name, type(l).__name__, tuple(l.output.shape), l.count_params()) for l in model.layers]
    assert got == S1_LAYERS
    assert model.count_params() == 82 + 15_532 + 7_920 + 82 == 23_616


def test_layer_hyperparameters():
    model = group_meeting_autoencoder()
    enc, dec = model.get_layer("encoder_conv"), model.get_layer("decoder_conv")
    assert (enc.filters, enc.kernel_size, enc.padding, enc.activation.__name__) == (2, (1, 40), "same", "relu")
    assert (dec.filters, dec.kernel_size, dec.padding, dec.activation.__name__) == (1, (1, 81), "same", "relu")
    assert enc.strides == dec.strides == (1, 1)
    assert model.get_layer("code").activation.__name__ == "hard_sigmoid"
    assert model.get_layer("decoder_dense").activation.__name__ == "sigmoid"


def test_recipe_initialisation_and_glorot_variant():
    model = group_meeting_autoencoder(initialization="recipe")
    k = model.get_layer("decoder_conv").kernel.numpy().ravel()
    expected = np.zeros(81, np.float32)
    expected[40] = 1.0
    np.testing.assert_array_equal(k, expected)
    np.testing.assert_allclose(model.get_layer("decoder_dense").bias.numpy(), np.log(0.05 / 0.95), rtol=1e-6)
    # The identity filter passes the (positive) sigmoid through the ReLU: no output is 0.
    x = np.random.default_rng(0).integers(0, 2, (8, 2, 88, 1)).astype("float32")
    assert np.all(model(x).numpy() > 0)
    keras.utils.set_random_seed(0)
    glorot = group_meeting_autoencoder(initialization="glorot")
    assert np.count_nonzero(glorot.get_layer("decoder_conv").kernel.numpy()) == 81


def test_bad_arguments_name_the_problem():
    from keras_gen.errors import KerasGenError

    with pytest.raises(KerasGenError, match="unknown initialization 'he'"):
        group_meeting_autoencoder(initialization="he")
    with pytest.raises(ValueError, match="l1 must be a finite number >= 0"):
        group_meeting_autoencoder(l1=-1.0)


def _hard_sigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def _numpy_forward(model, x):
    """S1's forward pass written out in NumPy from the model's weights."""
    def conv_row(inp, kernel, bias):  # inp [b, rows, w, cin]; kernel [1, k, cin, cout]; 'same'
        k = kernel.shape[1]
        left = (k - 1) // 2
        pad = np.pad(inp, ((0, 0), (0, 0), (left, k - 1 - left), (0, 0)))
        w = inp.shape[2]
        out = np.zeros(inp.shape[:3] + (kernel.shape[3],))
        for t in range(k):
            out += np.einsum("brwc,cd->brwd", pad[:, :, t:t + w, :], kernel[0, t])
        return out + bias

    w = {l.name: [v.numpy().astype(np.float64) for v in l.weights] for l in model.layers if l.weights}
    a = np.maximum(conv_row(x, *w["encoder_conv"]), 0).reshape(len(x), -1)
    h = _hard_sigmoid(a @ w["code"][0] + w["code"][1])
    d = 1 / (1 + np.exp(-(h @ w["decoder_dense"][0] + w["decoder_dense"][1])))
    y = np.maximum(conv_row(d.reshape(len(x), 1, 176, 1), *w["decoder_conv"]), 0)
    return h, y.reshape(x.shape)


def test_loss_matches_numpy():
    keras.utils.set_random_seed(3)
    l1, l2 = 1e-3, 1e-2
    model = group_meeting_autoencoder(l1=l1, l2=l2, initialization="glorot")
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(1)
    x = (rng.random((16, 2, 88, 1)) < 0.1).astype("float32")
    h, y = _numpy_forward(model, x.astype(np.float64))
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5)
    kernels = [model.get_layer(n).kernel.numpy().astype(np.float64)
               for n in ("encoder_conv", "code", "decoder_dense", "decoder_conv")]
    # loss = MSE + l1 * sum|h| (averaged over the batch) + l2 * sum w^2 over kernels.
    expected = np.mean((y - x) ** 2) + l1 * np.abs(h).sum() / len(x) + l2 * sum((k ** 2).sum() for k in kernels)
    got = model.evaluate(x, x, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_one_fit_step_changes_weights_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    model = group_meeting_autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    x = (np.random.default_rng(2).random((32, 2, 88, 1)) < 0.05).astype("float32")
    before = [w.numpy().copy() for w in model.weights]
    hist = model.fit(x, x, batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.weights))
    path = tmp_path / "s1.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert loaded.get_config()["layers"][1]["config"]["kernel_size"] == (1, 40) or \
        list(loaded.get_config()["layers"][1]["config"]["kernel_size"]) == [1, 40]


def test_encoder_and_decoder_share_the_autoencoders_layers():
    model = group_meeting_autoencoder()
    x = (np.random.default_rng(4).random((5, 2, 88, 1)) < 0.05).astype("float32")
    enc, dec = encoder(model), decoder(model)
    assert enc.output.shape == (None, 44) and dec.input.shape == (None, 44)
    np.testing.assert_allclose(dec(enc(x)).numpy(), model(x).numpy(), atol=1e-6)
    assert dec.get_layer("decoder_conv") is model.get_layer("decoder_conv")
