"""Smoke test of dcgan-mnist with a tiny budget."""
import json
import os

import numpy as np
import pytest

from reproductions import dcgan_mnist


@pytest.mark.slow
def test_dcgan_mnist_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = dcgan_mnist.HParams(epochs=2, g_width=4, d_width=4, latent_dim=8, n_samples=200, grid_every=1, classifier_epochs=1,
                             out=str(tmp_path / "run"), export_dir=str(tmp_path / "saved_models"))
    m = dcgan_mnist.run(hp)
    assert 1.0 <= m["inception_score"] <= 10.0 and m["real_test_inception_score"] > m["inception_score"] - 10
    assert m["classifier_test_accuracy"] > 0.5
    shares = np.array([m["class_shares"][str(k)] for k in range(10)])
    assert abs(shares.sum() - 1) < 1e-9 and m["min_class_share"] == shares.min()
    # Two epochs of a 4-channel DCGAN are far from real digits; the floor is real vs real.
    assert 0 <= m["fid_real_floor"] < m["fid"]
    assert m["n_generated"] == 200 and m["n_real_test"] == 1000
    assert m["targets_met"] == (m["inception_score"] >= 8.0 and m["min_class_share"] >= 0.05)
    for name in ("metrics.json", "samples.png", "class_shares.png", "samples_epoch0001.png", "samples_epoch0002.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    # `keras-gen export dcgan-mnist --from RUN` writes the next version from the saved model
    again = dcgan_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join("dcgan_mnist", "2")) and os.path.exists(os.path.join(again, "saved_model.pb"))
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["fid"] == pytest.approx(m["fid"]) and saved["hparams"]["epochs"] == 2
