"""keras_gen.metrics.piano_roll: each statistic against a hand count or an independent NumPy loop."""
import itertools

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.metrics import frechet_distance
from keras_gen.metrics import piano_roll as pr


def chord(*keys):
    frame = np.zeros(88, np.float32)
    frame[list(keys)] = 1
    return frame


def random_binary(n, density, seed):
    return (np.random.default_rng(seed).random((n, 2, 88, 1)) < density).astype(np.float32)


def test_roll_frames_shapes_and_checks():
    x = random_binary(5, 0.1, 0)
    np.testing.assert_array_equal(pr.roll_frames(x), x[..., 0].reshape(10, 88))
    np.testing.assert_array_equal(pr.roll_frames(x[..., 0]), pr.roll_frames(x))
    np.testing.assert_array_equal(pr.roll_frames(x[:, 0, :, 0]), x[:, 0, :, 0])
    with pytest.raises(KerasGenError, match="binary"):
        pr.roll_frames(x * 0.7)
    with pytest.raises(KerasGenError, match="88"):
        pr.roll_frames(np.zeros((3, 2, 87, 1)))
    with pytest.raises(KerasGenError, match="NaN"):
        pr.roll_frames(np.full((1, 88), np.nan))


def test_histograms_by_hand():
    # C major triad (C4 E4 G4 = keys 39 43 46) in one frame, middle C alone in the next,
    # an empty frame, and C3 + C5 (two octaves, 24 semitones) + C7 (24 more: 48).
    rolls = np.stack([chord(39, 43, 46), chord(39), np.zeros(88), chord(27, 51, 75)])
    p = pr.pitch_histogram(rolls)
    assert p[39] == pytest.approx(2 / 7) and p[43] == pytest.approx(1 / 7) and p.sum() == pytest.approx(1)
    counts = pr.interval_counts(rolls)
    # triad: 4 (C-E), 7 (C-G), 3 (E-G); octaves: 24, 24, 48 (-> last bin)
    expected = np.zeros(25)
    expected[[3, 2, 6]] = 1  # intervals 4, 3, 7 sit at bins 3, 2, 6
    expected[23] = 2         # 24 semitones, twice
    expected[24] = 1         # 48 semitones: more than 24
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(pr.interval_histogram(rolls), expected / 6)
    npf = pr.notes_per_frame_histogram(rolls)
    np.testing.assert_allclose(npf[[0, 1, 3]], [0.25, 0.25, 0.5])
    assert npf.sum() == pytest.approx(1) and len(npf) == pr.MAX_NOTES + 1
    # 15 notes in a frame land in the open last bin
    assert pr.notes_per_frame_histogram(chord(*range(15))[None])[-1] == 1


def test_interval_counts_match_a_loop_over_pairs():
    rolls = random_binary(40, 0.15, 1)
    expected = np.zeros(88)
    for frame in pr.roll_frames(rolls):
        on = np.flatnonzero(frame)
        for i, j in itertools.combinations(on, 2):
            expected[j - i] += 1
    for max_interval in (24, 5):
        counts = pr.interval_counts(rolls, max_interval)
        np.testing.assert_array_equal(counts[:max_interval], expected[1:max_interval + 1])
        assert counts[-1] == expected[max_interval + 1:].sum()
    with pytest.raises(KerasGenError):
        pr.interval_counts(rolls, 0)


def test_total_variation():
    assert pr.total_variation([0.5, 0.5, 0], [0, 0.5, 0.5]) == pytest.approx(0.5)
    assert pr.total_variation([1, 0], [0, 1]) == pytest.approx(1.0)
    assert pr.total_variation([0.2, 0.8], [0.2, 0.8]) == 0.0
    # an empty histogram (no notes / no pairs) is maximally far, also from another empty one
    assert pr.total_variation([0, 0], [0.5, 0.5]) == 1.0
    with pytest.raises(KerasGenError):
        pr.total_variation([0.5, 0.5], [1.0])


