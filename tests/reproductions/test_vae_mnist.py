"""Smoke test of the vae-mnist reproduction with a tiny budget (real data, 2 epochs)."""
import json
import os

import pytest

from reproductions import vae_mnist


@pytest.mark.slow
def test_vae_mnist_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = vae_mnist.HParams(latent_dim=2, hidden=32, epochs=2, warmup_epochs=1, patience=1, iwae_k=200,
                           n_train=400, n_test=50, out=str(tmp_path / "run"))
    metrics = vae_mnist.run(hp)
    # a nearly untrained 2-d VAE: finite, ordered bounds (IWAE <= ELBO), far from the target
    assert 100 < metrics["test_iwae_nll"] <= metrics["test_negative_elbo"] + 0.5 < 600
    assert metrics["iwae_k"] == 200 and metrics["n_test"] == 50 and metrics["epochs_run"] == 2
    for name in ("metrics.json", "samples.png", "reconstructions.png", "training.png", "latent_manifold.png",
                 "latent_scatter.png", "vae.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["test_iwae_nll"] == pytest.approx(metrics["test_iwae_nll"])
    path = vae_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved"))
    assert os.path.isdir(os.path.join(path, "variables"))
