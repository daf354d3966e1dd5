"""gan-1d-equilibrium (C2): a tiny run's claim record, resume, and claims that a wrong G fails."""
import json

import numpy as np
import pytest

from reproductions import gan_1d_equilibrium as repro
from tests.reproductions.claim_checks import check_claims


@pytest.mark.slow
def test_tiny_run_claims_figure_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    hp = repro.HParams(steps=10, batch_size=32, eval_samples=300, c2st_epochs=1, data_scales="given", seeds="3",
                       out=str(out))
    m = repro.run(hp)
    assert [c["id"] for c in m["claims"]] == ["C2"] * 4
    assert [c["metric"] for c in m["claims"]] == ["w1_to_heldout_given", "fresh_d_accuracy_given",
                                                   "max_abs_mean_d_minus_half_given", "fresh_d_accuracy_wrong_g"]
    check_claims(m)
    seed = m["per_seed"]["given"]["3"]
    assert m["claims"][0]["value"] == seed["w1"] and m["claims"][1]["value"] == seed["c2st_accuracy"]
    assert set(m["claims"][0]["baselines"]) >= {"untrained_g", "standard_normal_g", "right_mean_double_width_g",
                                                "real_vs_real_floor"}
    # W1 of the wrong generators against N(4, 0.5^2): |mean| 4 away, and 0.5 * E|Z| * 1 for twice the width.
    base = m["baselines"]
    assert base["standard_normal"]["w1"] == pytest.approx(4.0, abs=0.2)
    assert base["right_mean_double_width"]["w1"] == pytest.approx(0.5 * np.sqrt(2 / np.pi), abs=0.06)
    assert base["real_data"]["w1"] < 0.1
    assert 0 < seed["mean_d_real"] < 1 and seed["max_abs_mean_d_minus_half"] == pytest.approx(
        max(abs(seed["mean_d_real"] - 0.5), abs(seed["mean_d_fake"] - 0.5)))
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk["claims"] == m["claims"] and on_disk["seeds"] == [3] and on_disk["eval_split"] == "test"
    assert 10_000 < (out / "equilibrium.png").stat().st_size < 150_000
    capsys.readouterr()
    again = repro.run(hp)  # the finished seed and the baselines are reused, not trained again
    printed = capsys.readouterr().out
    assert "given_seed_3: finished in an earlier run" in printed and "baselines: finished in an earlier run" in printed
    assert again["claims"] == m["claims"]


def test_a_wrong_generator_fails_the_claims():
    """N(4, 1) (right mean, twice the width) and N(0, 1) must fail W1 and the fresh-D test."""
    hp = repro.HParams(eval_samples=3000, c2st_epochs=8)
    real_train, real_eval = repro.held_out("test", hp.eval_samples)
    rng = np.random.default_rng(0)
    per_seed = {}
    for seed, (mu, sd) in enumerate(((4.0, 1.0), (0.0, 1.0))):
        fit_s, eval_s = (mu + sd * rng.standard_normal((2, hp.eval_samples, 1))).astype(np.float32)
        scores = repro.score_samples(fit_s, eval_s, real_train, real_eval, hp, seed)
        # The GAN's own D could be uninformative (1/2 everywhere): that claim passes regardless.
        per_seed[seed] = {**scores, "w1_untrained": 4.0, "max_abs_mean_d_minus_half": 0.0}
    assert per_seed[0]["c2st_accuracy"] > 0.6 and per_seed[1]["c2st_accuracy"] > 0.95
    base = {k: {"w1": 1.0, "c2st_accuracy": 0.7, "bayes_accuracy": 0.7} for k in repro.WRONG_GENERATORS}
    base["real_data"] = {"w1": 0.01, "c2st_accuracy": 0.5}
    w1, fresh_d, own_d = repro.claims_for(per_seed, base, "none")
    assert not w1["met"] and not fresh_d["met"]
    assert own_d["met"]  # why "mean D = 1/2" alone cannot be the claim
    # A generator equal to the data passes both.
    same = {0: {"w1": 0.01, "c2st_accuracy": 0.51, "w1_untrained": 4.0, "max_abs_mean_d_minus_half": 0.01}}
    assert all(c["met"] for c in repro.claims_for(same, base, "none"))
    assert not repro.power_claim({**base, "right_mean_double_width": {"c2st_accuracy": 0.52, "bayes_accuracy": 0.66},
                                  "real_data": {"c2st_accuracy": 0.5}})["met"]


def test_options_are_checked(tmp_path):
    from keras_gen.errors import KerasGenError
    from reproductions import common

    for bad, message in ((dict(data_scales="given,zscore"), "unknown data scale 'zscore'"),
                         (dict(eval_samples=6000), "--eval-samples must be <= 5000"),
                         (dict(decay_fraction=1.5), "--decay-fraction must be <= 1"),
                         (dict(eval_split="train"), "unknown eval split 'train'")):
        with pytest.raises(KerasGenError, match=message):
            common.validate(repro.HParams(out=str(tmp_path), **bad))
