"""rbm-digits: a tiny run, its claim record, resume, export, and a claim that an untrained model cannot pass."""
import json
import os

import numpy as np
import pytest

from reproductions import rbm_digits as repro


def _tiny(tmp_path, **kw):
    return repro.HParams(n_hidden=16, epochs=2, batch_size=100, gibbs_steps=5, n_samples=10, n_train=500,
                         ais_temperatures=200, ais_chains=20, ais_runs=2, seeds="3,4", out=str(tmp_path / "run"),
                         export_dir=str(tmp_path / "saved_models"), **kw)


@pytest.mark.slow
def test_rbm_digits_tiny_run(tmp_path, capsys):
    hp = _tiny(tmp_path)
    m = repro.run(hp)
    assert m["seeds"] == [3, 4] and m["eval_split"] == "test"
    # The independent-pixel baseline, recomputed here: exact mean log-likelihood of the test digits.
    train, test = repro.binarised_digits(hp, "train"), repro.binarised_digits(hp, "test")
    assert train.shape == (500, 784) and test.shape == (1000, 784)
    train, test = train.astype(np.float64), test.astype(np.float64)  # the library sums in double precision
    p = (train.sum(0) + 1) / (len(train) + 2)
    want = np.mean((test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1))
    assert m["independent_pixels_log_likelihood"] == pytest.approx(want, rel=1e-9)
    for seed in ("3", "4"):
        s = m["per_seed"][seed]
        assert [c["epoch"] for c in s["curve"]] == [1, 2]
        assert len(s["test_log_likelihood_runs"]) == 2 and len(s["log_z_runs"]) == 2
        # the pooled estimate lies between the runs' (log-mean-exp of equal-sized groups)
        assert min(s["test_log_likelihood_runs"]) - 1e-9 <= s["test_log_likelihood"] <= max(
            s["test_log_likelihood_runs"]) + 1e-9
        assert s["test_log_likelihood"] < 0 and 0 < s["reconstruction_error_final"] < 1
    # The claim record: the verdict is the condition on every seed's gain.
    (c12,) = m["claims"]
    gains = {s: m["per_seed"][s]["test_log_likelihood"] - want for s in ("3", "4")}
    assert c12["id"] == "C12" and c12["seeds"] == [3, 4] and c12["op"] == ">=" and c12["every_seed"]
    assert c12["per_seed"] == pytest.approx(gains)
    assert c12["met"] == all(g >= repro.TARGET_GAIN_NATS for g in gains.values())
    assert c12["baselines"]["independent_pixels"] == 0.0
    # Two epochs of a 16-unit RBM on 500 digits hardly leave the independent-pixel start.
    assert not c12["met"]
    for name in ("metrics.json", "curves.png", "ais.png", "filters.png", "samples.png", "reconstructions.png",
                 "seed_3/model.keras", "seed_3/curve.json"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["claims"] == m["claims"]
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    again = repro.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join("rbm_digits", "2"))
    # The same command again reuses both finished seeds.
    capsys.readouterr()
    rerun = repro.run(_tiny(tmp_path, export=False))
    assert rerun["per_seed"] == m["per_seed"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 2


def test_an_rbm_without_interactions_cannot_pass_the_claim():
    """W = 0 with the base-rate biases IS independent pixels: AIS gives its likelihood exactly, gain 0."""
    from keras_gen.metrics.ais import ais_log_likelihood, base_rate_visible_bias

    rng = np.random.default_rng(0)
    train = (rng.random((300, 784)) < np.linspace(0.01, 0.6, 784)).astype(np.float32)
    test = (rng.random((50, 784)) < np.linspace(0.01, 0.6, 784)).astype(np.float32)
    b = base_rate_visible_bias(train)
    trivial = (np.zeros((784, 20)), b, np.zeros(20))
    ll, ais = ais_log_likelihood(trivial, test, b, n_temperatures=50, n_chains=10, n_runs=2)
    independent = repro.independent_pixels_log_likelihood(train, test)
    assert ll.mean() == pytest.approx(independent, abs=1e-4)
    runs = ais["mean_log_likelihood_runs"]
    per_seed = {1: {"test_log_likelihood": float(ll.mean()), "test_log_likelihood_sd_over_runs": float(np.std(runs))}}
    assert not repro.claims(per_seed, independent)[0]["met"]
    better = {1: dict(per_seed[1], test_log_likelihood=independent + 30.0),
              2: dict(per_seed[1], test_log_likelihood=independent + 0.5)}
    assert not repro.claims(better, independent)[0]["met"]  # one seed short of the margin fails it
    better[2]["test_log_likelihood"] = independent + 12.0
    assert repro.claims(better, independent)[0]["met"]
