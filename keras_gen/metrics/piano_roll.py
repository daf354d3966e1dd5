"""Statistics of binary piano rolls, and how far a set of generated rolls is from real ones (S5).

A roll is binary: one column per piano key (88, A0..C8), one row per eighth-note frame.
Sample sets come as `[n, 2, 88, 1]` two-frame samples (the S1/S5 input), `[n, 2, 88]`
or plain frames `[n, 88]`; every statistic reads them as a list of frames.

Four measures of a sample set against held-out real rolls (smaller is closer):

* `pitch_histogram_tv`: total variation between the pitch histograms (the share of
  sounding notes on each key). An *independent-keys* roll, each key on with its
  training frequency, matches this histogram by construction: it tests nothing a
  model learnt beyond the key marginals.
* `interval_histogram_tv`: the same for the intervals between simultaneous notes:
  every pair of sounding keys i < j of one frame counts once at j - i semitones,
  in bins 1, 2, ..., `MAX_INTERVAL` and one bin for larger intervals. Harmony (thirds,
  fifths, octaves; few seconds) lives here; independent keys put pairs where the
  product of the marginals says, so they cannot fake it.
* `notes_per_frame_tv`: the same for the number of sounding keys per frame (bins 0 ..
  `MAX_NOTES` - 1 and one for `MAX_NOTES` or more). A four-voice chorale has 3-4 notes
  in almost every frame; independent keys give a wide Poisson-binomial spread.
* `frechet_code_distance`: the Frechet distance between Gaussians fitted to the 44-unit
  codes of a trained S1 autoencoder (`keras_gen.models.group_meeting_autoencoder`,
  `encoder(model)`) of the samples and of the held-out rolls, as FID does with
  Inception features. Like FID it is biased by sample size: compare it with its
  *floor*, real training rolls against the held-out ones at the same sample size.

Total variation: `TV(p, q) = 1/2 sum_k |p_k - q_k|`, in [0, 1]. A sample set with no
notes (or no pairs of notes) has no histogram; it counts as maximally far (TV = 1).

`PianoRollEvaluator` holds one held-out reference (and optionally the encoder) and
scores any sample set and the three reference rolls a model must be compared with:
independent keys at training frequencies (the trivial model that matches the pitch
histogram), a uniform random roll at the training density, and real training frames
(the ceiling: what a generator that copied training rolls would get).
"""
import numpy as np

from keras_gen.errors import KerasGenError
from keras_gen.metrics.divergences import to_numpy
from keras_gen.metrics.fid import feature_moments, frechet_distance_from_moments

N_KEYS = 88
MAX_INTERVAL = 24  # interval bins: 1 .. 24 semitones (two octaves), then one bin for > 24
MAX_NOTES = 12     # notes-per-frame bins: 0 .. 11, then one bin for 12 or more
MEASURES = ("pitch_histogram_tv", "interval_histogram_tv", "notes_per_frame_tv", "frechet_code_distance")


def roll_frames(rolls, name="rolls"):
    """The frames of binary rolls as a `[n_frames, 88]` float64 array.

    Accepts `[n, 88]`, `[n, rows, 88]` or `[n, rows, 88, 1]`; every value must be 0 or 1
    (threshold or sample generated probabilities first).

    Raises:
        KerasGenError: another shape, NaN, or a value other than 0 and 1.
    """
    x = to_numpy(rolls, name)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (2, 3) or x.shape[-1] != N_KEYS:
        raise KerasGenError(f"{name} must be [n, 88], [n, rows, 88] or [n, rows, 88, 1] rolls, got {x.shape}")
    frames = x.reshape(-1, N_KEYS)
    if frames.size and not np.all((frames == 0) | (frames == 1)):
        bad = frames[(frames != 0) & (frames != 1)][0]
        raise KerasGenError(f"{name} must be binary (0 or 1), found {bad:g}; threshold probabilities first")
    return frames


def _normalise(counts):
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts, dtype=np.float64)


