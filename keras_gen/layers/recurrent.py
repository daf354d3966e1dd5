"""T7: the LSTM and GRU cells of notes 001, written from their equations.

Notes 001 ("长短期记忆网络") write, for an input x_t and the previous state h_{t-1}:

    LSTM   i_t = sigma(W_i x_t + U_i h_{t-1} + b_i)          input gate
           f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)          forget gate
           o_t = sigma(W_o x_t + U_o h_{t-1} + b_o)          output gate
           c~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)          candidate cell
           c_t = f_t * c_{t-1} + i_t * c~_t

    GRU    r_t = sigma(W_r x_t + U_r h_{t-1})                reset gate
           z_t = sigma(W_z x_t + U_z h_{t-1})                update gate
           h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}))
           h_t = (1 - z_t) * h_{t-1} + z_t * h~_t

The notes' LSTM stops at c_t: it defines the output gate but never writes the hidden
state. `LSTMCell` completes it with h_t = o_t * tanh(c_t) (Hochreiter & Schmidhuber
1997 with the forget gate of Gers et al. 2000; what `keras.layers.LSTM` computes);
`output_activation="linear"` gives h_t = o_t * c_t instead, the reading that adds
nothing to the notes (the "no output activation" variant of Greff et al. 2017, "LSTM:
A Search Space Odyssey"). The notes' GRU has no biases; `GRUCell` adds b_r, b_z, b_h
(`use_bias=False` is the notes' form exactly).

Weight layout. Each cell keeps one fused `kernel` [input_dim, k * units] (the W's), one
`recurrent_kernel` [units, k * units] (the U's) and one `bias` [k * units], with the
gates in the notes' order: (i, f, o, c~) for the LSTM and (r, z, h~) for the GRU.
Keras orders its gates (i, f, c, o) and (z, r, h), and its GRU gate z is the notes'
1 - z (Keras: h = z * h_{t-1} + (1 - z) * h~). Because sigma(-a) = 1 - sigma(a), the
notes' z gate is Keras's with its weights negated. `lstm_weights_from_keras`,
`gru_weights_from_keras` and their inverses do these conversions (the GRU only for
`keras.layers.GRU(reset_after=False)`: with `reset_after=True`, Keras's default, the
reset gate multiplies U_h h_{t-1} + b, another equation).

Dropout in recurrent networks (notes 001: naive dropout "is not ideal" there). Dropping
different units at every step perturbs the state the network must carry along, so the
cells follow Gal & Ghahramani (2016, "A Theoretically Grounded Application of Dropout in
Recurrent Neural Networks"): `dropout` drops units of the input x_t and
`recurrent_dropout` units of the state h_{t-1}, each with one mask per sequence, the
same at every time step, and the same for all gates (their "tied" form: one fused
weight matrix per input). Inverted dropout: kept units are scaled by 1 / (1 - rate),
nothing happens at inference. Inside `keras.layers.RNN` the masks are drawn at the
start of each call and dropped at its end (Keras's `DropoutRNNCell` protocol); a cell
stepped by hand keeps its masks until `reset_dropout_mask()` /
`reset_recurrent_dropout_mask()`.
"""
import keras
import numpy as np
from keras import ops

# The mask protocol `keras.layers.RNN` drives (it calls `get_dropout_mask` before its
# loop and `reset_dropout_mask` after it, only for cells of this class). It is not
# exported under `keras.layers`; `keras.layers.LSTMCell` uses the same class.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from keras_gen.errors import KerasGenError

LSTM_GATES = ("i", "f", "o", "c")
GRU_GATES = ("r", "z", "h")
OUTPUT_ACTIVATIONS = ("tanh", "linear")

# Column blocks of Keras's fused weights, by our gate name.
_KERAS_LSTM_ORDER = ("i", "f", "c", "o")
_KERAS_GRU_ORDER = ("z", "r", "h")


def _check_rate(name, rate):
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise KerasGenError(f"{name} must be in [0, 1), got {rate}")
    return rate


def _check_units(units):
    if isinstance(units, bool) or int(units) != units or int(units) < 1:
        raise KerasGenError(f"units must be a positive integer, got {units!r}")
    return int(units)


