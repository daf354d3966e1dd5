"""T8: the Transformer encoder-decoder (Vaswani et al. 2017; notes 002, lecture 10).

    encoder   x = Dropout(Embedding(source) * sqrt(d_model) + PE)   -> N x TransformerEncoderBlock
    decoder   y = Dropout(Embedding([BOS, y_<T]) * sqrt(d_model) + PE)
              -> N x TransformerDecoderBlock(y, encoder output)  -> Dense(target_vocab)

PE is the sinusoidal table of section 3.5; the embeddings are scaled by sqrt(d_model)
(section 3.4) so they are not drowned by it. Blocks are post-LN (residual, then layer
norm), as in the paper and the notes. Teacher forcing, greedy and beam-search decoding
come from `Seq2Seq`. Differences from the paper, for small tasks: the source and target
embeddings and the output layer do not share weights, and `num_layers`, `d_model`,
`num_heads`, `ff_dim` are arguments (the paper's base model: 6, 512, 8, 2048).
"""
import math

import keras
from keras import ops

from keras_gen.errors import KerasGenError
from keras_gen.layers.attention import SinusoidalPositionalEncoding, TransformerDecoderBlock, TransformerEncoderBlock
from keras_gen.models.seq2seq import Seq2Seq, _check_positive


@keras.saving.register_keras_serializable(package="keras_gen")
class Transformer(Seq2Seq):
    """The Transformer as an encoder-decoder `Seq2Seq` model.

    Args:
        source_vocab_size, target_vocab_size, start_token, max_target_length: see `Seq2Seq`.
        max_source_length: the longest source accepted (size of its positional table).
        d_model: width of embeddings and blocks.
        num_heads: heads of every attention; each has key_dim = d_model / num_heads.
        ff_dim: hidden width of the feed-forward networks (d_ff).
        num_layers: N, blocks in the encoder and in the decoder.
        dropout: P_drop (embeddings, sub-layer outputs, attention weights).
        source_pad_id: a source id the encoder's keys hide (padding), or None.
        seed: seed of the dropouts.
    """

    def __init__(self, source_vocab_size, target_vocab_size, start_token, max_target_length, max_source_length,
                 d_model=64, num_heads=4, ff_dim=128, num_layers=2, dropout=0.1, source_pad_id=None, seed=None,
                 **kwargs):
        super().__init__(source_vocab_size, target_vocab_size, start_token, max_target_length, **kwargs)
        self.max_source_length = _check_positive("max_source_length", max_source_length)
        self.d_model = _check_positive("d_model", d_model)
        self.num_heads = _check_positive("num_heads", num_heads)
        if self.d_model % self.num_heads:
            raise KerasGenError(f"d_model ({d_model}) must be a multiple of num_heads ({num_heads})")
        self.ff_dim = _check_positive("ff_dim", ff_dim)
        self.num_layers = _check_positive("num_layers", num_layers)
        if not 0.0 <= float(dropout) < 1.0:
            raise KerasGenError(f"dropout must be in [0, 1), got {dropout}")
        self.dropout = float(dropout)
        if source_pad_id is not None and not 0 <= int(source_pad_id) < self.source_vocab_size:
            raise KerasGenError(f"source_pad_id must be a source id or None, got {source_pad_id}")
        self.source_pad_id = None if source_pad_id is None else int(source_pad_id)
        self.seed = seed

        # === Layers ===
        def seed_of(i):
            return None if seed is None else int(seed) + 100 * i

        key_dim = self.d_model // self.num_heads
        self.source_embedding = keras.layers.Embedding(self.source_vocab_size, self.d_model, name="source_embedding")
        self.target_embedding = keras.layers.Embedding(self.target_vocab_size, self.d_model, name="target_embedding")
        # The decoder's input is [BOS, y_1, ..., y_{T-1}]: max_target_length positions.
        self.source_position = SinusoidalPositionalEncoding(self.max_source_length, name="source_position")
        self.target_position = SinusoidalPositionalEncoding(self.max_target_length, name="target_position")
        self.source_dropout = keras.layers.Dropout(self.dropout, seed=seed_of(1), name="source_dropout")
        self.target_dropout = keras.layers.Dropout(self.dropout, seed=seed_of(2), name="target_dropout")
        self.encoder_blocks = [
            TransformerEncoderBlock(self.num_heads, key_dim, self.ff_dim, dropout=self.dropout, seed=seed_of(3 + i),
                                    name=f"encoder_block_{i}") for i in range(self.num_layers)]
        self.decoder_blocks = [
            TransformerDecoderBlock(self.num_heads, key_dim, self.ff_dim, dropout=self.dropout,
                                    seed=seed_of(3 + self.num_layers + i), name=f"decoder_block_{i}")
            for i in range(self.num_layers)]
        self.output_dense = keras.layers.Dense(self.target_vocab_size, name="output_logits")

    def build(self, input_shape=None):
        self.source_embedding.build((None, None))
        self.target_embedding.build((None, None))
        width = (None, None, self.d_model)
        self.source_position.build(width)
        self.target_position.build(width)
        for block in self.encoder_blocks:
            block.build(width)
        for block in self.decoder_blocks:
            block.build(width, width)
        self.output_dense.build(width)
        self.built = True

    def _embed(self, tokens, embedding, position, dropout, training):
        x = embedding(tokens) * ops.cast(math.sqrt(self.d_model), embedding.compute_dtype)
        return dropout(position(x), training=training)

    def source_padding_mask(self, source):
        """True for the source tokens the encoder's keys show (all, unless `source_pad_id` is set)."""
        if self.source_pad_id is None:
            return None
        return ops.not_equal(source, self.source_pad_id)

    def encode(self, source, training=False):
        """`[memory [batch, S, d_model], source padding mask [batch, S] (bool)]`."""
        mask = self.source_padding_mask(source)
        x = self._embed(source, self.source_embedding, self.source_position, self.source_dropout, training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=mask, training=training)
        if mask is None:
            mask = ops.ones(ops.shape(source), dtype="bool")
        return [x, mask]

    def decode(self, memory, decoder_input, training=False):
        """Logits `[batch, T, target_vocab]`; position t depends on decoder_input[:, :t+1] only."""
        memory, mask = memory
        y = self._embed(decoder_input, self.target_embedding, self.target_position, self.target_dropout, training)
        for block in self.decoder_blocks:
            y = block(y, memory, memory_padding_mask=mask, training=training)
        return self.output_dense(y)

    def cross_attention(self, source, decoder_input, layer=-1):
        """The cross-attention weights `[batch, heads, T, S]` of decoder block `layer` (for figures)."""
        memory, mask = self.encode(source)
        y = self._embed(decoder_input, self.target_embedding, self.target_position, self.target_dropout, False)
        blocks = self.decoder_blocks[: (layer % self.num_layers) + 1]
        weights = None
        for block in blocks:
            y, weights = block(y, memory, memory_padding_mask=mask, return_attention_scores=True)
        return weights

    def get_config(self):
        config = super().get_config()
        config.update(max_source_length=self.max_source_length, d_model=self.d_model, num_heads=self.num_heads,
                      ff_dim=self.ff_dim, num_layers=self.num_layers, dropout=self.dropout,
                      source_pad_id=self.source_pad_id, seed=self.seed)
        return config