def pitch_histogram(rolls):
    """Share of sounding notes on each of the 88 keys, `[88]` (all zeros if no note sounds).

    Formula: `p_k = sum_t x_tk / sum_t sum_j x_tj` over all frames t.
    """
    return _normalise(roll_frames(rolls).sum(0))


def interval_counts(rolls, max_interval=MAX_INTERVAL):
    """Counts of pairs of simultaneous notes by interval, `[max_interval + 1]`.

    Formula: `c_d = sum_t sum_i x_t,i x_t,i+d` for d = 1 .. 87 semitones (every pair of
    sounding keys i < i + d of a frame once); bin `d - 1` holds d <= `max_interval`, the
    last bin every d > `max_interval`.
    """
    if int(max_interval) < 1 or int(max_interval) > N_KEYS - 2:
        raise KerasGenError(f"max_interval must be in 1..{N_KEYS - 2}, got {max_interval}")
    f = roll_frames(rolls)
    per_interval = np.array([(f[:, :-d] * f[:, d:]).sum() for d in range(1, N_KEYS)])  # d = 1 .. 87
    return np.concatenate([per_interval[:max_interval], [per_interval[max_interval:].sum()]])


def interval_histogram(rolls, max_interval=MAX_INTERVAL):
    """`interval_counts` as shares (all zeros if no frame has two notes)."""
    return _normalise(interval_counts(rolls, max_interval))


def notes_per_frame_histogram(rolls, max_notes=MAX_NOTES):
    """Share of frames with 0, 1, ..., `max_notes` - 1 and `max_notes` or more sounding keys."""
    if int(max_notes) < 1:
        raise KerasGenError(f"max_notes must be >= 1, got {max_notes}")
    f = roll_frames(rolls)
    per_frame = np.minimum(f.sum(1).astype(np.int64), max_notes)
    return _normalise(np.bincount(per_frame, minlength=max_notes + 1).astype(np.float64))


def total_variation(p, q):
    """Total-variation distance between two histograms of the same length, in [0, 1].

    Formula: `TV(p, q) = 1/2 sum_k |p_k - q_k|`. An empty histogram (all zeros: no notes,
    no pairs) describes no distribution and counts as maximally far: TV = 1.
    """
    p, q = to_numpy(p, "p").ravel(), to_numpy(q, "q").ravel()
    if p.shape != q.shape:
        raise KerasGenError(f"histograms of different lengths: {p.size} vs {q.size}")
    if np.any(p < 0) or np.any(q < 0):
        raise KerasGenError("histograms must be non-negative")
    if p.sum() == 0 or q.sum() == 0:
        return 1.0
    return 0.5 * float(np.abs(p / p.sum() - q / q.sum()).sum())


def key_frequencies(rolls):
    """How often each key sounds per frame, `[88]` (the independent-keys model's parameters)."""
    f = roll_frames(rolls)
    if not len(f):
        raise KerasGenError("key_frequencies needs at least one frame")
    return f.mean(0)


def independent_keys_rolls(frequencies, n, seed, rows=2):
    """`[n, rows, 88, 1]` rolls whose keys sound independently, key k with probability `frequencies[k]`.

    With the training rolls' `key_frequencies` this is the trivial model that matches the
    pitch histogram (and the note density) without learning anything else.
    """
    p = to_numpy(frequencies, "frequencies").reshape(-1)
    if p.size != N_KEYS or np.any(p < 0) or np.any(p > 1):
        raise KerasGenError(f"frequencies must be 88 probabilities in [0, 1], got shape {p.shape}")
    rng = np.random.default_rng(seed)
    return (rng.random((int(n), int(rows), N_KEYS, 1)) < p[None, None, :, None]).astype(np.float32)


def uniform_random_rolls(density, n, seed, rows=2):
    """`[n, rows, 88, 1]` rolls in which every key sounds independently with probability `density`."""
    if not 0 <= float(density) <= 1:
        raise KerasGenError(f"density must be in [0, 1], got {density}")
    return independent_keys_rolls(np.full(N_KEYS, float(density)), n, seed, rows)


