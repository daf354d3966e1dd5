"""Smoke tests of the group-meeting-autoencoder reproduction on a few real chorales."""
import json
import os

import keras
import numpy as np
import pytest

from keras_gen.data import piano_roll
from reproductions import group_meeting_autoencoder as gma


@pytest.fixture(autouse=True)
def xla_on(monkeypatch):
    """The main job runs here as users run it: with XLA (tests/conftest.py turns it off elsewhere)."""
    monkeypatch.setenv("KERAS_GEN_XLA", "on")


@pytest.fixture(scope="module")
def chorale_rolls(tmp_path_factory):
    """Two-row rolls of the first 6 bundled chorales, as a user's .npy file."""
    rolls = []
    for path in piano_roll.bach_chorale_paths()[:6]:
        _, parsed, error = piano_roll.parse_file(path)
        assert error is None, error
        rolls.append(piano_roll.two_row_samples(parsed, "frames"))
    x = np.concatenate(rolls)[..., None].astype(np.float32)
    path = tmp_path_factory.mktemp("rolls") / "rolls.npy"
    np.save(path, x)
    return str(path), x


def test_baselines_and_scores_against_hand_computed_values():
    train = np.array([[1, 0], [1, 1], [0, 0], [1, 0]], np.float32)
    test = np.array([[1, 1], [0, 0]], np.float32)
    b = gma.baselines(train, test)
    # per-key mean = [0.75, 0.25]; errors: (0.25^2 + 0.75^2 + 0.75^2 + 0.25^2) / 4
    assert b["baseline_per_key_mean_mse"] == pytest.approx((0.0625 + 0.5625 + 0.5625 + 0.0625) / 4)
    assert b["baseline_all_zeros_mse"] == pytest.approx(0.5)
    s = gma.note_scores(np.array([[0.9, 0.2], [0.7, 0.1]]), test)
    assert (s["precision"], s["recall"]) == (0.5, 0.5) and s["f1"] == pytest.approx(0.5)


def test_run_writes_metrics_claim_figures_and_export(chorale_rolls, tmp_path):
    path, x = chorale_rolls
    hp = gma.HParams(epochs=4, seeds="0", batch_size=16, learning_rate=1e-2, data=path, out=str(tmp_path / "run"),
                     export_dir=str(tmp_path / "saved_models"))
    m = gma.run(hp)
    for key in ("mse", "note_precision", "recall", "f1", "baseline_all_zeros_mse", "baseline_per_key_mean_mse",
                "mse_over_per_key_mean", "seeds", "seconds", "versions", "per_seed", "claims"):
        assert key in m, key
    assert m["params"] == 23_616 and m["n_test"] == len(x) // 10
    assert m["precision"] == "float32" and m["strategy"] == {"name": "default", "replicas": 1} and m["xla"] is True
    claim = m["claims"][0]
    assert claim["id"] == "C1" and claim["op"] == "<=" and claim["target"] == 0.6 and claim["seeds"] == [0]
    assert claim["baselines"]["per_key_mean"] == 1.0  # the trivial predictor fails the check
    assert claim["met"] == (claim["value"] <= 0.6) and claim["value"] == pytest.approx(m["mse_over_per_key_mean"])
    # 4 epochs on 630 rolls of 6 chorales already beat predicting each key's frequency.
    assert m["mse"] < m["baseline_per_key_mean_mse"]
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["mse"] == pytest.approx(m["mse"]) and on_disk["hparams"]["epochs"] == 4
    for fig in ("reconstructions.png", "codes.png", "weights.png"):
        assert (tmp_path / "run" / fig).stat().st_size > 10_000
    assert os.path.isfile(os.path.join(m["saved_model"], "saved_model.pb"))
    assert m["saved_model"].endswith(os.path.join("group_meeting_autoencoder", "1"))
    assert os.listdir(tmp_path / "run" / "logs" / "seed_0")  # TensorBoard logs

    # `keras-gen export --from` exports the same model as the next version.
    second = gma.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert second.endswith(os.path.join("group_meeting_autoencoder", "2"))

    # A rerun with the same settings reuses the finished seed (same numbers) ...
    again = gma.run(gma.HParams(**{**vars(hp), "export": False}))
    assert again["mse"] == m["mse"]
    # ... and one with other settings retrains instead of reusing stale weights.
    changed = gma.run(gma.HParams(**{**vars(hp), "epochs": 1, "export": False}))
    assert changed["mse"] != m["mse"]
    assert (tmp_path / "run" / "seed_0.old").is_dir()


class _InterruptInSecondEpoch(keras.callbacks.Callback):
    epochs_begun = []
    interrupt = True

    def on_epoch_begin(self, epoch, logs=None):
        type(self).epochs_begun.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        if self.interrupt and type(self).epochs_begun[-1] == 1 and batch == 2:
            raise KeyboardInterrupt


def test_killed_run_resumes_exactly(chorale_rolls, tmp_path, monkeypatch):
    from reproductions import common

    path, _ = chorale_rolls
    hp = gma.HParams(epochs=3, seeds="0", batch_size=64, data=path, out=str(tmp_path / "run"), export=False)
    train, _, _, _ = gma.load_data(hp)
    # The uninterrupted run first (its own folder).
    reference = gma.train_one(common.Run(gma.NAME, gma.HParams(**{**vars(hp), "out": str(tmp_path / "ref")})), 0,
                              train)
    # Stand in for a kill: a callback (in place of TerminateOnNaN) interrupts in epoch 2.
    monkeypatch.setattr(keras.callbacks, "TerminateOnNaN", _InterruptInSecondEpoch)
    with pytest.raises(KeyboardInterrupt):
        gma.train_one(common.Run(gma.NAME, hp), 0, train)
    _InterruptInSecondEpoch.interrupt = False
    _InterruptInSecondEpoch.epochs_begun = []
    model = gma.train_one(common.Run(gma.NAME, hp), 0, train)
    assert _InterruptInSecondEpoch.epochs_begun == [1, 2]  # resumed, not restarted
    steps = len(train) // hp.batch_size
    assert int(model.optimizer.iterations.numpy()) == 3 * steps
    # The same batches in the same order as the uninterrupted run: the same weights.
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_midi_folder_with_a_broken_file_is_reported(tmp_path, capsys):
    import music21

    folder = tmp_path / "midi"
    folder.mkdir()
    for path in piano_roll.bach_chorale_paths()[:3]:
        score = music21.converter.parse(path)
        score.write("midi", fp=str(folder / (os.path.basename(path).split(".")[0] + ".mid")))
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06 this is not a midi file")
    from keras_gen import cli

    code = cli.main(["reproduce", "group-meeting-autoencoder", "--midi-dir", str(folder), "--epochs", "1",
                     "--seeds", "0", "--no-export", "--out", str(tmp_path / "run")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "3 files parsed, 1 failed" in printed and "broken.mid" in printed
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert record["data"]["files_failed"] == 1
    assert record["data"]["failed_files"][0]["file"].endswith("broken.mid")
    assert record["n_train"] > 0 and record["n_test"] > 0
