"""Smoke test of beta-vae-disentanglement with a tiny budget."""
import json
import os

import pytest

from reproductions import beta_vae_disentanglement as bvae


@pytest.mark.slow
def test_beta_vae_tiny_run(tmp_path):
    hp = bvae.HParams(betas=(1.0, 4.0), n_seeds=2, latent_dim=4, hidden=16, epochs=1, n_positions=4,
                      out=str(tmp_path / "run"))
    metrics = bvae.run(hp)
    assert set(metrics["mean_mig"]) == {"beta_1", "beta_4"}
    assert all(len(v) == 2 and all(0 <= m <= 1 for m in v) for v in metrics["mig"].values())
    assert metrics["n_images"] == 3 * 4 * 4 * 4
    assert isinstance(metrics["claim_c7_holds"], bool)
    assert set(metrics["mig_per_factor"]["beta_1"]) == {"shape", "scale", "x", "y"}
    for name in ("metrics.json", "mig.png", "traversals_beta1.png", "traversals_beta4.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["seeds"] == [0, 1]
