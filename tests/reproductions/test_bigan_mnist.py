"""Smoke test of bigan-mnist with a tiny budget."""
import os

import pytest

from reproductions import bigan_mnist


@pytest.mark.slow
def test_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = bigan_mnist.HParams(epochs=1, g_width=4, e_width=4, d_width=4, d_joint_units=8, latent_dim=8, n_train=320,
                             projection_seeds=2, out=str(tmp_path / "run"), export_dir=str(tmp_path / "saved_models"))
    m = bigan_mnist.run(hp)
    assert m["probe_dimension"] == 8 and len(m["probe_accuracy_random_projection_each"]) == 2
    for key in ("probe_accuracy_encoder", "probe_accuracy_random_projection", "probe_accuracy_pixels",
                "probe_accuracy_untrained_encoder"):
        assert 0.1 <= m[key] <= 1.0, key
    # 784 pixels read the class far better than 8 random directions, even on 320 digits
    assert m["probe_accuracy_pixels"] > m["probe_accuracy_random_projection"]
    assert m["encoder_beats_random_projection"] == (
        m["probe_accuracy_encoder"] > max(m["probe_accuracy_random_projection_each"]))
    for name in ("metrics.json", "bigan.keras", "reconstructions.png", "samples.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    assert bigan_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models")).endswith("2")
