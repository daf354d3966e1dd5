"""Smoke test of aae-mnist with a tiny budget."""
import os

import numpy as np
import pytest

from reproductions import aae_mnist


@pytest.mark.slow
def test_aae_mnist_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = aae_mnist.HParams(hidden=32, epochs=1, n_train=400, out=str(tmp_path / "run"))
    metrics = aae_mnist.run(hp)
    for key in ("aae_code_mmd2", "ae_code_mmd2", "prior_mmd2_noise", "aae_test_reconstruction",
                "ae_test_reconstruction"):
        assert np.isfinite(metrics[key]), key
    assert abs(metrics["prior_mmd2_noise"]) < 0.05  # two samples of the same prior
    assert np.asarray(metrics["aae_code_cov"]).shape == (2, 2)
    for name in ("metrics.json", "aggregate_posterior.png", "samples.png", "latent_manifold.png", "aae.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    path = aae_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved"))
    assert os.path.isdir(path)
