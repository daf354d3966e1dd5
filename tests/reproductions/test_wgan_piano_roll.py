"""wgan-piano-roll: claims an independent-keys model cannot pass, and a tiny run (claim record, files, resume, export)."""
import json
import os

import numpy as np
import pytest

from keras_gen.metrics import piano_roll as pr
from reproductions import wgan_piano_roll as repro


class MeanPoolEncoder:
    """A stand-in for the S1 encoder: the mean of each row over 8 key blocks."""

    def predict(self, x, batch_size=None, verbose=0):
        x = np.asarray(x)[..., 0]
        return x.reshape(len(x), 2, 8, 11).mean(-1).reshape(len(x), 16)


def triads(n, rng):
    roots = rng.integers(30, 50, size=2 * n)
    frames = np.zeros((2 * n, 88), np.float32)
    frames[np.arange(2 * n)[:, None], roots[:, None] + np.array([0, 4, 7])] = 1
    return frames.reshape(n, 2, 88, 1)


def test_an_independent_keys_model_cannot_pass_and_real_rolls_do():
    rng = np.random.default_rng(0)
    train, held = triads(4000, rng), triads(1000, rng)
    ev = pr.PianoRollEvaluator(held, train, encoder=MeanPoolEncoder())
    draws = [ev.score_baselines(300, 100 + k) for k in range(10)]
    baselines = {name: {m: [d[name][m] for d in draws] for m in pr.MEASURES} for name in repro.BASELINES}
    seeds = (10, 11, 12)
    per_seed = {
        # "wgan": the trivial model itself, fresh draws: learnt nothing beyond the key frequencies
        "wgan": {s: ev.score(pr.independent_keys_rolls(ev.frequencies, 300, seed=s)) for s in seeds},
        # "wgan_gp": a perfect generator (real training rolls)
        "wgan_gp": {s: ev.score_baselines(300, s)["training_frames"] for s in seeds},
    }
    found = repro.claims(per_seed, baselines, ["wgan", "wgan_gp"])
    verdicts = {c["metric"]: c["met"] for c in found}
    assert len(found) == 8 and all(c["id"] == "S5" and c["op"] == "<" and c["every_seed"] for c in found)
    assert not any(verdicts[f"wgan_{m}"] for m in pr.MEASURES)
    for m in repro.SELECTION_MEASURES:
        assert verdicts[f"wgan_gp_{m}"], m
    for c in found:
        measure = c["metric"].replace("wgan_gp_", "").replace("wgan_", "")
        assert c["target"] == pytest.approx(min(baselines["independent_keys"][measure]))
        assert c["met"] == all(v < c["target"] for v in c["per_seed"].values())
        assert set(c["baselines"]) == set(repro.BASELINES)
    # the uniform random roll is far worse than independent keys on every measure
    for m in pr.MEASURES:
        assert np.mean(baselines["uniform_random"][m]) > np.mean(baselines["independent_keys"][m])


@pytest.mark.slow
def test_tiny_run_claims_files_resume_and_export(tmp_path, capsys):
    out, saved = tmp_path / "run", tmp_path / "saved_models"
    hp = repro.HParams(seeds="1", generator_iterations=6, n_critic=2, epochs=2, n_samples=100, baseline_draws=3,
                       n_train=600, out=str(out), export_dir=str(saved))
    m = repro.run(hp)
    for kind in repro.MODELS:
        seed_res = m["per_seed"][kind]["1"]
        assert seed_res["generator_iterations"] == 6 and seed_res["critic_iterations"] == 12
        for measure in ("pitch_histogram_tv", "interval_histogram_tv", "notes_per_frame_tv"):
            assert 0 <= seed_res[measure] <= 1
        assert seed_res["frechet_code_distance"] >= 0
        assert os.path.exists(os.path.join(m["export_paths"][kind], "saved_model.pb"))
    assert len(m["claims"]) == 8 and m["claims_met"].endswith("/8")
    for c in m["claims"]:
        draws = m["baseline_draws"]["independent_keys"][c["metric"].replace("wgan_gp_", "").replace("wgan_", "")]
        assert c["target"] == pytest.approx(draws["best"]) and len(draws["each"]) == 3
        assert c["met"] == all(v < c["target"] for v in [c["value"]]) and c["seeds"] == [1]
    assert set(m["table"]["interval_histogram_tv"]) == {"wgan", "wgan_gp", *repro.BASELINES}
    for name in ("metrics.json", "samples.png", "measures.png", "training.png", "feature_autoencoder/model.keras"):
        assert os.path.exists(out / name), name
    assert len(m["per_seed"]["wgan"]["1"]) > 0 and os.listdir(out / "logs")
    record = json.loads((out / "metrics.json").read_text())
    assert record["hparams"]["generator_iterations"] == 6 and record["eval_split"] == "test"
    capsys.readouterr()

    # Again, now scoring on validation with a threshold sweep (the selection run): every
    # trained part (feature autoencoder, both models) is reused, not retrained.
    val = repro.run(repro.HParams(**{**vars(hp), "eval_split": "validation", "thresholds": "0.3,0.5"}))
    printed = capsys.readouterr().out
    for key in ("feature_autoencoder", *(repro.part_key(hp, kind, 1) for kind in repro.MODELS)):
        assert f"{key}: finished in an earlier run" in printed, key
    for kind in repro.MODELS:
        for k in ("generator_iterations", "final_w_estimate"):
            assert val["per_seed"][kind]["1"][k] == m["per_seed"][kind]["1"][k]
        assert set(val["threshold_sweep"][kind]) == {"0.3", "0.5"}
        # the sweep's 0.5 point is the same samples as the run's own threshold (0.5)
        assert val["threshold_sweep"][kind]["0.5"]["notes_per_frame_tv"]["value"] == pytest.approx(
            val["per_seed"][kind]["1"]["notes_per_frame_tv"])
    assert all("validation split" in c["note"] for c in val["claims"])
    assert "export_paths" not in val and val["eval_split"] == "validation"


def test_export_from_a_run_without_metrics_names_the_command(tmp_path):
    from keras_gen.errors import MissingFileError

    with pytest.raises(MissingFileError, match="keras-gen reproduce wgan-piano-roll"):
        repro.export(str(tmp_path))
