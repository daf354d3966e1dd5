"""LSTMCell and GRUCell against NumPy implementations of the notes' equations and against Keras."""
import numpy as np
import pytest
import keras

from keras_gen.errors import KerasGenError
from keras_gen.layers import (
    GRUCell, LSTMCell, gru_weights_from_keras, gru_weights_to_keras, lstm_weights_from_keras, lstm_weights_to_keras,
)

B, T, D, U = 3, 6, 4, 5


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_lstm(x, W, Uw, b, output="tanh", h0=None, c0=None, x_mask=None, h_mask=None):
    """The notes' LSTM, one step at a time, with separate W_g, U_g, b_g per gate (g in i, f, o, c)."""
    n = U
    gate = {g: slice(j * n, (j + 1) * n) for j, g in enumerate("ifoc")}
    h = np.zeros((x.shape[0], n)) if h0 is None else h0
    c = np.zeros((x.shape[0], n)) if c0 is None else c0
    hs = []
    for t in range(x.shape[1]):
        xt = x[:, t] if x_mask is None else x[:, t] * x_mask
        hp = h if h_mask is None else h * h_mask

        def pre(g):
            return xt @ W[:, gate[g]] + hp @ Uw[:, gate[g]] + b[gate[g]]

        i, f, o = _sigmoid(pre("i")), _sigmoid(pre("f")), _sigmoid(pre("o"))
        c_tilde = np.tanh(pre("c"))
        c = f * c + i * c_tilde
        h = o * (np.tanh(c) if output == "tanh" else c)
        hs.append(h)
    return np.stack(hs, 1), h, c


def _np_gru(x, W, Uw, b, h0=None, x_mask=None, h_mask=None):
    """The notes' GRU: h = (1 - z) h_prev + z h~, gates (r, z, h~)."""
    n = U
    gate = {g: slice(j * n, (j + 1) * n) for j, g in enumerate("rzh")}
    h = np.zeros((x.shape[0], n)) if h0 is None else h0
    hs = []
    for t in range(x.shape[1]):
        xt = x[:, t] if x_mask is None else x[:, t] * x_mask
        hp = h if h_mask is None else h * h_mask
        r = _sigmoid(xt @ W[:, gate["r"]] + hp @ Uw[:, gate["r"]] + b[gate["r"]])
        z = _sigmoid(xt @ W[:, gate["z"]] + hp @ Uw[:, gate["z"]] + b[gate["z"]])
        h_tilde = np.tanh(xt @ W[:, gate["h"]] + (r * hp) @ Uw[:, gate["h"]] + b[gate["h"]])
        h = (1 - z) * h + z * h_tilde
        hs.append(h)
    return np.stack(hs, 1), h


def _inputs(seed=0):
    return np.random.RandomState(seed).normal(size=(B, T, D)).astype("float32")


def _random_weights(layer, seed):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.normal(scale=0.6, size=w.shape).astype("float32") for w in layer.get_weights()])
    return [w.astype("float64") for w in layer.get_weights()]


