"""Smoke test of gan-vs-wgan-gp-ring with a tiny budget."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError
from reproductions import gan_vs_wgan_gp_ring as repro


@pytest.mark.slow
def test_ring_tiny_run(tmp_path):
    hp = repro.HParams(steps=10, hidden=8, n_critic=2, n_seeds=1, seed=4, eval_samples=400, out=str(tmp_path / "run"))
    m = repro.run(hp)
    for kind in ("gan", "wgan", "wgan_gp"):
        for seed in ("4",):
            assert 0 <= m[f"{kind}_modes_covered"][seed] <= 8
            assert 0 <= m[f"{kind}_high_quality_share"][seed] <= 1
    assert m["wgan_gp_claim"] == all(m["wgan_gp_modes_covered"][s] == 8 and m["wgan_gp_high_quality_share"][s] >= 0.7
                                     for s in ("4",))
    assert os.path.exists(tmp_path / "run" / "scatter.png")
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["seeds"] == [4]


def test_evaluate_on_exact_modes_and_unknown_model(tmp_path):
    from keras_gen.data.toys import toy_distribution

    dist = toy_distribution("toy_ring8")
    hp = repro.HParams()
    perfect = dist.sample(800, seed=0)
    assert repro.evaluate(perfect, hp) == {"modes_covered": 8, "high_quality_share": pytest.approx(0.997, abs=0.01)}
    collapsed = dist.sample(800, seed=0)[:, :] * 0 + dist.centers[3]
    assert repro.evaluate(collapsed, hp)["modes_covered"] == 1
    with pytest.raises(KerasGenError, match="model"):
        repro.run(repro.HParams(models="gan,vae", out=str(tmp_path)))
