"""disjoint-supports (C4): the exact part, claims that can fail, a tiny run with resume."""
import json
import os

import numpy as np
import pytest

from reproductions import disjoint_supports as ds
from tests.reproductions.claim_checks import check_claims


def test_exact_part():
    hp = ds.HParams(ot_samples=200)
    thetas = np.array([-0.5, 0.0, 0.05, 0.3])
    rows = ds.divergences(hp, thetas)
    assert rows["js"] == [pytest.approx(np.log(2)), 0.0, pytest.approx(np.log(2)), pytest.approx(np.log(2))]
    assert rows["kl"][1] == 0.0 and all(np.isinf(rows["kl"][i]) for i in (0, 2, 3))
    w1 = ds.sample_w1(hp, thetas, np.random.default_rng(0))
    # x-marginal W1 is exactly |theta|; the 2-D optimal transport is >= it and close to it.
    assert w1["w1_x_marginals"] == [pytest.approx(abs(t), abs=1e-12) for t in thetas]
    for t, w in zip(thetas, w1["w1_optimal_transport"]):
        assert abs(t) - 1e-12 <= w <= abs(t) + 0.06


def _fake_seed(thetas, estimate, js_estimate, grad_vanilla, grad_wgan=1.0):
    n = len(thetas)
    out = {"w1_optimal_transport": np.abs(thetas) + 0.01, "w1_x_marginals": np.abs(thetas),
           "wgan_gp_critic_estimate": estimate, "wgan_clip_critic_estimate": 0.01 * np.abs(thetas),
           "wgan_generator_grad_per_theta": np.full(n, grad_wgan), "vanilla_js_estimate": js_estimate,
           "vanilla_generator_grad_per_theta": np.full(n, grad_vanilla),
           "non_saturating_generator_grad_per_theta": np.full(n, 0.5)}
    return ds.score(out, thetas)


def test_claims_fail_when_the_critic_learnt_nothing_or_d_does_not_saturate():
    hp = ds.HParams(n_thetas=5)
    thetas = np.linspace(-1, 1, 5)
    div = ds.divergences(hp, thetas)
    good = _fake_seed(thetas, np.abs(thetas) + 0.02, np.where(thetas == 0, 0.0, 0.69), 1e-4)
    claims = ds.claims_for(div, {0: good, 1: good}, thetas, 1.0)
    check_claims({"claims": claims})
    assert [c["met"] for c in claims] == [True] * 5
    # A critic that learnt nothing (estimate 0), a D that did not saturate (JS estimate 0) and so still
    # gives the generator a gradient as large as the critic's.
    lazy = _fake_seed(thetas, np.zeros(5), np.zeros(5), 1.0)
    assert [c["met"] for c in ds.claims_for(div, {0: good, 1: lazy}, thetas, 1.0)] == [True, True, False, False, False]
    # Overlapping supports: cells wider than the smallest theta put P_0 and P_0.05 in one column, JS 0.
    few = np.array([0.0, 0.05, 0.5])
    wide = ds.divergences(ds.HParams(cell=0.2), few)
    assert wide["js"][1] == 0.0
    good_few = _fake_seed(few, np.abs(few), np.where(few == 0, 0.0, 0.69), 1e-4)
    assert not ds.claims_for(wide, {0: good_few}, few, 0.5)[0]["met"]


@pytest.mark.slow
def test_run_tiny(tmp_path, capsys):
    out = tmp_path / "run"
    hp = ds.HParams(n_thetas=5, hidden=16, batch_size=64, critic_steps=150, discriminator_steps=300,
                    d_learning_rate=5e-3, gp_learning_rate=3e-3, eval_samples=512, ot_samples=100, seeds="3",
                    out=str(out))
    m = ds.run(hp)
    check_claims(m)
    assert [c["metric"] for c in m["claims"]] == [
        "js_max_abs_gap_to_log2", "w1_optimal_transport_max_abs_error", "wgan_gp_abs_error_max",
        "vanilla_js_estimate_min_over_log2", "grad_ratio_vanilla_to_wgan_gp"]
    assert m["js_is_log2_for_theta_nonzero"] and m["kl_is_inf_for_theta_nonzero"] and m["claims"][0]["met"]
    assert m["w1"] == pytest.approx([1.0, 0.5, 0.0, 0.5, 1.0])
    # Even briefly trained (150 steps), the WGAN-GP critic's estimate follows |theta| (0.80 measured) ...
    assert m["wgan_gp_correlation"]["3"] > 0.6
    # ... and gives the generator a far larger gradient than the saturating vanilla D.
    assert m["grad_ratio_vanilla_to_wgan_gp"]["3"] < 0.1
    assert 5_000 < os.path.getsize(out / "disjoint_supports.png") < 150_000
    assert json.loads((out / "metrics.json").read_text())["claims"] == m["claims"]
    capsys.readouterr()
    assert ds.run(hp)["claims"] == m["claims"]
    assert "seed_3: finished in an earlier run" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.extended
def test_two_workers_through_the_launcher_train_one_bank_like_one_process(tmp_path):
    """`keras-gen launch --workers 2`: the optimizers live in the strategy, the dummy step data
    splits, and each worker trains on its half of the global batch's samples (drawn for the
    whole batch, then split), so the banks train as in one process. Not bit for bit: one
    process averages 64 columns, two average 32 each and add the halves, so the losses
    differ in float32 rounding (~1e-7 relative) each step; after 10 steps of each bank the
    curves were measured to agree to 1.5e-8 absolute (5e-6 relative on the clipped critic's
    ~1e-6 estimates): the tolerances leave 10x room."""
    from tests.distributed.launched import launch_two_workers

    tiny = dict(n_thetas=5, hidden=16, batch_size=64, critic_steps=10, discriminator_steps=10, eval_samples=256,
                ot_samples=50, seeds="3")
    single = ds.run(ds.HParams(out=str(tmp_path / "single"), **tiny))
    args = [a for k, v in tiny.items() for a in (f"--{k.replace('_', '-')}", str(v))]
    m = launch_two_workers(ds.NAME, args, tmp_path / "launched")
    one, two = single["per_seed"]["3"], m["per_seed"]["3"]
    assert two["w1_optimal_transport"] == one["w1_optimal_transport"]  # NumPy, no strategy
    for key in ("wgan_gp_critic_estimate", "wgan_generator_grad_per_theta", "vanilla_js_estimate",
                "vanilla_generator_grad_per_theta", "non_saturating_generator_grad_per_theta"):
        np.testing.assert_allclose(two[key], one[key], rtol=1e-5, atol=2e-7, err_msg=key)
    np.testing.assert_allclose(two["wgan_clip_critic_estimate"], one["wgan_clip_critic_estimate"], rtol=1e-4,
                               atol=1e-10)
    assert [c["met"] for c in m["claims"]] == [c["met"] for c in single["claims"]]
