"""gan-vs-wgan-gp-ring (C5/C6): scores, the sweep's choice, claims that can fail, a tiny run with resume."""
import json

import numpy as np
import pytest

from keras_gen.data.toys import toy_arrays, toy_distribution
from keras_gen.errors import KerasGenError
from reproductions import gan_vs_wgan_gp_ring as repro
from tests.reproductions.claim_checks import check_claims

DIST = toy_distribution("toy_ring8")


def test_evaluate_perfect_collapsed_and_modeless_samples():
    hp = repro.HParams()
    test = toy_arrays("toy_ring8", "test")
    perfect = repro.evaluate(toy_arrays("toy_ring8", "validation")[:2500], test, hp)
    assert perfect["modes_covered"] == 8 and perfect["high_quality_share"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)
    collapsed = repro.evaluate(np.repeat(DIST.centers[3:4], 2500, 0), test, hp)
    assert collapsed["modes_covered"] == 1 and collapsed["mmd2"] > 20 * perfect["mmd2"]
    # 15 good samples at each of modes 0-6 and the rest at mode 7: 15 < 16 = 5% of a fair share of 2,500 / 8.
    few = np.concatenate([np.repeat(DIST.centers[:7], 15, 0), np.repeat(DIST.centers[7:], 2500 - 105, 0)])
    assert repro.evaluate(few, test, hp)["modes_covered"] == 1


def test_baselines_and_claims_can_fail():
    hp = repro.HParams(eval_samples=2500)
    base = repro.baselines(hp)
    assert base["real_train_split"]["modes_covered"] == 8 and base["fitted_gaussian"]["modes_covered"] == 0
    # The radius without the modes: about 19 of 2,500 samples per mode are high quality, against 16 needed.
    assert base["uniform_ring"]["modes_covered"] >= 6 and base["uniform_ring"]["high_quality_share"] < 0.15
    assert base["one_mode"]["modes_covered"] == 1
    assert base["real_train_split"]["mmd2"] < 0.1 * min(base[k]["mmd2"] for k in ("fitted_gaussian", "uniform_ring"))

    def scores(modes, hq):
        return {"modes_covered": modes, "high_quality_share": hq, "mmd2": 0.0}

    # WGAN-GP as good as the data, GAN collapsed, WGAN in between: every claim met.
    good = {"gan": {10: scores(3, 0.9), 11: scores(5, 0.9)}, "wgan": {10: scores(6, 0.5), 11: scores(6, 0.5)},
            "wgan_gp": {10: scores(8, 0.95), 11: scores(8, 0.9)}}
    claims = repro.claims_for(good, base)
    check_claims({"claims": claims})
    assert [c["metric"] for c in claims] == ["gan_modes_covered", "wgan_gp_modes_covered", "wgan_gp_high_quality_share",
                                             "wgan_gp_minus_gan_modes_covered", "wgan_minus_gan_modes_covered"]
    assert all(c["met"] for c in claims)
    # A "WGAN-GP" that only knows the radius (like the uniform ring) covers 8 modes but fails the quality
    # claim; a GAN that covers every mode fails "GAN drops modes" and the comparisons.
    ring = base["uniform_ring"]
    bad = {"gan": {10: scores(8, 0.9), 11: scores(8, 0.9)}, "wgan": {10: scores(8, 0.1), 11: scores(7, 0.1)},
           "wgan_gp": {10: scores(8, ring["high_quality_share"]), 11: scores(8, 0.95)}}
    verdicts = {c["metric"]: c["met"] for c in repro.claims_for(bad, base)}
    assert verdicts == {"gan_modes_covered": False, "wgan_gp_modes_covered": True, "wgan_gp_high_quality_share": False,
                        "wgan_gp_minus_gan_modes_covered": False, "wgan_minus_gan_modes_covered": False}


def test_select_takes_the_lowest_mean_validation_mmd():
    sweep = {"gan": {"0.001": {0: {"mmd2": 0.3}, 1: {"mmd2": 0.1}}, "0.01": {0: {"mmd2": 0.25}, 1: {"mmd2": 0.25}}}}
    assert repro.select(sweep, ["gan"], [1e-3, 1e-2]) == {"gan": 1e-3}


def test_options_are_checked(tmp_path):
    with pytest.raises(KerasGenError, match="learning-rates must be positive"):
        repro.run(repro.HParams(learning_rates="1e-3,-1", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="must differ"):
        repro.run(repro.HParams(selection_seeds="0,10", out=str(tmp_path)))
    with pytest.raises(KerasGenError, match="unknown model 'vae'"):
        repro.run(repro.HParams(models="gan,vae", out=str(tmp_path)))


@pytest.mark.slow
def test_tiny_run_sweep_claims_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    hp = repro.HParams(steps=4, hidden=8, n_critic=2, models="wgan_gp", learning_rates="1e-3,1e-2", seeds="4",
                       eval_samples=400, out=str(out))
    m = repro.run(hp)
    rates = m["sweep"]["wgan_gp"]
    assert set(rates) == {"0.001", "0.01"} and all(set(v) == {"0"} for v in rates.values())
    chosen = min((1e-3, 1e-2), key=lambda lr: rates[f"{lr:g}"]["0"]["mmd2"])
    assert m["learning_rates"] == {"wgan_gp": chosen}
    assert [c["metric"] for c in m["claims"]] == ["wgan_gp_modes_covered", "wgan_gp_high_quality_share"]
    check_claims(m)
    assert m["claims"][1]["value"] == m["wgan_gp_high_quality_share"]["4"]
    assert json.loads((out / "metrics.json").read_text())["claims"] == m["claims"]
    for name in ("scatter.png", "sweep.png"):
        assert 5_000 < (out / name).stat().st_size < 150_000, name
    capsys.readouterr()
    again = repro.run(hp)
    printed = capsys.readouterr().out
    assert printed.count("finished in an earlier run") == 4  # two sweep runs, one report run, the baselines
    assert again["claims"] == m["claims"]
