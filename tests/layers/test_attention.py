"""Attention, positional encoding and the Transformer blocks against NumPy."""
import numpy as np
import pytest
import keras

from keras_gen.errors import KerasGenError
from keras_gen.layers import (
    MultiHeadAttention, SinusoidalPositionalEncoding, TransformerDecoderBlock, TransformerEncoderBlock, causal_mask,
    scaled_dot_product_attention, sinusoidal_positional_encoding,
)


def _softmax(a):
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _np_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    w = _softmax(scores)
    return w @ v, w


def _np_dense(x, layer):
    kernel, bias = (w.astype("float64") for w in layer.get_weights())
    return x @ kernel + bias


def _np_mha(layer, xq, xkv, mask=None):
    """Multi-head attention head by head from the layer's weights (mask [b, Tq, Tk] or None)."""
    h, dk = layer.num_heads, layer.key_dim
    q, k, v = _np_dense(xq, layer.query_dense), _np_dense(xkv, layer.key_dense), _np_dense(xkv, layer.value_dense)
    heads = [_np_attention(q[..., j * dk:(j + 1) * dk], k[..., j * dk:(j + 1) * dk], v[..., j * dk:(j + 1) * dk],
                           mask)[0] for j in range(h)]
    return _np_dense(np.concatenate(heads, -1), layer.output_dense)


def _np_layer_norm(x, layer):
    gamma, beta = (w.astype("float64") for w in layer.get_weights())
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + layer.epsilon) * gamma + beta


def _np_ffn(x, block):
    return _np_dense(np.maximum(_np_dense(x, block.ff_hidden), 0.0), block.ff_output)


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).normal(size=shape).astype("float32")


def test_scaled_dot_product_attention_equals_numpy_with_and_without_a_mask():
    q, k, v = _rand(2, 3, 4, 8, seed=1), _rand(2, 3, 5, 8, seed=2), _rand(2, 3, 5, 6, seed=3)
    out, w = scaled_dot_product_attention(q, k, v)
    ref_out, ref_w = _np_attention(q.astype("float64"), k.astype("float64"), v.astype("float64"))
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-5, atol=1e-7)
    mask = np.random.RandomState(4).rand(2, 1, 4, 5) > 0.4
    mask[..., 0] = True  # every query sees at least one key
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    ref_out, ref_w = _np_attention(q.astype("float64"), k.astype("float64"), v.astype("float64"), mask)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-5, atol=1e-7)
    assert np.all(w.numpy()[~np.broadcast_to(mask, w.shape)] == 0.0)


def test_causal_mask_is_lower_triangular():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])


@pytest.mark.parametrize("depth", [6, 7])
def test_positional_encoding_matches_vaswani_section_3_5(depth):
    table = sinusoidal_positional_encoding(9, depth)
    assert table.shape == (9, depth) and table.dtype == np.float32
    for pos in range(9):
        for dim in range(depth):
            i = dim // 2
            angle = pos / 10000 ** (2 * i / depth)
            expected = np.sin(angle) if dim % 2 == 0 else np.cos(angle)
            assert table[pos, dim] == pytest.approx(expected, abs=1e-6)
    x = _rand(2, 5, depth, seed=5)
    np.testing.assert_allclose(SinusoidalPositionalEncoding(9)(x).numpy(), x + table[:5], rtol=1e-6)
    with pytest.raises(KerasGenError, match="max_length 4"):
        SinusoidalPositionalEncoding(4)(x)


def test_multi_head_attention_equals_numpy_head_by_head_and_keras():
    xq, xkv = _rand(2, 4, 6, seed=6), _rand(2, 5, 6, seed=7)
    layer = MultiHeadAttention(num_heads=3, key_dim=2, seed=0)
    layer(xq, xkv)
    mask = np.random.RandomState(8).rand(2, 4, 5) > 0.3
    mask[..., 0] = True
    for m in (None, mask):
        np.testing.assert_allclose(layer(xq, xkv, attention_mask=m).numpy(),
                                   _np_mha(layer, xq.astype("float64"), xkv.astype("float64"), m), rtol=1e-5, atol=1e-5)
    # keras.layers.MultiHeadAttention with the same weights (its kernels are [d, heads, key_dim]).
    ref = keras.layers.MultiHeadAttention(num_heads=3, key_dim=2)
    ref(xq, xkv)
    ref.set_weights([w.reshape(r.shape) for w, r in zip(layer.get_weights(), ref.get_weights())])
    np.testing.assert_allclose(layer(xq, xkv, attention_mask=mask).numpy(),
                               ref(xq, xkv, attention_mask=mask).numpy(), rtol=1e-5, atol=1e-5)


