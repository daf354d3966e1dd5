"""Smoke test of the disjoint-supports reproduction (C4) with a tiny budget."""
import os

import numpy as np
import pytest

from reproductions import disjoint_supports as ds


def test_exact_part():
    hp = ds.HParams(ot_samples=200)
    thetas = np.array([-0.5, 0.0, 0.05, 0.3])
    rows = ds.exact_part(hp, thetas, np.random.default_rng(0))
    assert rows["js"] == [pytest.approx(np.log(2)), 0.0, pytest.approx(np.log(2)), pytest.approx(np.log(2))]
    assert rows["kl"][1] == 0.0 and all(np.isinf(rows["kl"][i]) for i in (0, 2, 3))
    # x-marginal W1 is exactly |theta|; the 2-D optimal transport is >= it and close to it.
    assert rows["w1_x_marginals"] == [pytest.approx(abs(t), abs=1e-12) for t in thetas]
    for t, w in zip(thetas, rows["w1_optimal_transport"]):
        assert abs(t) - 1e-12 <= w <= abs(t) + 0.06


def test_run_tiny(tmp_path):
    hp = ds.HParams(n_thetas=5, hidden=16, batch_size=64, critic_steps=150, discriminator_steps=300, d_learning_rate=5e-3,
                    gp_learning_rate=3e-3, eval_samples=512, ot_samples=100, out=str(tmp_path / "run"))
    m = ds.run(hp)
    assert m["js_is_log2_for_theta_nonzero"] and m["kl_is_inf_for_theta_nonzero"]
    assert m["w1"] == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0])
    # Even briefly trained, the WGAN-GP critic's estimate follows |theta| ...
    assert m["wgan_gp_correlation"] > 0.9
    # ... and gives the generator a far larger gradient than the saturating vanilla D.
    assert m["wgan_generator_grad_norm"] > 10 * m["vanilla_generator_grad_norm"]
    assert m["vanilla_js_estimate_min_for_theta_nonzero"] > 0.6
    for name in ("metrics.json", "disjoint_supports.png"):
        assert os.path.getsize(tmp_path / "run" / name) > 0
