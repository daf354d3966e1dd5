"""Smoke test of wgan-piano-roll with a tiny budget, and its statistics against hand-computed values."""
import json
import os

import numpy as np
import pytest

from reproductions import wgan_piano_roll as repro


def test_statistics_by_hand():
    roll = np.zeros((2, 2, 88, 1), np.float32)
    roll[0, 0, [39, 43, 46], 0] = 1  # a C major triad in one frame
    roll[1, 1, 39, 0] = 1
    p = repro.pitch_histogram(roll)
    assert p[39] == pytest.approx(0.5) and p[43] == pytest.approx(0.25) and p.sum() == pytest.approx(1)
    npf = repro.notes_per_frame_histogram(roll)  # 4 frames: 3, 0, 0, 1 notes
    assert npf[0] == pytest.approx(0.5) and npf[1] == pytest.approx(0.25) and npf[3] == pytest.approx(0.25)
    assert repro.total_variation([0.5, 0.5, 0], [0, 0.5, 0.5]) == pytest.approx(0.5)
    r = repro.random_rolls(4000, 0.05, seed=0)
    assert abs(r.mean() - 0.05) < 0.005
    # A uniform-pitch random roll is far from a roll that only uses middle C.
    assert repro.total_variation(repro.pitch_histogram(r), np.eye(88)[39]) > 0.9


@pytest.mark.slow
def test_wgan_piano_roll_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = repro.HParams(generator_iterations=20, n_critic=2, epochs=2, n_samples=200, out=str(tmp_path / "run"))
    m = repro.run(hp)
    assert m["generator_iterations"] == 20 and m["critic_iterations"] == 40
    for key in ("pitch_histogram_tv", "random_roll_pitch_histogram_tv", "notes_per_frame_tv"):
        assert 0 <= m[key] <= 1
    assert m["closer_than_random"] == (m["pitch_histogram_tv"] < m["random_roll_pitch_histogram_tv"])
    assert 0.005 < m["real_density"] < 0.2 and len(m["w_estimate_per_epoch"]) == 2
    for name in ("metrics.json", "samples.png", "histograms.png", "training.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["hparams"]["generator_iterations"] == 20