def test_independent_keys_match_frequencies_and_pitch_histogram():
    rng = np.random.default_rng(2)
    freqs = np.zeros(88)
    freqs[30:60] = rng.uniform(0.02, 0.3, 30)
    rolls = pr.independent_keys_rolls(freqs, 20000, seed=3)
    assert rolls.shape == (20000, 2, 88, 1)
    np.testing.assert_allclose(pr.key_frequencies(rolls), freqs, atol=0.01)
    assert pr.total_variation(pr.pitch_histogram(rolls), freqs / freqs.sum()) < 0.01
    # notes per frame of independent keys: Poisson-binomial mean sum(p) and variance sum p(1-p)
    n = pr.roll_frames(rolls).sum(1)
    assert n.mean() == pytest.approx(freqs.sum(), rel=0.01)
    assert n.var() == pytest.approx((freqs * (1 - freqs)).sum(), rel=0.03)
    np.testing.assert_array_equal(pr.independent_keys_rolls(freqs, 5, seed=3), rolls[:5])
    uniform = pr.uniform_random_rolls(0.05, 5000, seed=0)
    assert abs(uniform.mean() - 0.05) < 0.003
    with pytest.raises(KerasGenError):
        pr.independent_keys_rolls(np.full(88, 1.5), 3, 0)


class MeanPoolEncoder:
    """A stand-in encoder: the mean of each row and 8 key blocks (16 numbers)."""

    def predict(self, x, batch_size=None, verbose=0):
        x = np.asarray(x)[..., 0]
        return x[:, :, :88].reshape(len(x), 2, 8, 11).mean(-1).reshape(len(x), 16)


def test_frechet_code_distance_is_frechet_of_codes():
    enc = MeanPoolEncoder()
    a, b = random_binary(300, 0.05, 4), random_binary(200, 0.2, 5)
    assert pr.frechet_code_distance(enc, a, b) == pytest.approx(
        frechet_distance(enc.predict(a), enc.predict(b)), rel=1e-10)


def test_evaluator_scores_and_baselines():
    rng = np.random.default_rng(6)
    # "chorales": every frame a random major triad in the middle of the keyboard
    def triads(n):
        roots = rng.integers(30, 50, size=2 * n)
        frames = np.zeros((2 * n, 88), np.float32)
        frames[np.arange(2 * n)[:, None], roots[:, None] + np.array([0, 4, 7])] = 1
        return frames.reshape(n, 2, 88, 1)

    train, held = triads(3000), triads(800)
    ev = pr.PianoRollEvaluator(held, train, encoder=MeanPoolEncoder())
    assert ev.density == pytest.approx(3 / 88)
    real = ev.score(triads(500))
    assert real["notes_per_frame_tv"] == 0 and real["interval_histogram_tv"] < 0.05
    assert set(pr.MEASURES) <= set(real)
    scores = ev.score_baselines(500, seed=0)
    assert set(scores) == {"independent_keys", "uniform_random", "training_frames"}
    ind, uni, tr = scores["independent_keys"], scores["uniform_random"], scores["training_frames"]
    # independent keys fake the pitch histogram but not harmony or the number of notes
    assert ind["pitch_histogram_tv"] < 0.05 and uni["pitch_histogram_tv"] > 0.5
    assert ind["interval_histogram_tv"] > 0.3 and ind["notes_per_frame_tv"] > 0.4
    assert tr["notes_per_frame_tv"] == 0 and tr["frechet_code_distance"] < ind["frechet_code_distance"]
    # training frames are real training rolls
    drawn = ev.baseline_rolls(500, seed=0)["training_frames"]
    assert len(drawn) == 500 and {r.tobytes() for r in drawn} <= {r.tobytes() for r in train}
    silent = ev.score(np.zeros((10, 2, 88, 1)))
    assert silent["pitch_histogram_tv"] == 1.0 and silent["silent_frame_share"] == 1.0
    with pytest.raises(KerasGenError):
        ev.baseline_rolls(5000, seed=0)
