"""Piano-roll data offline: the bach_piano_roll builder on a few chorales, the fast
MusicXML reader against music21, and a user's folder with a corrupt file."""
import os
import shutil

import numpy as np
import pytest

import keras_gen.data as kd
from keras_gen.data import musicxml, piano_roll
from keras_gen.data.bach_piano_roll import BachPianoRoll

N_PIECES = 10  # the first 10 chorales hold one test and one validation piece


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("bach_data"))
    out = {}
    for config in ("frames", "staves"):
        b = BachPianoRoll(config=config, max_pieces=N_PIECES, data_dir=root)
        b.download_and_prepare()
        out[config] = {split: list(b.as_dataset(split=split).as_numpy_iterator()) for split in piano_roll.SPLITS}
    return out


@pytest.fixture(scope="module")
def parsed():
    paths = piano_roll.bach_chorale_paths()[:N_PIECES]
    rolls, failures = piano_roll.parse_files(paths, processes=1)
    assert failures == []
    return rolls


def _by_piece(examples):
    pieces = {}
    for ex in sorted(examples, key=lambda e: (e["piece"], e["frame"])):
        pieces.setdefault(ex["piece"].decode(), []).append(ex["roll"])
    return {k: np.stack(v) for k, v in pieces.items()}


@pytest.mark.parametrize("config", ["frames", "staves"])
def test_builder_shapes_binary_and_split(built, parsed, config):
    splits = built[config]
    for split in piano_roll.SPLITS:
        assert splits[split], f"{config}/{split} is empty"
        for ex in splits[split]:
            assert ex["roll"].shape == (2, 88, 1) and ex["roll"].dtype == np.uint8
            assert set(np.unique(ex["roll"])) <= {0, 1}
    # The split is by piece, decided by the piece name alone (deterministic).
    by_split = {split: _by_piece(splits[split]) for split in piano_roll.SPLITS}
    train, val, test = (by_split[s] for s in piano_roll.SPLITS)
    assert set(train) | set(val) | set(test) == set(parsed)
    assert not set(train) & set(test) and not set(train) & set(val) and not set(val) & set(test)
    for split, pieces in by_split.items():
        assert all(piano_roll.piece_split(n) == split for n in pieces)
    assert all(piano_roll.is_test_piece(n) for n in test)
    assert not any(piano_roll.is_test_piece(n) for n in {**train, **val})
    # Every sample is what the rolls of its piece say.
    for name, samples in {**train, **val, **test}.items():
        full = parsed[name]["full"]
        if config == "frames":
            assert len(samples) == len(full) - 1
            np.testing.assert_array_equal(samples[:, 0, :, 0], full[:-1])
            np.testing.assert_array_equal(samples[:, 1, :, 0], full[1:])
        else:
            assert len(samples) == len(full)
            # Upper and lower staves together sound exactly the full texture.
            np.testing.assert_array_equal(np.maximum(samples[:, 0, :, 0], samples[:, 1, :, 0]), full)
        assert samples.sum() > 0


def test_builder_is_deterministic(built, tmp_path):
    b = BachPianoRoll(config="frames", max_pieces=N_PIECES, data_dir=str(tmp_path))
    b.download_and_prepare()
    again = _by_piece(list(b.as_dataset(split="test").as_numpy_iterator()))
    first = _by_piece(built["frames"]["test"])
    assert again.keys() == first.keys()
    for k in first:
        np.testing.assert_array_equal(again[k], first[k])


@pytest.mark.parametrize("index", [0, 1, 100])
def test_fast_reader_matches_music21(index):
    path = piano_roll.bach_chorale_paths()[index]
    fast = musicxml.read_parts(path)
    slow = piano_roll.music21_parts(path)
    assert [p[0] for p in fast] == [p[0] for p in slow]
    for (_, _, ev_fast), (_, _, ev_slow) in zip(fast, slow):
        assert len(ev_fast) > 0
        assert sorted(ev_fast) == sorted(ev_slow)
    a, b = piano_roll.parts_rolls(fast), piano_roll.parts_rolls(slow)
    for key in ("full", "upper", "lower"):
        np.testing.assert_array_equal(a[key], b[key])


def test_folder_with_a_corrupt_file(tmp_path):
    paths = {piano_roll.piece_name(p): p for p in piano_roll.bach_chorale_paths()}
    # One held-out piece and one training piece, so the split is by piece.
    chosen = ["bwv1.6", "bwv10.7"]
    assert piano_roll.is_held_out_piece("bwv1.6") and not piano_roll.is_held_out_piece("bwv10.7")
    for name in chosen:
        shutil.copy(paths[name], tmp_path / os.path.basename(paths[name]))
    (tmp_path / "broken.xml").write_text("<score-partwise><part id='P1'><measure>", encoding="utf-8")
    train, test, report = kd.piano_roll_arrays_from_folder(str(tmp_path), rows="frames")
    info = report.as_dict()
    assert info["files_parsed"] == 2 and info["files_failed"] == 1
    assert os.path.basename(info["failed_files"][0]["file"]) == "broken.xml"
    assert info["failed_files"][0]["error"]
    assert "broken.xml" in report.summary() and "1 failed" in report.summary()
    rolls, _ = piano_roll.parse_files([paths[n] for n in chosen], processes=1)
    assert train.shape == (len(rolls["bwv10.7"]["full"]) - 1, 2, 88, 1)
    assert test.shape == (len(rolls["bwv1.6"]["full"]) - 1, 2, 88, 1)
    assert train.dtype == np.float32 and set(np.unique(train)) == {0.0, 1.0}


def test_folder_errors(tmp_path):
    with pytest.raises(kd.loader.MissingFileError):
        kd.piano_roll_arrays_from_folder(str(tmp_path / "nope"))
    with pytest.raises(kd.loader.MissingFileError, match="no MIDI or MusicXML"):
        kd.piano_roll_arrays_from_folder(str(tmp_path))
    (tmp_path / "only.xml").write_text("not xml at all", encoding="utf-8")
    with pytest.raises(kd.loader.KerasGenError, match="none of the 1 files"):
        kd.piano_roll_arrays_from_folder(str(tmp_path))