class _GatedCell(DropoutRNNCell, keras.layers.Layer):
    """What the two cells share: fused weights in the notes' gate order, tied dropout masks."""

    gates = ()

    def __init__(self, units, use_bias=True, dropout=0.0, recurrent_dropout=0.0,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_units(units)
        self.use_bias = bool(use_bias)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.seed = seed
        # Drawn from by `DropoutRNNCell._create_dropout_mask`.
        self.seed_generator = keras.random.SeedGenerator(seed=seed)

    def build(self, input_shape):
        k = len(self.gates)
        self.kernel = self.add_weight(shape=(input_shape[-1], k * self.units), name="kernel",
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, k * self.units), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer)
        self.bias = (self.add_weight(shape=(k * self.units,), name="bias", initializer=self._bias_initializer())
                     if self.use_bias else None)

    def _bias_initializer(self):
        return self.bias_initializer

    def _masked(self, inputs, h_prev, training):
        """x_t and h_{t-1} with this sequence's dropout masks applied (training only)."""
        if training and self.dropout > 0:
            inputs = inputs * self.get_dropout_mask(inputs)
        if training and self.recurrent_dropout > 0:
            h_prev = h_prev * self.get_recurrent_dropout_mask(h_prev)
        return inputs, h_prev

    def gate_slice(self, gate):
        """The columns of `gate` in the fused weights: `slice(j * units, (j + 1) * units)`."""
        j = self.gates.index(gate)
        return slice(j * self.units, (j + 1) * self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            use_bias=self.use_bias,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            recurrent_initializer=keras.initializers.serialize(self.recurrent_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="keras_gen")
class LSTMCell(_GatedCell):
    """The notes' LSTM cell, for `keras.layers.RNN(LSTMCell(units))`.

    Formula (gates in the notes' order; sigma the logistic function):
        [a_i, a_f, a_o, a_c] = x_t W + h_{t-1} U + b
        i = sigma(a_i);  f = sigma(a_f);  o = sigma(a_o);  c~ = tanh(a_c)
        c_t = f * c_{t-1} + i * c~
        h_t = o * tanh(c_t)        (output_activation="tanh", the default)
        h_t = o * c_t              (output_activation="linear")

    State: `[h, c]`; output: h_t. During training x_t and h_{t-1} are multiplied by
    per-sequence dropout masks (module docstring).

    Args:
        units: size of h and c.
        output_activation: "tanh" (Hochreiter & Schmidhuber; Keras) or "linear".
        use_bias: whether b is used.
        unit_forget_bias: start b_f at 1 so the cell remembers from the first update
            (Gers et al. 2000; Jozefowicz et al. 2015; Keras's default too).
        dropout: rate of the mask on x_t.
        recurrent_dropout: rate of the mask on h_{t-1}.
        kernel_initializer, recurrent_initializer, bias_initializer: for W, U, b.
        seed: seed of the dropout masks.
    """

    gates = LSTM_GATES

    def __init__(self, units, output_activation="tanh", use_bias=True, unit_forget_bias=True, **kwargs):
        super().__init__(units, use_bias=use_bias, **kwargs)
        if output_activation not in OUTPUT_ACTIVATIONS:
            raise KerasGenError(f"output_activation must be one of {', '.join(OUTPUT_ACTIVATIONS)}, "
                                f"got {output_activation!r}")
        self.output_activation = output_activation
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def initializer(shape, dtype=None):
            parts = [base((units,), dtype=dtype), ops.ones((units,), dtype=dtype), base((2 * units,), dtype=dtype)]
            return ops.concatenate(parts)  # (i, f, o, c~): only f starts at 1

        return initializer

    def call(self, inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]
        x, h_in = self._masked(inputs, h_prev, training)
        a = ops.matmul(x, self.kernel) + ops.matmul(h_in, self.recurrent_kernel)
        if self.use_bias:
            a = a + self.bias
        a_i, a_f, a_o, a_c = ops.split(a, 4, axis=-1)
        i, f, o = ops.sigmoid(a_i), ops.sigmoid(a_f), ops.sigmoid(a_o)
        c = f * c_prev + i * ops.tanh(a_c)
        h = o * (ops.tanh(c) if self.output_activation == "tanh" else c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(output_activation=self.output_activation, unit_forget_bias=self.unit_forget_bias)
        return config


@keras.saving.register_keras_serializable(package="keras_gen")
class GRUCell(_GatedCell):
    """The notes' GRU cell, for `keras.layers.RNN(GRUCell(units))`.

    Formula (gates in the notes' order; sigma the logistic function):
        [a_r, a_z] = x_t [W_r, W_z] + h_{t-1} [U_r, U_z] + [b_r, b_z]
        r = sigma(a_r);  z = sigma(a_z)
        h~ = tanh(x_t W_h + (r * h_{t-1}) U_h + b_h)
        h_t = (1 - z) * h_{t-1} + z * h~

    z near 1 writes the candidate, z near 0 keeps the old state (Keras's GRU names the
    opposite gate z). `use_bias=False` is the notes' form exactly. State: `[h]`.

    Args:
        units: size of h.
        use_bias: whether b is used (the notes have none).
        dropout: rate of the mask on x_t.
        recurrent_dropout: rate of the mask on h_{t-1} (before the gates and before r * h).
        kernel_initializer, recurrent_initializer, bias_initializer: for W, U, b.
        seed: seed of the dropout masks.
    """

    gates = GRU_GATES

    def __init__(self, units, use_bias=True, **kwargs):
        super().__init__(units, use_bias=use_bias, **kwargs)
        self.state_size = [self.units]
        self.output_size = self.units

    def call(self, inputs, states, training=False):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        x, h_in = self._masked(inputs, h_prev, training)
        u = self.units
        a_x = ops.matmul(x, self.kernel)
        if self.use_bias:
            a_x = a_x + self.bias
        a_rz = a_x[:, : 2 * u] + ops.matmul(h_in, self.recurrent_kernel[:, : 2 * u])
        r, z = ops.sigmoid(a_rz[:, :u]), ops.sigmoid(a_rz[:, u:])
        candidate = ops.tanh(a_x[:, 2 * u:] + ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * u:]))
        # The notes' update: the previous state, not its dropped-out copy, is carried over.
        h = (1.0 - z) * h_prev + z * candidate
        return h, [h]


