"""Seq2Seq models (RNNSeq2Seq with LSTM and GRU cells, Transformer): teacher forcing, greedy and
beam-search decoding against enumeration, fit, config, .keras files and SavedModel export."""
import itertools

import numpy as np
import pytest
import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models import RNNSeq2Seq, Transformer
from tests.helpers import run_fresh_python

SRC_VOCAB, TGT_VOCAB, START, S, T = 7, 5, 4, 5, 4
KINDS = ("lstm", "gru", "transformer")


def _model(kind, target_vocab=TGT_VOCAB, max_target_length=T, seed=0, start=START):
    keras.utils.set_random_seed(seed)
    if kind == "transformer":
        model = Transformer(SRC_VOCAB, target_vocab, start, max_target_length, S, d_model=8, num_heads=2, ff_dim=16,
                            num_layers=1, dropout=0.0)
    else:
        model = RNNSeq2Seq(SRC_VOCAB, target_vocab, start, max_target_length, cell=kind, units=8, embedding_dim=4)
    model.build()
    if kind == "transformer":
        # Its initial next-token distributions are nearly the same after every prefix;
        # larger random weights make them differ, so that greedy and beam search can
        # disagree (the RNNs' initial weights already do).
        rng = np.random.RandomState(seed + 100)
        model.set_weights([w + rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def _source(n=3, seed=1):
    return np.random.RandomState(seed).randint(0, SRC_VOCAB, size=(n, S)).astype("int32")


def _np_log_softmax(a):
    a = a - a.max(-1, keepdims=True)
    return a - np.log(np.exp(a).sum(-1, keepdims=True))


@pytest.mark.parametrize("kind", KINDS)
def test_teacher_forcing_logits_never_depend_on_later_decoder_inputs(kind):
    model = _model(kind)
    src = _source()
    dec = np.random.RandomState(2).randint(0, TGT_VOCAB, size=(3, T)).astype("int32")
    logits = model((src, dec)).numpy()
    assert logits.shape == (3, T, TGT_VOCAB)
    for t in range(T - 1):
        changed = dec.copy()
        changed[:, t + 1:] = (changed[:, t + 1:] + 1) % TGT_VOCAB
        np.testing.assert_allclose(model((src, changed)).numpy()[:, :t + 1], logits[:, :t + 1], rtol=1e-5, atol=1e-5)
        assert np.abs(model((src, changed)).numpy()[:, t + 1:] - logits[:, t + 1:]).max() > 1e-4
    # ... and every position depends on the source.
    assert np.abs(model(((src + 1) % SRC_VOCAB, dec)).numpy()[:, 0] - logits[:, 0]).max() > 1e-4


@pytest.mark.parametrize("kind", KINDS)
def test_sequence_log_prob_is_the_sum_of_teacher_forced_log_softmaxes(kind):
    model = _model(kind)
    src = _source()
    target = np.random.RandomState(3).randint(0, TGT_VOCAB, size=(3, T)).astype("int32")
    dec = np.concatenate([np.full((3, 1), START, "int32"), target[:, :-1]], 1)
    np.testing.assert_array_equal(model.decoder_input_for(target).numpy(), dec)
    log_p = _np_log_softmax(model((src, dec)).numpy().astype("float64"))
    expected = np.take_along_axis(log_p, target[..., None], -1)[..., 0].sum(-1)
    np.testing.assert_allclose(model.sequence_log_prob(src, target).numpy(), expected, rtol=1e-5)


def _enumerate(model, src, length, end_token=None):
    """log p of every target sequence of `length` (with an end token: only those that
    continue with end tokens after the first one, scored up to it), for every source."""
    seqs = []
    for seq in itertools.product(range(model.target_vocab_size), repeat=length):
        if end_token is not None and end_token in seq:
            first = seq.index(end_token)
            if any(s != end_token for s in seq[first:]):
                continue
        seqs.append(seq)
    seqs = np.array(seqs, dtype="int32")
    n, m = len(src), len(seqs)
    all_seqs = np.tile(seqs, (n, 1))
    logits = model((np.repeat(src, m, 0), model.decoder_input_for(all_seqs))).numpy().astype("float64")
    step = np.take_along_axis(_np_log_softmax(logits), all_seqs[..., None], -1)[..., 0]
    if end_token is not None:
        ended_before = np.cumsum(all_seqs == end_token, 1) - (all_seqs == end_token) > 0
        step = np.where(ended_before, 0.0, step)  # after the first end token: probability 1
    return seqs, step.sum(1).reshape(n, m)


@pytest.mark.parametrize("kind", KINDS)
def test_greedy_is_beam_width_one_and_argmax_fed_back(kind):
    model = _model(kind, seed=3)
    src = _source(4, seed=4)
    greedy = model.greedy_decode(src).numpy()
    tokens, scores = model.beam_search(src, beam_width=1)
    np.testing.assert_array_equal(tokens.numpy()[:, 0], greedy)
    np.testing.assert_allclose(scores.numpy()[:, 0], model.sequence_log_prob(src, greedy).numpy(), rtol=1e-5)
    # Greedy: each token is the argmax of the teacher-forced logits given the tokens before it.
    logits = model((src, model.decoder_input_for(greedy))).numpy()
    np.testing.assert_array_equal(logits.argmax(-1), greedy)


@pytest.mark.parametrize("kind", KINDS)
def test_exhaustive_beam_finds_the_best_sequences_by_enumeration(kind):
    """A beam of width V^(L-1) holds every prefix, so its hypotheses are the top sequences of
    all V^L; on these random models greedy misses the best one for some source."""
    vocab, length = 3, 3
    model = _model(kind, target_vocab=vocab, max_target_length=length, seed=5, start=0)
    src = _source(40, seed=6)
    seqs, scores = _enumerate(model, src, length)
    width = vocab ** (length - 1)
    tokens, beam_scores = (t.numpy() for t in model.beam_search(src, beam_width=width))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :width]
    np.testing.assert_allclose(beam_scores, np.take_along_axis(scores, order, 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tokens[:, 0], seqs[order[:, 0]])
    greedy_scores = model.sequence_log_prob(src, model.greedy_decode(src)).numpy()
    assert np.all(greedy_scores <= beam_scores[:, 0] + 1e-5)
    assert np.any(greedy_scores < beam_scores[:, 0] - 1e-3), "greedy was optimal everywhere: the test shows nothing"
    # A narrower beam is never worse than greedy here and its scores are real sequence scores.
    narrow, narrow_scores = (t.numpy() for t in model.beam_search(src, beam_width=2))
    for j in range(2):
        np.testing.assert_allclose(narrow_scores[:, j], model.sequence_log_prob(src, narrow[:, j]).numpy(), rtol=1e-5)


def test_beam_with_an_end_token_scores_sequences_up_to_it():
    vocab, length, end = 3, 3, 2
    model = _model("transformer", target_vocab=vocab, max_target_length=length, seed=7, start=0)
    src = _source(5, seed=8)
    seqs, scores = _enumerate(model, src, length, end_token=end)
    tokens, beam_scores = (t.numpy() for t in model.beam_search(src, beam_width=vocab ** (length - 1), end_token=end))
    valid = beam_scores > -1e8
    best = np.sort(scores, axis=1)[:, ::-1]
    for i in range(len(src)):
        n = valid[i].sum()
        assert n == min(len(seqs), vocab ** (length - 1))
        np.testing.assert_allclose(beam_scores[i, :n], best[i, :n], rtol=1e-5, atol=1e-5)
    # After an end token only end tokens follow, in beam search and in greedy decoding.
    for out in (tokens[:, 0], model.greedy_decode(src, end_token=end).numpy()):
        for row in out:
            if end in row:
                assert np.all(row[list(row).index(end):] == end)


@pytest.mark.parametrize("kind", KINDS)
def test_one_fit_step_gives_a_finite_loss_and_changes_the_weights(kind):
    model = _model(kind)
    # Eagerly: one step does not repay tracing the train function.
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), run_eagerly=True)
    src = _source(8, seed=9)
    target = np.random.RandomState(10).randint(0, TGT_VOCAB, size=(8, T)).astype("int32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit((src, model.decoder_input_for(target).numpy()), target, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("kind", KINDS)
def test_config_round_trip_and_keras_file(kind, tmp_path):
    model = _model(kind)
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    src = _source()
    np.testing.assert_array_equal(loaded.greedy_decode(src).numpy(), model.greedy_decode(src).numpy())
    dec = model.decoder_input_for(model.greedy_decode(src))
    np.testing.assert_allclose(loaded((src, dec)).numpy(), model((src, dec)).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_export_reloads_without_keras_gen(tmp_path):
    models = {kind: _model(kind) for kind in ("lstm", "transformer")}
    src = _source(4, seed=11)
    dec = np.random.RandomState(12).randint(0, TGT_VOCAB, size=(4, 3)).astype("int32")
    paths = {kind: m.export(kind, base_dir=str(tmp_path)) for kind, m in models.items()}
    got = run_fresh_python(f"""
        import json, sys
        import tensorflow as tf
        out = {{}}
        src = tf.constant({src.tolist()!r}, tf.int32)
        dec = tf.constant({dec.tolist()!r}, tf.int32)
        for kind, path in {paths!r}.items():
            m = tf.saved_model.load(path)
            out[kind] = {{"sigs": sorted(m.signatures),
                         "tokens": m.signatures["serving_default"](source=src)["tokens"].numpy().tolist(),
                         "logits": m.signatures["logits"](source=src, decoder_input=dec)["logits"].numpy().tolist()}}
        out["keras_gen_loaded"] = "keras_gen" in sys.modules
        print(json.dumps(out))
    """, without_keras_gen=True)
    assert got.pop("keras_gen_loaded") is False
    for kind, model in models.items():
        assert {"greedy", "logits", "serving_default"} <= set(got[kind]["sigs"])
        np.testing.assert_array_equal(got[kind]["tokens"], model.greedy_decode(src).numpy())
        np.testing.assert_allclose(got[kind]["logits"], model((src, dec)).numpy(), rtol=1e-5, atol=1e-5)


def test_bad_inputs_are_named():
    with pytest.raises(KerasGenError, match="cell"):
        RNNSeq2Seq(5, 5, 0, 3, cell="elman")
    with pytest.raises(KerasGenError, match="start_token"):
        RNNSeq2Seq(5, 5, 5, 3)
    with pytest.raises(KerasGenError, match="multiple of num_heads"):
        Transformer(5, 5, 0, 3, 4, d_model=10, num_heads=4)
    model = _model("gru")
    with pytest.raises(KerasGenError, match=r"source ids must be in \[0, 6\]"):
        model.greedy_decode(np.full((2, S), 9, "int32"))
    with pytest.raises(KerasGenError, match="integer token ids"):
        model.greedy_decode(np.zeros((2, S), "float32"))
    with pytest.raises(KerasGenError, match="beam_width"):
        model.beam_search(_source(), beam_width=0)
