"""Smoke test of gan-tricks-ablation with a tiny budget; the summary statistics."""
import dataclasses
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import gan_tricks_ablation as ablation


def test_summary_and_paired_claims():
    runs = {"baseline": {0: {"inception_score": 5.0, "fid": 40.0, "kid": 1, "min_class_share": 0.05, "nn_ratio": 1},
                         1: {"inception_score": 6.0, "fid": 30.0, "kid": 1, "min_class_share": 0.07, "nn_ratio": 1}},
            "spectral_norm": {0: {"inception_score": 9.0, "fid": 31.0, "kid": 1, "min_class_share": 0.09, "nn_ratio": 1},
                              1: {"inception_score": 9.2, "fid": 39.0, "kid": 1, "min_class_share": 0.08, "nn_ratio": 1}}}
    s = ablation.summarize(runs, ["baseline", "spectral_norm"])
    assert s["baseline"]["inception_score"]["value"] == pytest.approx(5.5)
    assert s["baseline"]["inception_score"]["sd"] == pytest.approx(np.std([5.0, 6.0], ddof=1))
    assert s["spectral_norm"]["inception_score_minus_baseline"]["value"] == pytest.approx(3.6)
    # paired by seed: FID differences -9 and +9, mean 0: not an improvement
    (claim,) = ablation.claims(runs, ["baseline", "spectral_norm"])
    assert claim["per_seed"] == {"0": -9.0, "1": 9.0} and claim["value"] == 0.0 and claim["met"] is False
    runs["spectral_norm"][1]["fid"] = 29.0
    assert ablation.claims(runs, ["baseline", "spectral_norm"])[0]["met"] is True
    assert ablation.claims({"spectral_norm": runs["spectral_norm"]}, ["spectral_norm"]) == []


def test_settings_seeds_and_rates_are_checked(tmp_path):
    from reproductions.common import validate

    with pytest.raises(KerasGenError, match="unknown setting 'dropout'"):
        validate(ablation.HParams(settings="baseline,dropout", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--seeds must be comma-separated integers"):
        ablation.run(ablation.HParams(seeds="0,x", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--learning-rates must be positive"):
        ablation.run(ablation.HParams(learning_rates="1e-4,-1", out=str(tmp_path)))


def test_each_setting_changes_only_its_option():
    import keras

    from keras_gen.layers import SpectralNorm

    hp = ablation.HParams(g_width=4, d_width=4, latent_dim=8)
    base = ablation.build("baseline", hp, 0)
    smooth = ablation.build("label_smoothing", hp, 0)
    fm = ablation.build("feature_matching", hp, 0)
    sn = ablation.build("spectral_norm", hp, 0)
    assert base.label_smoothing == 0 and smooth.label_smoothing == pytest.approx(0.1)
    assert fm.generator_loss_name == "feature_matching" and fm.feature_layer == "down1_lrelu"
    wrapped = [layer for layer in sn.discriminator.layers if isinstance(layer, SpectralNorm)]
    assert len(wrapped) == 3 and not any(isinstance(layer, SpectralNorm) for layer in base.discriminator.layers)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in sn.discriminator.layers)


@pytest.mark.slow
def test_tiny_run(tmp_path, capsys):
    hp = ablation.HParams(seeds="1", settings="baseline,spectral_norm", learning_rates="2e-4,1e-3", epochs=1,
                          g_width=4, d_width=4, latent_dim=8, n_samples=100, n_train=256, out=str(tmp_path / "run"))
    m = ablation.run(hp)
    assert set(m["runs"]) == {"baseline", "spectral_norm"} and set(m["sweep"]["baseline"]) == {"0.0002", "0.001"}
    for s in ("baseline", "spectral_norm"):
        # the chosen rate is the sweep's best validation FID
        best = min(m["sweep"][s], key=lambda rate: m["sweep"][s][rate]["fid"])
        assert m["chosen_learning_rate"][s] == pytest.approx(float(best))
        assert set(m["runs"][s]) == {"1"}
        for r in m["runs"][s].values():
            assert 1.0 <= r["inception_score"] <= 10.0 and r["fid"] > m["reference"]["fid_floor"] >= 0
        assert os.path.exists(tmp_path / "run" / f"samples_{s}.png")
    (claim,) = m["claims"]
    assert claim["metric"] == "fid_spectral_norm_minus_baseline" and claim["seeds"] == [1]
    assert claim["met"] == (claim["value"] < 0)
    assert os.path.exists(tmp_path / "run" / "ablation.png") and os.path.exists(tmp_path / "run" / "metrics.json")
    # A run of one of the settings with the same --out trains nothing: its 2 sweep runs and
    # its report run are the parts of the run above (a part's recipe has no list of settings).
    capsys.readouterr()
    alone = ablation.run(dataclasses.replace(hp, settings="spectral_norm"))
    assert capsys.readouterr().out.count("finished in an earlier run") == 3
    assert alone["runs"]["spectral_norm"] == m["runs"]["spectral_norm"] and alone["claims"] == []
    assert alone["chosen_learning_rate"] == {"spectral_norm": m["chosen_learning_rate"]["spectral_norm"]}