def roll_codes(encoder, rolls, batch_size=4096):
    """The encoder's codes of binary rolls `[n, 2, 88, 1]`, float64 `[n, d]`."""
    roll_frames(rolls)  # shape and binary check
    x = np.asarray(rolls, np.float32)
    if x.ndim == 3:
        x = x[..., None]
    return np.asarray(encoder.predict(x, batch_size=batch_size, verbose=0), np.float64).reshape(len(x), -1)


def frechet_code_distance(encoder, rolls_a, rolls_b):
    """Frechet distance between Gaussians fitted to the `encoder` codes of two roll sets.

    Formula: `||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))` over codes
    (`keras_gen.metrics.frechet_distance`), with `encoder = encoder(S1 model)` the 44 codes.
    """
    from keras_gen.metrics.fid import frechet_distance

    return frechet_distance(roll_codes(encoder, rolls_a), roll_codes(encoder, rolls_b))


class PianoRollEvaluator:
    """Scores sets of binary rolls against one held-out reference (see the module docstring).

    Args:
        reference: the held-out real rolls `[m, 2, 88, 1]` (validation or test pieces).
        train: the training rolls `[N, 2, 88, 1]`: key frequencies and density of the
            trivial rolls, and the real training frames of the ceiling.
        encoder: a trained S1 encoder (rolls -> 44 codes), or None to leave out
            `frechet_code_distance`.
    """

    def __init__(self, reference, train, encoder=None):
        self.reference = np.asarray(reference, np.float32)
        self.train = np.asarray(train, np.float32)
        roll_frames(self.reference, "reference")
        self.frequencies = key_frequencies(self.train)
        self.density = float(self.frequencies.mean())
        self.encoder = encoder
        self.histograms = self._histograms(self.reference)
        if encoder is not None:
            self.code_moments = feature_moments(roll_codes(encoder, self.reference), "reference codes")

    @staticmethod
    def _histograms(rolls):
        return {"pitch": pitch_histogram(rolls), "interval": interval_histogram(rolls),
                "notes_per_frame": notes_per_frame_histogram(rolls)}

    def histograms_of(self, rolls):
        """`{"pitch", "interval", "notes_per_frame"}` histograms of `rolls`."""
        return self._histograms(rolls)

    def score(self, rolls):
        """The four measures (three without an encoder), note density and silent share of `rolls`."""
        h = self._histograms(rolls)
        frames = roll_frames(rolls)
        out = {
            "pitch_histogram_tv": total_variation(h["pitch"], self.histograms["pitch"]),
            "interval_histogram_tv": total_variation(h["interval"], self.histograms["interval"]),
            "notes_per_frame_tv": total_variation(h["notes_per_frame"], self.histograms["notes_per_frame"]),
            "density": float(frames.mean()) if frames.size else 0.0,
            "silent_frame_share": float(np.mean(frames.sum(1) == 0)) if frames.size else 1.0,
            "n": int(len(np.asarray(rolls))),
        }
        if self.encoder is not None:
            codes = roll_codes(self.encoder, rolls)
            mu, sigma = feature_moments(codes, "sample codes")
            out["frechet_code_distance"] = frechet_distance_from_moments(mu, sigma, *self.code_moments)
        return out

    def baseline_rolls(self, n, seed):
        """The three reference roll sets of size `n`, drawn with `seed`.

        `independent_keys` (training key frequencies), `uniform_random` (training density on
        every key) and `training_frames` (`n` real training samples without replacement).
        """
        if int(n) > len(self.train):
            raise KerasGenError(f"asked for {n} training samples, the training rolls have {len(self.train)}")
        rng = np.random.default_rng([int(seed), 1])
        return {
            "independent_keys": independent_keys_rolls(self.frequencies, n, [int(seed), 2]),
            "uniform_random": uniform_random_rolls(self.density, n, [int(seed), 3]),
            "training_frames": self.train[np.sort(rng.choice(len(self.train), int(n), replace=False))],
        }

    def score_baselines(self, n, seed):
        """`{name: score(rolls)}` for the three `baseline_rolls(n, seed)`."""
        return {name: self.score(rolls) for name, rolls in self.baseline_rolls(n, seed).items()}
