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

from keras_gen.data import musicxml

LOWEST_MIDI = 21
N_KEYS = 88
FRAME_QUARTERS = 0.5  # an eighth note, in quarter lengths
ROWS = ("frames", "staves")
SCORE_SUFFIXES = (".mxl", ".xml", ".musicxml", ".mid", ".midi")
TEST_PERCENT = 10
VALIDATION_PERCENT = 10
SPLITS = ("train", "validation", "test")
_MUSICXML_SUFFIXES = (".mxl", ".xml", ".musicxml")
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


def piece_split(name):
    """`validation`, `test` or `train` for a piece, by a hash of its name (never changes).

    About `VALIDATION_PERCENT`% of pieces are validation, the next `TEST_PERCENT`% test,
    the rest train. The validation pieces are those version 1 of `bach_piano_roll` held
    out as its test split (which earlier choices looked at); the test pieces were
    training pieces then.
    """
    bucket = zlib.crc32(name.encode("utf-8")) % 100
    if bucket < VALIDATION_PERCENT:
        return "validation"
    return "test" if bucket < VALIDATION_PERCENT + TEST_PERCENT else "train"


def is_test_piece(name):
    """Whether a piece is in the test split (see `piece_split`)."""
    return piece_split(name) == "test"


def is_held_out_piece(name):
    """The one held-out tenth of a user's folder (`piano_roll_arrays_from_folder`): by hash, as ever."""
    return zlib.crc32(name.encode("utf-8")) % 100 < VALIDATION_PERCENT


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


def parts_rolls(parts):
    """Rolls from `[(name, id, events), ...]`, one entry per part.

    Returns a dict with `full` (all selected parts, [T, 88]), `upper` and `lower`
    (soprano+alto and tenor+bass, [T, 88]) and `out_of_range` (notes outside the
    88 keys, counted, not silently dropped). Parts named soprano/alto/tenor/bass are
    used when all four exist (Bach chorales sometimes add instrument parts); otherwise
    all parts with notes, split into upper and lower halves by mean pitch.
    """
    by_voice = {}
    for i, (name, pid, _) in enumerate(parts):
        label = f"{name or ''} {pid or ''}".lower()
        for voice in _VOICES:
            if voice in label and voice not in by_voice:
                by_voice[voice] = i
    if len(by_voice) == 4:
        chosen = [parts[by_voice[v]][2] for v in _VOICES]
    else:
        chosen = [ev for _, _, ev in parts if ev]
        chosen.sort(key=lambda ev: -np.mean([m for _, _, m in ev]))
    half = (len(chosen) + 1) // 2
    upper, lower = chosen[:half], chosen[half:]
    all_events = [e for ev in chosen for e in ev]
    if not all_events:
        raise ValueError("no notes found")
    end = max(e for _, e, _ in all_events)
    n_frames = int(np.ceil(end / FRAME_QUARTERS - 1e-6))
    full, dropped = _roll(all_events, n_frames)
    up, _ = _roll([e for ev in upper for e in ev], n_frames)
    low, _ = _roll([e for ev in lower for e in ev], n_frames)
    return {"full": full, "upper": up, "lower": low, "out_of_range": dropped}


def music21_parts(path):
    """`[(name, id, events), ...]` of a score parsed by music21 (MIDI, anything)."""
    from music21 import converter

    score = converter.parse(path)
    parts = list(score.parts) or [score]
    return [(p.partName or "", str(p.id or ""), _note_events(p)) for p in parts]


def parse_file(path):
    """Parses one score file. Returns `(path, rolls_or_None, error_or_None)`."""
    try:
        if str(path).lower().endswith(_MUSICXML_SUFFIXES):
            try:
                parts = musicxml.read_parts(path)
            except musicxml.MusicXMLError:
                parts = music21_parts(path)  # something the fast reader does not handle
        else:
            parts = music21_parts(path)
        return path, parts_rolls(parts), None
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
    # MusicXML takes ~10 ms a file with the fast reader: a process pool (whose workers
    # import keras_gen and TensorFlow, ~5 s) only pays off for many music21 (MIDI) files.
    slow = sum(not str(p).lower().endswith(_MUSICXML_SUFFIXES) for p in paths)
    if processes > 1 and slow > 16:
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
