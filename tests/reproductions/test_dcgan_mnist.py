"""dcgan-mnist: a tiny run, its claim record, resume, and claims that can fail."""
import json
import os

import numpy as np
import pytest

from reproductions import dcgan_mnist


def _tiny(tmp_path, **kw):
    return dcgan_mnist.HParams(epochs=1, g_width=4, d_width=4, latent_dim=8, n_samples=120, n_train=320,
                               grid_every=1, seeds="3,4", out=str(tmp_path / "run"),
                               export_dir=str(tmp_path / "saved_models"), **kw)


@pytest.mark.slow
def test_dcgan_mnist_tiny_run(tmp_path, capsys):
    m = dcgan_mnist.run(_tiny(tmp_path))
    assert m["seeds"] == [3, 4] and m["eval_split"] == "test"
    for seed in ("3", "4"):
        s = m["per_seed"][seed]
        assert 1.0 <= s["inception_score"] <= 10.0
        shares = np.array([s["class_shares"][str(k)] for k in range(10)])
        assert abs(shares.sum() - 1) < 1e-9 and s["min_class_share"] == shares.min()
        assert s["n_generated"] == 120 and s["n_reference"] == 1000
    # One epoch of a 4-channel DCGAN is far from real digits: above the real-vs-real floor.
    assert m["fid"]["value"] > m["reference"]["fid_floor"] > 0
    # The claim record: the verdicts are the conditions on the per-seed values.
    claims = {c["metric"]: c for c in m["claims"]}
    assert set(claims) == {"inception_score", "min_class_share", "nn_ratio"}
    is_claim = claims["inception_score"]
    assert is_claim["seeds"] == [3, 4] and is_claim["target"] == 8.0 and is_claim["op"] == ">="
    assert is_claim["value"] == pytest.approx(np.mean([m["per_seed"][s]["inception_score"] for s in ("3", "4")]))
    assert is_claim["met"] == (is_claim["value"] >= 8.0)
    assert claims["min_class_share"]["met"] == all(m["per_seed"][s]["min_class_share"] >= 0.05 for s in ("3", "4"))
    # A generator that replays training digits is caught by the memorisation claim.
    assert m["baselines"]["training_replay"]["nn_ratio"] < 0.05 < claims["nn_ratio"]["baselines"]["real_test_digits"]
    assert m["selection"]["chosen"] == dcgan_mnist.SELECTION["chosen"]
    for name in ("metrics.json", "samples.png", "class_shares.png", "seed_3/model.keras",
                 "seed_3/grids/samples_epoch0001.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert list((tmp_path / "run" / "logs" / "seed_3" / "samples").glob("events.out.tfevents.*"))
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["claims"] == m["claims"]
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    # `keras-gen export dcgan-mnist --from RUN` writes the next version from the first seed's model
    again = dcgan_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join("dcgan_mnist", "2")) and os.path.exists(os.path.join(again, "saved_model.pb"))
    # The same command again reuses both finished seeds instead of training.
    capsys.readouterr()
    again = dcgan_mnist.run(_tiny(tmp_path, export=False))
    assert again["per_seed"] == m["per_seed"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 2


def test_claims_fail_for_a_collapsed_or_copying_generator():
    good = {"inception_score": 8.5, "min_class_share": 0.08, "nn_ratio": 1.0}
    collapsed = {"inception_score": 8.5, "min_class_share": 0.01, "nn_ratio": 1.0}
    copying = {"inception_score": 9.4, "min_class_share": 0.09, "nn_ratio": 0.02}
    reference = {"real_inception_score": 9.4}
    baselines = {"training_replay": {"inception_score": 9.4, "nn_ratio": 0.0}, "class_means": {"inception_score": 7.0}}
    verdicts = lambda per_seed: [c["met"] for c in dcgan_mnist.claims(per_seed, reference, baselines)]  # noqa: E731
    assert verdicts({1: good, 2: good}) == [True, True, True]
    assert verdicts({1: good, 2: collapsed}) == [True, False, True]  # one collapsed seed is enough to fail
    assert verdicts({1: good, 2: copying}) == [True, True, False]


def test_defaults_are_the_variant_chosen_on_validation():
    sel = dcgan_mnist.SELECTION
    assert sel["split"] == "validation" and sel["statistic"] == "inception_score"
    # selection seeds only: the report seeds took no part in the choice
    assert not set(sel["seeds"]) & {int(s) for s in dcgan_mnist.common.REPORT_SEEDS.split(",")}

    def eligible(v):
        return (min(v["min_class_share"]) >= dcgan_mnist.TARGET_MIN_SHARE
                and min(v["nn_ratio"]) >= dcgan_mnist.TARGET_NN_RATIO)

    for v in sel["variants"].values():
        assert all(len(v[k]) == len(sel["seeds"]) for k in ("inception_score", "min_class_share", "fid", "nn_ratio"))
    best = max((n for n, v in sel["variants"].items() if eligible(v)),
               key=lambda n: np.mean(sel["variants"][n]["inception_score"]))
    assert sel["chosen"] == best
    hp = dcgan_mnist.HParams()
    for option, value in sel["variants"][best]["options"].items():
        assert getattr(hp, option) == value, option