# === Conversions to and from Keras's weights ===
def _permute_columns(matrix, units, from_order, to_order, negate=()):
    blocks = {g: matrix[..., j * units:(j + 1) * units] for j, g in enumerate(from_order)}
    return np.concatenate([-blocks[g] if g in negate else blocks[g] for g in to_order], axis=-1)


def _check_keras_weights(weights, gates, what):
    if len(weights) not in (2, 3):
        raise KerasGenError(f"{what} weights are [kernel, recurrent_kernel(, bias)], got {len(weights)} arrays")
    kernel, recurrent = np.asarray(weights[0]), np.asarray(weights[1])
    units = recurrent.shape[0]
    k = len(gates)
    if kernel.ndim != 2 or recurrent.shape != (units, k * units) or kernel.shape[1] != k * units:
        raise KerasGenError(f"{what} weights: kernel [in, {k}*units] and recurrent_kernel [units, {k}*units] "
                            f"expected, got {kernel.shape} and {recurrent.shape}")
    if len(weights) == 3 and np.shape(weights[2]) != (k * units,):
        raise KerasGenError(f"{what} bias must have shape ({k * units},), got {np.shape(weights[2])}"
                            + (" (a GRU with reset_after=True; only reset_after=False matches the notes)"
                               if np.ndim(weights[2]) == 2 else ""))
    return units


def lstm_weights_from_keras(weights):
    """`keras.layers.LSTM(...).get_weights()` -> the same cell's weights for `LSTMCell`.

    Keras's gate order (i, f, c, o) becomes the notes' (i, f, o, c~); the equations
    are otherwise the same (with output_activation="tanh").
    """
    units = _check_keras_weights(weights, _KERAS_LSTM_ORDER, "LSTM")
    return [_permute_columns(np.asarray(w), units, _KERAS_LSTM_ORDER, LSTM_GATES) for w in weights]


