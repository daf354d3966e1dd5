"""Smoke test of gan-tricks-ablation with a tiny budget; the summary statistics."""
import os

import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from reproductions import gan_tricks_ablation as ablation


def test_summary_means_stds_and_significance():
    runs = {"baseline": {"0": {"inception_score": 5.0, "fid": 40.0, "min_class_share": 0.05},
                         "1": {"inception_score": 6.0, "fid": 30.0, "min_class_share": 0.07}},
            "spectral_norm": {"0": {"inception_score": 9.0, "fid": 31.0, "min_class_share": 0.09},
                              "1": {"inception_score": 9.2, "fid": 39.0, "min_class_share": 0.08}}}
    s = ablation.summarize(runs, ["baseline", "spectral_norm"])
    assert s["baseline"]["inception_score_mean"] == pytest.approx(5.5)
    assert s["baseline"]["inception_score_std"] == pytest.approx(np.std([5.0, 6.0], ddof=1))
    assert s["spectral_norm"]["inception_score_minus_baseline"] == pytest.approx(3.6)
    assert s["spectral_norm"]["inception_score_significant_vs_baseline"] is True  # 3.6 > 0.707 + 0.141
    assert s["spectral_norm"]["fid_significant_vs_baseline"] is False  # 0 difference


def test_settings_and_seeds_are_checked(tmp_path):
    with pytest.raises(KerasGenError, match="unknown setting 'dropout'"):
        ablation.run(ablation.HParams(settings="baseline,dropout", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="--seeds must be comma-separated integers"):
        ablation.run(ablation.HParams(seeds="0,x", out=str(tmp_path)))


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
def test_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = ablation.HParams(seeds="0,1", epochs=1, g_width=4, d_width=4, latent_dim=8, n_samples=100,
                          classifier_epochs=1, n_train=256, out=str(tmp_path / "run"))
    m = ablation.run(hp)
    assert set(m["runs"]) == set(ablation.SETTINGS)
    for s in ablation.SETTINGS:
        assert set(m["runs"][s]) == {"0", "1"}
        for r in m["runs"][s].values():
            assert 1.0 <= r["inception_score"] <= 10.0 and r["fid"] > m["fid_real_floor"] >= 0
        assert m[f"{s}_inception_score_mean"] == pytest.approx(np.mean([r["inception_score"] for r in m["runs"][s].values()]))
        assert os.path.exists(tmp_path / "run" / f"samples_{s}.png")
    assert os.path.exists(tmp_path / "run" / "ablation.png") and os.path.exists(tmp_path / "run" / "metrics.json")
