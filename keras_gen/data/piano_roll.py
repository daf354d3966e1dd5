"""88-key binary piano rolls from scores (music21), as in the group-meeting notes (S1).

A roll has one column per piano key (MIDI 21..108, A0..C8) and one row per eighth-note
frame. A note is on in every frame its sounding interval [onset, onset + duration)
overlaps. Two-row samples, the autoencoder's `[2, 88, 1]` input, come in two kinds:

- `frames`: two consecutive frames (t, t + 1) of the whole texture;
- `staves`: one frame, soprano + alto in row 0 over tenor + bass in row 1.

This module has no TensorFlow dependency so that its parsing workers start fast.
"""
import concurrent.futures
import glob
import multiprocessing
import os
import zlib

import numpy as np

LOWEST_MIDI = 21
N_KEYS = 88
FRAME_QUARTERS = 0.5  # an eighth note, in quarter lengths
ROWS = ("frames", "staves")
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".mid", ".midi")
TEST_PERCENT = 10
_VOICES = ("soprano", "alto", "tenor", "bass")


def bach_chorale_paths():
    """The Bach chorale scores shipped inside music21 (.mxl/.xml only).

    The corpus also holds Roman-numeral analyses (.rntxt) and Humdrum (.krn)
    duplicates of some chorales; they are not scores of their own and are skipped.
    """
    from music21 import corpus

    paths = [str(p) for p in corpus.getComposer("bach") if p.suffix in (".mxl", ".xml")]
    return sorted(paths)


def piece_name(path):
    """A stable piece identifier: the file name without its folder and suffix."""
    return os.path.splitext(os.path.basename(path))[0]


def is_test_piece(name):
    """Deterministic split by piece: about `TEST_PERCENT`% of pieces are held out."""
    return zlib.crc32(name.encode("utf-8")) % 100 < TEST_PERCENT


def _part_name(part):
    return " ".join(str(x) for x in (part.partName, part.id) if x).lower()


def _note_events(part):
    """(onset, end, midi) for every sounding pitch of a music21 part."""
    events = []
    for n in part.flatten().notes:
        dur = float(n.quarterLength)
        if dur <= 0:  # grace notes take no time
            continue
        onset = float(n.offset)
        for p in n.pitches:
            events.append((onset, onset + dur, int(p.midi)))
    return events


def _roll(events, n_frames):
    roll = np.zeros((n_frames, N_KEYS), dtype=np.uint8)
    dropped = 0
    eps = 1e-6
    for onset, end, midi in events:
        key = midi - LOWEST_MIDI
        if not 0 <= key < N_KEYS:
            dropped += 1
            continue
        first = int(np.floor(onset / FRAME_QUARTERS + eps))
        last = int(np.ceil(end / FRAME_QUARTERS - eps))
        roll[first:max(last, first + 1), key] = 1
    return roll, dropped


def score_rolls(score):
    """Rolls of a parsed music21 score.

    Returns a dict with `full` (all selected parts, [T, 88]), `upper` and `lower`
    (soprano+alto and tenor+bass, [T, 88]) and `out_of_range` (notes outside the
    88 keys, counted, not silently dropped). Parts named soprano/alto/tenor/bass are
    used when all four exist (Bach chorales sometimes add instrument parts); otherwise
    all parts, split into upper and lower halves by mean pitch.
    """
    parts = list(score.parts) or [score]
    by_voice = {}
    for part in parts:
        pname = _part_name(part)
        for voice in _VOICES:
            if voice in pname and voice not in by_voice:
                by_voice[voice] = part
    events = {}
    if len(by_voice) == 4:
        chosen = [by_voice[v] for v in _VOICES]
        for part in chosen:
            events[id(part)] = _note_events(part)
        upper, lower = chosen[:2], chosen[2:]
    else:
        chosen = []
        for part in parts:
            ev = _note_events(part)
            if ev:
                events[id(part)] = ev
                chosen.append(part)
        chosen.sort(key=lambda p: -np.mean([m for _, _, m in events[id(p)]]))
        half = (len(chosen) + 1) // 2
        upper, lower = chosen[:half], chosen[half:]
    all_events = [e for p in chosen for e in events[id(p)]]
    if not all_events:
        raise ValueError("no notes found")
    end = max(e for _, e, _ in all_events)
    n_frames = int(np.ceil(end / FRAME_QUARTERS - 1e-6))
    full, dropped = _roll(all_events, n_frames)
    up, _ = _roll([e for p in upper for e in events[id(p)]], n_frames)
    low, _ = _roll([e for p in lower for e in events[id(p)]], n_frames)
    return {"full": full, "upper": up, "lower": low, "out_of_range": dropped}


def parse_file(path):
    """Parses one score file. Returns `(path, rolls_or_None, error_or_None)`."""
    try:
        from music21 import converter

        score = converter.parse(path)
        return path, score_rolls(score), None
    except Exception as err:  # noqa: BLE001 - any parse failure is reported by name
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return path, None, f"{type(err).__name__}: {msg}"[:300]


def parse_files(paths, processes=None):
    """Parses scores in parallel.

    Returns `(rolls, failures)`: `rolls` maps piece name -> rolls dict (see
    `score_rolls`), `failures` is a list of `(path, error message)`; every file ends
    in exactly one of the two.
    """
    paths = list(paths)
    processes = processes or min(2, os.cpu_count() or 1, max(1, len(paths)))
    if processes > 1 and len(paths) > 4:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(processes, mp_context=ctx) as pool:
            results = list(pool.map(parse_file, paths, chunksize=8))
    else:
        results = [parse_file(p) for p in paths]
    rolls, failures = {}, []
    for path, r, err in results:
        if err is None:
            name = piece_name(path)
            if name in rolls:  # same stem twice (e.g. a.mid and a.xml): keep both
                name = os.path.basename(path)
            rolls[name] = r
        else:
            failures.append((path, err))
    return rolls, failures


def two_row_samples(rolls, rows):
    """Stacks one piece's rolls into `[N, 2, 88]` uint8 samples for `rows`."""
    if rows == "frames":
        full = rolls["full"]
        if len(full) < 2:
            return np.zeros((0, 2, N_KEYS), np.uint8)
        return np.stack([full[:-1], full[1:]], axis=1)
    if rows == "staves":
        return np.stack([rolls["upper"], rolls["lower"]], axis=1)
    raise ValueError(f"unknown rows {rows!r}; choose one of: {', '.join(ROWS)}")


def folder_score_paths(folder):
    """Score files (MIDI / MusicXML) under `folder`, recursively, sorted."""
    paths = []
    for suffix in SCORE_SUFFIXES:
        paths += glob.glob(os.path.join(folder, "**", "*" + suffix), recursive=True)
        paths += glob.glob(os.path.join(folder, "**", "*" + suffix.upper()), recursive=True)
    return sorted(set(paths))


def save_rolls(path, rolls):
    """Caches parsed rolls in one .npz file."""
    arrays = {}
    for name, r in rolls.items():
        for key in ("full", "upper", "lower"):
            arrays[f"{name}::{key}"] = r[key]
        arrays[f"{name}::out_of_range"] = np.array(r["out_of_range"])
    tmp = path + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def load_rolls(path):
    """Reads rolls written by `save_rolls`."""
    rolls = {}
    with np.load(path) as data:
        for key in data.files:
            name, field = key.rsplit("::", 1)
            value = data[key]
            rolls.setdefault(name, {})[field] = int(value) if field == "out_of_range" else value
    return rolls
