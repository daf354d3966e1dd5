"""T7/T8: encoder-decoder (seq2seq) models: teacher forcing, greedy and beam-search decoding.

Notes 002, lecture 10. An encoder reads the source x; a decoder produces the target one
token at a time, each from the tokens before it ("autoregressive"), starting from a
start token (BOS):

    p(y | x) = prod_t p(y_t | y_<t, x)

Training ("Teacher Forcing"): the decoder reads the *true* previous tokens
[BOS, y_1, ..., y_{T-1}] and is trained to predict [y_1, ..., y_T] by minimising the
cross-entropy, all positions at once. `call((source, decoder_input))` returns those
logits, so an ordinary `compile(loss=SparseCategoricalCrossentropy(from_logits=True))`
and `fit(((source, decoder_input), target))` train any model here.

Inference has no true previous tokens: the decoder reads its own outputs. That mismatch
is the notes' exposure bias ("训练集和测试集不一致"): an early mistake feeds every later
step an input it never saw in training.

* `greedy_decode`: y_t = argmax_v p(v | y_<t, x).
* `beam_search` (束搜索): keeps the `beam_width` prefixes of highest log-probability
  sum_t log p(y_t | y_<t, x), extends each by every token and keeps the best
  `beam_width` again; greedy decoding is beam width 1. With an `end_token`, a prefix
  that emitted it is finished: it may only emit `end_token` again, at log-probability
  0, so its score stays that of the sequence up to its first `end_token` and all
  hypotheses stay the same length (scores are not length-normalised).

Both decoders re-run `decode` on the whole prefix at every step: O(T^2) decoder work
for T output tokens, nothing for the short answers of the tasks here, and the same code
for every model (a Transformer would otherwise need a key/value cache, an RNN its
states carried between steps).

`Seq2Seq` holds this and leaves two methods to a model: `encode(source)` -> memory (a
tensor or a list of tensors, batch first) and `decode(memory, decoder_input)` ->
logits. `RNNSeq2Seq` (here) is the LSTM/GRU encoder-decoder of Sutskever et al. 2014 /
Cho et al. 2014 with the notes' cells; `Transformer` is in `keras_gen.models.transformer`.
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.errors import KerasGenError, unknown_name
from keras_gen.layers.recurrent import GRUCell, LSTMCell

CELLS = ("lstm", "gru")
# Log-probability given to hypotheses that must not be continued; finite so that sums
# and comparisons never meet inf - inf.
_IMPOSSIBLE = -1.0e9


def _check_positive(name, value):
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise KerasGenError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_tokens(tokens, vocab_size, what):
    """`tokens` as an int32 tensor `[batch, length]` with ids in [0, vocab_size)."""
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 2:
            raise KerasGenError(f"{what} must be token ids [batch, length], got shape {tokens.shape}")
        if not np.issubdtype(tokens.dtype, np.integer):
            raise KerasGenError(f"{what} must be integer token ids, got dtype {tokens.dtype}")
        if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
            raise KerasGenError(f"{what} ids must be in [0, {vocab_size - 1}], got {tokens.min()}..{tokens.max()}")
    return tf.cast(tokens, tf.int32)


def _repeat_batch(structure, times):
    """Repeats every tensor of `structure` `times` times along the batch axis (row i -> rows i*times..)."""
    return tf.nest.map_structure(lambda t: tf.repeat(t, times, axis=0), structure)


class Seq2Seq(keras.Model):
    """Base of the encoder-decoder models: teacher-forced `call`, greedy and beam decoding.

    Args:
        source_vocab_size, target_vocab_size: token ids are in [0, size).
        start_token: the id the decoder starts from (BOS), a target token.
        max_target_length: default number of tokens the decoders produce.
        **kwargs: `keras.Model` arguments.

    A subclass implements `encode(source, training)` and `decode(memory, decoder_input,
    training)`.
    """

    def __init__(self, source_vocab_size, target_vocab_size, start_token, max_target_length, **kwargs):
        super().__init__(**kwargs)
        self.source_vocab_size = _check_positive("source_vocab_size", source_vocab_size)
        self.target_vocab_size = _check_positive("target_vocab_size", target_vocab_size)
        if not 0 <= int(start_token) < self.target_vocab_size:
            raise KerasGenError(f"start_token must be a target id in [0, {self.target_vocab_size - 1}], "
                                f"got {start_token}")
        self.start_token = int(start_token)
        self.max_target_length = _check_positive("max_target_length", max_target_length)

    # === What a model defines ===
    def encode(self, source, training=False):
        raise NotImplementedError

    def decode(self, memory, decoder_input, training=False):
        raise NotImplementedError

    # === Teacher forcing ===
    def call(self, inputs, training=False):
        """Logits `[batch, T, target_vocab]` for `inputs = (source, decoder_input)` (teacher forcing)."""
        source, decoder_input = inputs
        return self.decode(self.encode(source, training=training), decoder_input, training=training)

    def decoder_input_for(self, target):
        """[BOS, y_1, ..., y_{T-1}]: the teacher-forcing input for a target `[batch, T]`."""
        target = tf.cast(target, tf.int32)
        start = tf.fill([tf.shape(target)[0], 1], self.start_token)
        return tf.concat([start, target[:, :-1]], axis=1)

    def sequence_log_prob(self, source, target):
        """log p(target | source) = sum_t log p(y_t | y_<t, x), `[batch]`, by teacher forcing."""
        source = _check_tokens(source, self.source_vocab_size, "source")
        target = _check_tokens(target, self.target_vocab_size, "target")
        logits = self((source, self.decoder_input_for(target)), training=False)
        log_p = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        return tf.reduce_sum(tf.gather(log_p, target, axis=-1, batch_dims=2), axis=-1)

    # === Free running ===
    def _next_log_probs(self, memory, prefix):
        logits = self.decode(memory, prefix, training=False)[:, -1, :]
        return tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)

    def _length(self, max_length):
        return self.max_target_length if max_length is None else _check_positive("max_length", max_length)

    def greedy_decode(self, source, max_length=None, end_token=None):
        """Token ids `[batch, max_length]` (int32): y_t = argmax p(. | y_<t, x), fed back.

        After `end_token` (if given) only `end_token` follows, as in `beam_search`.
        """
        source = _check_tokens(source, self.source_vocab_size, "source")
        length = self._length(max_length)
        memory = self.encode(source, training=False)
        prefix = tf.fill([tf.shape(source)[0], 1], self.start_token)
        finished = tf.zeros([tf.shape(source)[0]], tf.bool)
        for _ in range(length):
            token = tf.argmax(self._next_log_probs(memory, prefix), axis=-1, output_type=tf.int32)
            if end_token is not None:
                token = tf.where(finished, int(end_token), token)
                finished = finished | tf.equal(token, int(end_token))
            prefix = tf.concat([prefix, token[:, None]], axis=1)
        return prefix[:, 1:]

    def beam_search(self, source, beam_width, max_length=None, end_token=None):
        """The `beam_width` best hypotheses by beam search (module docstring).

        Returns:
            `(tokens [batch, beam_width, max_length] int32, scores [batch, beam_width])`,
            best first; a score is the hypothesis' sum of log-probabilities. Rows with
            score <= -1e8 are padding (fewer distinct hypotheses than the beam holds).
        """
        source = _check_tokens(source, self.source_vocab_size, "source")
        k = _check_positive("beam_width", beam_width)
        length = self._length(max_length)
        vocab = self.target_vocab_size
        batch = tf.shape(source)[0]
        memory = _repeat_batch(self.encode(source, training=False), k)           # [batch * k, ...]
        tokens = tf.zeros([batch, k, 0], tf.int32)
        # Only the first copy of the start is live, or the k copies would fill the beam
        # with k identical hypotheses.
        scores = tf.tile(tf.constant([[0.0] + [_IMPOSSIBLE] * (k - 1)]), [batch, 1])
        finished = tf.zeros([batch, k], tf.bool)
        if end_token is not None:
            only_end = tf.where(tf.range(vocab) == int(end_token), 0.0, _IMPOSSIBLE)   # [vocab]
        for t in range(length):
            prefix = tf.concat([tf.fill([batch * k, 1], self.start_token), tf.reshape(tokens, [batch * k, t])], 1)
            log_p = tf.reshape(self._next_log_probs(memory, prefix), [batch, k, vocab])
            if end_token is not None:
                log_p = tf.where(finished[:, :, None], only_end[None, None, :], log_p)
            candidates = tf.reshape(scores[:, :, None] + log_p, [batch, k * vocab])
            # top_k keeps the lower index on ties, as argmax does: width 1 is greedy.
            scores, index = tf.math.top_k(candidates, k=min(k, k * vocab))
            beam, token = index // vocab, index % vocab
            tokens = tf.concat([tf.gather(tokens, beam, batch_dims=1), token[:, :, None]], axis=2)
            finished = tf.gather(finished, beam, batch_dims=1)
            if end_token is not None:
                finished = finished | tf.equal(token, int(end_token))
        return tokens, scores

    # === Serving ===
    def export(self, name="seq2seq", base_dir="saved_models", version=None, overwrite=False, end_token=None):
        """A SavedModel that runs without keras_gen.

        Signatures:
            `greedy` (also `serving_default`): `source` int32 `[batch, S]` ->
                `tokens` int32 `[batch, max_target_length]`, greedy decoding
                (with `end_token`, only end tokens follow the first one).
            `logits`: `source` int32 `[batch, S]`, `decoder_input` int32 `[batch, T]` ->
                `logits` float32 `[batch, T, target_vocab]` (teacher forcing; the last
                position's logits are the next-token scores for a decoder of your own).

        Returns the folder written, `<base_dir>/<name>/<version>`.
        """
        from keras_gen.export import export_endpoints

        source_spec = tf.TensorSpec([None, None], tf.int32, name="source")
        decoder_spec = tf.TensorSpec([None, None], tf.int32, name="decoder_input")

        def greedy(source):
            return {"tokens": self.greedy_decode(source, end_token=end_token)}

        def logits(source, decoder_input):
            return {"logits": tf.cast(self((source, decoder_input), training=False), tf.float32)}

        return export_endpoints(name, [("greedy", greedy, [source_spec], None),
                                       ("logits", logits, [source_spec, decoder_spec], None)],
                                base_dir=base_dir, version=version, overwrite=overwrite, track=[self])

    def get_config(self):
        config = super().get_config()
        config.update(source_vocab_size=self.source_vocab_size, target_vocab_size=self.target_vocab_size,
                      start_token=self.start_token, max_target_length=self.max_target_length)
        return config


def _cell(kind, units, dropout, recurrent_dropout, seed, name):
    if kind == "lstm":
        return LSTMCell(units, dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, name=name)
    if kind == "gru":
        return GRUCell(units, dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed, name=name)
    raise unknown_name("cell", kind, CELLS)


@keras.saving.register_keras_serializable(package="keras_gen")
class RNNSeq2Seq(Seq2Seq):
    """An LSTM or GRU encoder-decoder (Sutskever et al. 2014; Cho et al. 2014) with the notes' cells.

    Architecture (L = num_layers):
        encoder   source -> Embedding(E) -> L x RNN(cell(units))      -> final states s_1..s_L
        decoder   [BOS, y_<T] -> Embedding(E) -> L x RNN(cell(units), initial state s_l) -> Dense(vocab)

    The source reaches the decoder only through the encoder's final states (the
    "thought vector"); each decoder layer starts from the state of the encoder layer
    at its depth.

    Args:
        source_vocab_size, target_vocab_size, start_token, max_target_length: see `Seq2Seq`.
        cell: "lstm" (`LSTMCell`) or "gru" (`GRUCell`).
        units: state size of every layer.
        embedding_dim: E, width of both token embeddings.
        num_layers: L.
        dropout, recurrent_dropout: the cells' per-sequence dropout on x_t and h_{t-1}.
        seed: seed of the dropout masks.
    """

    def __init__(self, source_vocab_size, target_vocab_size, start_token, max_target_length, cell="lstm", units=128,
                 embedding_dim=32, num_layers=1, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(source_vocab_size, target_vocab_size, start_token, max_target_length, **kwargs)
        if cell not in CELLS:
            raise unknown_name("cell", cell, CELLS)
        self.cell = cell
        self.units = _check_positive("units", units)
        self.embedding_dim = _check_positive("embedding_dim", embedding_dim)
        self.num_layers = _check_positive("num_layers", num_layers)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed

        # === Layers ===
        def seed_of(i):
            return None if seed is None else int(seed) + i

        self.source_embedding = keras.layers.Embedding(self.source_vocab_size, self.embedding_dim,
                                                       name="source_embedding")
        self.target_embedding = keras.layers.Embedding(self.target_vocab_size, self.embedding_dim,
                                                       name="target_embedding")

        def rnn(part, i, seed):
            step = _cell(cell, self.units, self.dropout, self.recurrent_dropout, seed, f"{part}_cell_{i}")
            return keras.layers.RNN(step, return_sequences=True, return_state=True, name=f"{part}_rnn_{i}")

        self.encoder_layers = [rnn("encoder", i, seed_of(i)) for i in range(self.num_layers)]
        self.decoder_layers = [rnn("decoder", i, seed_of(self.num_layers + i)) for i in range(self.num_layers)]
        self.output_dense = keras.layers.Dense(self.target_vocab_size, name="output_logits")

    def build(self, input_shape=None):
        self.source_embedding.build((None, None))
        self.target_embedding.build((None, None))
        width = self.embedding_dim
        for layer in self.encoder_layers + self.decoder_layers:
            if layer is self.decoder_layers[0]:
                width = self.embedding_dim
            layer.build((None, None, width))
            width = self.units
        self.output_dense.build((None, None, self.units))
        self.built = True

    def encode(self, source, training=False):
        """The encoder layers' final states, `[[h, c], ...]` (LSTM) or `[[h], ...]` (GRU), each `[batch, units]`."""
        x = self.source_embedding(source)
        states = []
        for layer in self.encoder_layers:
            x, *state = layer(x, training=training)
            states.append(state)
        return states

    def decode(self, memory, decoder_input, training=False):
        """Logits `[batch, T, target_vocab]`, each decoder layer started from its encoder layer's state."""
        y = self.target_embedding(decoder_input)
        for layer, state in zip(self.decoder_layers, memory):
            y, *_ = layer(y, initial_state=list(state), training=training)
        return self.output_dense(y)

    def get_config(self):
        config = super().get_config()
        config.update(cell=self.cell, units=self.units, embedding_dim=self.embedding_dim, num_layers=self.num_layers,
                      dropout=self.dropout, recurrent_dropout=self.recurrent_dropout, seed=self.seed)
        return config