@pytest.mark.parametrize("output", ["tanh", "linear"])
def test_lstm_cell_matches_the_notes_equations_step_by_step(output):
    x = _inputs()
    rnn = keras.layers.RNN(LSTMCell(U, output_activation=output), return_sequences=True, return_state=True)
    rnn(x)
    W, Uw, b = _random_weights(rnn, 1)
    seq, h, c = (t.numpy() for t in rnn(x))
    ref_seq, ref_h, ref_c = _np_lstm(x.astype("float64"), W, Uw, b, output=output)
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(c, ref_c, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("use_bias", [True, False])
def test_gru_cell_matches_the_notes_equations_step_by_step(use_bias):
    x = _inputs(2)
    rnn = keras.layers.RNN(GRUCell(U, use_bias=use_bias), return_sequences=True, return_state=True)
    h0 = np.random.RandomState(3).normal(size=(B, U)).astype("float32")
    rnn(x, initial_state=[h0])
    weights = _random_weights(rnn, 4)
    W, Uw = weights[:2]
    b = weights[2] if use_bias else np.zeros(3 * U)
    seq, h = (t.numpy() for t in rnn(x, initial_state=[h0]))
    ref_seq, ref_h = _np_gru(x.astype("float64"), W, Uw, b, h0=h0.astype("float64"))
    np.testing.assert_allclose(seq, ref_seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h, ref_h, rtol=1e-5, atol=1e-5)


def test_lstm_cell_equals_keras_lstm_after_reordering_the_gates():
    x = _inputs(5)
    ref = keras.layers.LSTM(U, return_sequences=True)
    ref(x)
    _random_weights(ref, 6)
    ours = keras.layers.RNN(LSTMCell(U), return_sequences=True)
    ours(x)
    ours.set_weights(lstm_weights_from_keras(ref.get_weights()))
    np.testing.assert_allclose(ours(x).numpy(), ref(x).numpy(), rtol=1e-5, atol=1e-6)
    # The mapping is a permutation of column blocks: Keras (i, f, c, o) -> ours (i, f, o, c).
    k_kernel = ref.get_weights()[0]
    o_kernel = ours.get_weights()[0]
    np.testing.assert_array_equal(o_kernel[:, 2 * U:3 * U], k_kernel[:, 3 * U:])   # o
    np.testing.assert_array_equal(o_kernel[:, 3 * U:], k_kernel[:, 2 * U:3 * U])   # c~
    for a, b in zip(lstm_weights_to_keras(ours.get_weights()), ref.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_gru_cell_equals_keras_gru_reset_before_with_z_negated():
    x = _inputs(7)
    ref = keras.layers.GRU(U, return_sequences=True, reset_after=False)
    ref(x)
    _random_weights(ref, 8)
    ours = keras.layers.RNN(GRUCell(U), return_sequences=True)
    ours(x)
    ours.set_weights(gru_weights_from_keras(ref.get_weights()))
    np.testing.assert_allclose(ours(x).numpy(), ref(x).numpy(), rtol=1e-5, atol=1e-6)
    # The notes' z gate is Keras's 1 - z: the same pre-activation with the sign flipped.
    k_kernel, o_kernel = ref.get_weights()[0], ours.get_weights()[0]
    np.testing.assert_array_equal(o_kernel[:, U:2 * U], -k_kernel[:, :U])        # z = -z_keras
    np.testing.assert_array_equal(o_kernel[:, :U], k_kernel[:, U:2 * U])         # r
    for a, b in zip(gru_weights_to_keras(ours.get_weights()), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    # Without the sign flip the outputs differ: the mapping is not a plain reordering.
    flipped = gru_weights_from_keras(ref.get_weights())
    for w in flipped:
        w[..., U:2 * U] *= -1
    ours.set_weights(flipped)
    assert np.abs(ours(x).numpy() - ref(x).numpy()).max() > 1e-2


def test_keras_gru_with_reset_after_is_refused_with_a_reason():
    ref = keras.layers.GRU(U)  # reset_after=True, bias [2, 3 * units]
    ref(_inputs())
    with pytest.raises(KerasGenError, match="reset_after=True"):
        gru_weights_from_keras(ref.get_weights())
    with pytest.raises(KerasGenError, match="kernel"):
        lstm_weights_from_keras([np.zeros((4, 8)), np.zeros((5, 20))])


def test_forget_gate_bias_starts_at_one():
    cell = LSTMCell(U)
    cell.build((None, D))
    bias = cell.bias.numpy()
    np.testing.assert_array_equal(bias[cell.gate_slice("f")], 1.0)
    for gate in ("i", "o", "c"):
        np.testing.assert_array_equal(bias[cell.gate_slice(gate)], 0.0)
    plain = LSTMCell(U, unit_forget_bias=False)
    plain.build((None, D))
    np.testing.assert_array_equal(plain.bias.numpy(), 0.0)


# ---------------------------------------------------------------- dropout
@pytest.mark.parametrize("make", [lambda **kw: LSTMCell(U, **kw), lambda **kw: GRUCell(U, **kw)], ids=["lstm", "gru"])
def test_dropout_is_off_at_inference(make):
    x = _inputs(9)
    plain = keras.layers.RNN(make(), return_sequences=True)
    dropped = keras.layers.RNN(make(dropout=0.5, recurrent_dropout=0.5, seed=1), return_sequences=True)
    plain(x)
    dropped(x)
    dropped.set_weights(plain.get_weights())
    np.testing.assert_allclose(dropped(x, training=False).numpy(), plain(x).numpy(), rtol=1e-6)
    assert np.abs(dropped(x, training=True).numpy() - plain(x).numpy()).max() > 1e-3


def test_input_mask_is_the_same_at_every_step_of_a_sequence_inside_keras_rnn():
    """With U = 0 and a closed forget gate, h_t depends on x_t only: a constant x_t gives a
    constant h_t exactly when every step drops the same input units."""
    x = np.tile(np.random.RandomState(10).normal(size=(B, 1, 8)).astype("float32"), (1, T, 1))
    rnn = keras.layers.RNN(LSTMCell(U, dropout=0.5, seed=3), return_sequences=True)
    rnn(x)
    rng = np.random.RandomState(11)
    kernel = rng.normal(size=(8, 4 * U)).astype("float32")
    bias = np.zeros(4 * U, "float32")
    bias[U:2 * U] = -50.0  # f = 0: no memory of c
    rnn.set_weights([kernel, np.zeros((U, 4 * U), "float32"), bias])
    first = rnn(x, training=True).numpy()
    np.testing.assert_allclose(first, np.repeat(first[:, :1], T, axis=1), rtol=1e-6, atol=1e-7)
    second = rnn(x, training=True).numpy()
    inference = rnn(x, training=False).numpy()
    assert np.abs(first - inference).max() > 1e-3       # the mask was applied
    assert np.abs(first - second).max() > 1e-3          # a new mask for the next sequence
    assert np.abs(first[0, 0] - first[1, 0]).max() > 1e-3  # and one per example (same x, other units)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_stepping_by_hand_reuses_both_masks_as_in_gal_and_ghahramani(kind):
    """Outputs over a whole sequence equal the NumPy equations with ONE input mask and ONE
    state mask for all steps (inverted dropout: kept units scaled by 1 / (1 - rate))."""
    x = _inputs(12).astype("float32")
    cell = (LSTMCell if kind == "lstm" else GRUCell)(U, dropout=0.4, recurrent_dropout=0.3, seed=5)
    cell.build((None, D))
    rng = np.random.RandomState(13)
    cell.set_weights([rng.normal(scale=0.6, size=w.shape).astype("float32") for w in cell.get_weights()])
    states = [np.zeros((B, U), "float32")] * len(cell.state_size)
    outs = []
    for t in range(T):
        h, states = cell(x[:, t], states, training=True)
        outs.append(h.numpy())
    x_mask = cell.get_dropout_mask(x[:, 0]).numpy()
    h_mask = cell.get_recurrent_dropout_mask(states[0]).numpy()
    assert set(np.unique(x_mask)) <= {0.0, np.float32(1 / 0.6)} and (x_mask == 0).any()
    assert set(np.unique(h_mask)) <= {0.0, np.float32(1 / 0.7)} and (h_mask == 0).any()
    W, Uw, b = (w.astype("float64") for w in cell.get_weights())
    if kind == "lstm":
        ref = _np_lstm(x.astype("float64"), W, Uw, b, x_mask=x_mask, h_mask=h_mask)[0]
    else:
        ref = _np_gru(x.astype("float64"), W, Uw, b, x_mask=x_mask, h_mask=h_mask)[0]
    np.testing.assert_allclose(np.stack(outs, 1), ref, rtol=1e-5, atol=1e-5)
    cell.reset_dropout_mask()
    cell.reset_recurrent_dropout_mask()
    assert not np.array_equal(cell.get_dropout_mask(x[:, 0]).numpy(), x_mask)


# ---------------------------------------------------------------- config, saving, errors
@pytest.mark.parametrize("make", [
    lambda: LSTMCell(U, output_activation="linear", dropout=0.1, recurrent_dropout=0.2, seed=3, unit_forget_bias=False),
    lambda: GRUCell(U, use_bias=False, dropout=0.1, seed=4),
], ids=["lstm", "gru"])
def test_config_round_trip_and_keras_file(make, tmp_path):
    cell = make()
    clone = type(cell).from_config(cell.get_config())
    assert clone.get_config() == cell.get_config()
    x = _inputs(14)
    inputs = keras.Input((T, D))
    model = keras.Model(inputs, keras.layers.RNN(cell, return_sequences=True)(inputs))
    path = str(tmp_path / "rnn.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert type(loaded.layers[-1].cell) is type(cell)


def test_bad_arguments_are_named():
    with pytest.raises(KerasGenError, match="units"):
        LSTMCell(0)
    with pytest.raises(KerasGenError, match="dropout"):
        GRUCell(3, dropout=1.0)
    with pytest.raises(KerasGenError, match="recurrent_dropout"):
        LSTMCell(3, recurrent_dropout=-0.1)
    with pytest.raises(KerasGenError, match="output_activation"):
        LSTMCell(3, output_activation="relu")


# ---------------------------------------------------------------- long-term dependencies
def test_gradient_norms_of_a_linear_rnn_follow_the_closed_form():
    """h_t = x_t W + h_{t-1} U (no nonlinearity): dL/dh_t = dL/dh_T (U^T)^(T-t), dL/dx_t = dL/dh_t W^T."""
    from keras_gen.layers import gradient_norms_over_time

    x = _inputs(15)
    labels = np.array([0, 2, 1])
    cell = keras.layers.SimpleRNNCell(U, activation="linear", use_bias=False)
    head = keras.layers.Dense(3)
    cell.build((None, D))
    head.build((None, U))
    W, Uw = (w.astype("float64") for w in cell.get_weights())
    Uw *= 1.3  # > 1: the gradient grows with distance
    cell.set_weights([W.astype("float32"), Uw.astype("float32")])
    K, b = (w.astype("float64") for w in head.get_weights())
    h = np.zeros((B, U))
    for t in range(T):
        h = x[:, t] @ W + h @ Uw
    logits = h @ K + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    g = (p - np.eye(3)[labels]) @ K.T            # dL/dh_T, L summed over the batch
    state, inp = np.zeros(T), np.zeros(T)
    for t in range(T - 1, -1, -1):
        state[t] = np.linalg.norm(g, axis=1).mean()
        inp[t] = np.linalg.norm(g @ W.T, axis=1).mean()
        g = g @ Uw.T
    got = gradient_norms_over_time(cell, head, x, labels)
    np.testing.assert_allclose(got["state"], state, rtol=1e-4)
    np.testing.assert_allclose(got["input"], inp, rtol=1e-4)
    assert got["state"][0] > got["state"][-1]


def test_gradient_norms_of_the_lstm_agree_with_keras_rnn_autodiff():
    """dL/dx_t from the step-by-step unroll equals the gradient through keras.layers.RNN."""
    import tensorflow as tf

    from keras_gen.layers import gradient_norms_over_time, unroll

    x = _inputs(16)
    labels = np.array([1, 0, 1])
    cell = LSTMCell(U)
    rnn = keras.layers.RNN(cell)
    head = keras.layers.Dense(2)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=head(rnn(xt))))
    expected = np.linalg.norm(tape.gradient(loss, xt).numpy(), axis=-1).mean(axis=0)
    got = gradient_norms_over_time(cell, head, x, labels)
    np.testing.assert_allclose(got["input"], expected, rtol=1e-4)
    outputs, states = unroll(cell, x)
    np.testing.assert_allclose(outputs[-1].numpy(), rnn(xt).numpy(), rtol=1e-5)
    assert len(states) == T and len(states[0]) == 2 and np.all(got["state"] > 0)