def test_causal_self_attention_hides_the_future():
    x = _rand(1, 5, 8, seed=9)
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    out, w = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.triu(w.numpy()[0, 0], k=1) == 0.0)
    np.testing.assert_allclose(out.numpy(), _np_mha(layer, x.astype("float64"), x.astype("float64"),
                                                    causal_mask(5)[None]), rtol=1e-5, atol=1e-5)
    changed = x.copy()
    changed[:, 3:] += 10.0
    np.testing.assert_allclose(layer(changed, changed, use_causal_mask=True).numpy()[:, :3], out.numpy()[:, :3],
                               rtol=1e-5, atol=1e-6)


def test_attention_dropout_only_when_training():
    x = _rand(2, 4, 8, seed=10)
    layer = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5, seed=1)
    ref = layer(x, x).numpy()
    np.testing.assert_allclose(layer(x, x, training=False).numpy(), ref)
    assert np.abs(layer(x, x, training=True).numpy() - ref).max() > 1e-3


def test_encoder_block_is_post_ln_residual_attention_and_feed_forward():
    x = _rand(2, 5, 8, seed=11)
    pad = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], bool)
    block = TransformerEncoderBlock(num_heads=2, key_dim=4, ff_dim=16, dropout=0.0)
    out = block(x, padding_mask=pad).numpy()
    xd = x.astype("float64")
    mask = np.broadcast_to(pad[:, None, :], (2, 5, 5))
    h = _np_layer_norm(xd + _np_mha(block.self_attention, xd, xd, mask), block.attention_norm)
    ref = _np_layer_norm(h + _np_ffn(h, block), block.ff_norm)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    # Padded keys are invisible: changing the padded tokens leaves the real positions' outputs as they were.
    changed = x.copy()
    changed[1, 3:] = 5.0
    np.testing.assert_allclose(block(changed, padding_mask=pad).numpy()[1, :3], out[1, :3], rtol=1e-5, atol=1e-5)


def test_decoder_block_equals_numpy_and_never_looks_ahead():
    y, memory = _rand(2, 4, 8, seed=12), _rand(2, 6, 8, seed=13)
    block = TransformerDecoderBlock(num_heads=2, key_dim=4, ff_dim=16, dropout=0.0)
    out = block(y, memory).numpy()
    yd, md = y.astype("float64"), memory.astype("float64")
    h = _np_layer_norm(yd + _np_mha(block.self_attention, yd, yd, causal_mask(4)[None]), block.self_attention_norm)
    h = _np_layer_norm(h + _np_mha(block.cross_attention, h, md), block.cross_attention_norm)
    ref = _np_layer_norm(h + _np_ffn(h, block), block.ff_norm)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    for t in range(3):
        changed = y.copy()
        changed[:, t + 1:] = _rand(2, 3 - t, 8, seed=20 + t)
        np.testing.assert_allclose(block(changed, memory).numpy()[:, :t + 1], out[:, :t + 1], rtol=1e-5, atol=1e-5)
    # ... while the encoder output reaches every position.
    assert np.abs(block(y, memory + 1.0).numpy()[:, 0] - out[:, 0]).max() > 1e-3


@pytest.mark.parametrize("kind", ["encoder", "decoder", "mha", "position"])
def test_config_round_trip_and_keras_file(kind, tmp_path):
    x_in, m_in = keras.Input((5, 8)), keras.Input((6, 8))
    if kind == "encoder":
        layer = TransformerEncoderBlock(num_heads=2, key_dim=4, ff_dim=16, dropout=0.1, seed=3)
        out, inputs = layer(x_in), [x_in]
    elif kind == "decoder":
        layer = TransformerDecoderBlock(num_heads=2, key_dim=4, ff_dim=16, dropout=0.1, seed=3)
        out, inputs = layer(x_in, m_in), [x_in, m_in]
    elif kind == "mha":
        layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_dim=7, dropout=0.2, seed=1)
        out, inputs = layer(x_in, m_in), [x_in, m_in]
    else:
        layer = SinusoidalPositionalEncoding(10, base=100.0)
        out, inputs = layer(x_in), [x_in]
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    model = keras.Model(inputs, out)
    data = [_rand(2, 5, 8, seed=30), _rand(2, 6, 8, seed=31)][:len(inputs)]
    path = str(tmp_path / f"{kind}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-5, atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(KerasGenError, match="num_heads"):
        MultiHeadAttention(num_heads=0, key_dim=2)
    with pytest.raises(KerasGenError, match="dropout"):
        TransformerEncoderBlock(num_heads=2, key_dim=2, ff_dim=4, dropout=1.0)
    with pytest.raises(KerasGenError, match="ff_dim"):
        TransformerDecoderBlock(num_heads=2, key_dim=2, ff_dim=0)
    with pytest.raises(KerasGenError, match="depth"):
        sinusoidal_positional_encoding(4, 0)