def lstm_weights_to_keras(weights):
    """`LSTMCell` weights -> `keras.layers.LSTM` weights (the inverse of `lstm_weights_from_keras`)."""
    units = _check_keras_weights(weights, LSTM_GATES, "LSTMCell")
    return [_permute_columns(np.asarray(w), units, LSTM_GATES, _KERAS_LSTM_ORDER) for w in weights]


def gru_weights_from_keras(weights):
    """`keras.layers.GRU(reset_after=False).get_weights()` -> the same cell's weights for `GRUCell`.

    Keras's gate order (z, r, h) becomes the notes' (r, z, h~), and Keras's z gate
    (the share of the old state) becomes the notes' z (the share of the candidate):
    sigma(-a) = 1 - sigma(a), so the z columns of kernel, recurrent kernel and bias are
    negated.
    """
    units = _check_keras_weights(weights, _KERAS_GRU_ORDER, "GRU")
    return [_permute_columns(np.asarray(w), units, _KERAS_GRU_ORDER, GRU_GATES, negate=("z",)) for w in weights]


def gru_weights_to_keras(weights):
    """`GRUCell` weights -> `keras.layers.GRU(reset_after=False)` weights (the inverse)."""
    units = _check_keras_weights(weights, GRU_GATES, "GRUCell")
    return [_permute_columns(np.asarray(w), units, GRU_GATES, _KERAS_GRU_ORDER, negate=("z",)) for w in weights]


# === Long-term dependencies ===
def unroll(cell, inputs, initial_state=None, training=False):
    """Runs `cell` step by step in Python over `inputs`: `[batch, T, d]`, or a list of T `[batch, d]`.

    Returns `(outputs, states)`: T outputs `[batch, units]` and T state lists (the state
    after each step). Unlike `keras.layers.RNN`, every intermediate state is a tensor of
    its own, so a `tf.GradientTape` can differentiate with respect to it.
    """
    steps = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs[:, t] for t in range(inputs.shape[1])]
    if initial_state is None:
        sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
        initial_state = [ops.zeros((ops.shape(steps[0])[0], int(s)), dtype=steps[0].dtype) for s in sizes]
    states, outputs, history = list(initial_state), [], []
    for x_t in steps:
        out, states = cell(x_t, states, training=training)
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        outputs.append(out)
        history.append(states)
    return outputs, history


def gradient_norms_over_time(cell, head, inputs, labels):
    """How strongly the loss at the last step depends on each earlier step.

    Formula (L the cross-entropy of `head(h_T)` against `labels`, summed over the batch
    so that each sequence keeps its own gradient; s_t the cell's whole state after step
    t, e.g. (h_t, c_t) for the LSTM):
        input_norm[t] = mean over the batch of || dL / dx_t ||
        state_norm[t] = mean over the batch of || dL / ds_t ||

    With a plain RNN, dL/ds_t is a product of T - t Jacobians U^T diag(tanh'), which
    shrinks (or grows) geometrically with the distance T - t (Bengio et al. 1994;
    Pascanu et al. 2013). The LSTM's cell state passes back through
    dc_t / dc_{t-1} = diag(f_t), which a forget gate near 1 keeps near the identity.

    Args:
        cell: an RNN cell (`LSTMCell`, `GRUCell`, `keras.layers.SimpleRNNCell`, ...).
        head: a layer mapping the last output `[batch, units]` to class logits.
        inputs: float `[batch, T, d]` (e.g. embedded tokens).
        labels: int `[batch]`.

    Returns:
        `{"input": float64 [T], "state": float64 [T]}`; index t is step t, at distance
        T - 1 - t from the loss.
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(inputs, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        steps = [x[:, t] for t in range(x.shape[1])]
        for x_t in steps:
            tape.watch(x_t)
        outputs, states = unroll(cell, steps)
        logits = tf.cast(head(outputs[-1]), tf.float32)
        loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32),
                                                                            logits=logits))
    input_grads = tape.gradient(loss, steps)
    state_grads = tape.gradient(loss, states)
    del tape

    def mean_norm(parts):
        return float(tf.reduce_mean(tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g), axis=-1) for g in parts]))))

    return {"input": np.array([mean_norm([g]) for g in input_grads]),
            "state": np.array([mean_norm(g) for g in state_grads])}
