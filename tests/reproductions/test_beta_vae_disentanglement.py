"""beta-vae-disentanglement: a tiny run, its claim records (paired MIG differences), resume; options."""
import json
import os

import pytest

from keras_gen.errors import KerasGenError
from reproductions import beta_vae_disentanglement as bvae


def _tiny(tmp_path):
    return bvae.HParams(betas="4,1", seeds="3,4", latent_dim=4, hidden=16, epochs=1, n_positions=4,
                        out=str(tmp_path / "run"))


@pytest.mark.slow
def test_beta_vae_tiny_run(tmp_path, capsys):
    m = bvae.run(_tiny(tmp_path))
    assert m["betas"] == [1.0, 4.0] and m["seeds"] == [3, 4] and m["n_images"] == 3 * 4 * 4 * 4
    assert set(m["mig"]) == {"beta_1", "beta_4"}
    assert all(0 <= v <= 1 for per in m["mig"].values() for v in per.values())
    assert set(m["mig_per_factor"]["beta_1"]) == {"shape", "scale", "x", "y"}
    (c7,) = m["claims"]
    diffs = {s: m["mig"]["beta_4"][s] - m["mig"]["beta_1"][s] for s in ("3", "4")}
    assert c7["id"] == "C7" and c7["seeds"] == [3, 4] and c7["every_seed"] and c7["op"] == ">"
    assert c7["per_seed"] == pytest.approx(diffs)
    assert c7["met"] == all(d > 0 for d in diffs.values())
    for name in ("metrics.json", "mig.png", "traversals_beta1.png", "traversals_beta4.png",
                 "beta_1_seed_3/model.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["claims"] == m["claims"]
    capsys.readouterr()
    assert bvae.run(_tiny(tmp_path))["mig"] == m["mig"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 4


def test_claims_are_paired_differences_and_fail_without_an_effect():
    untrained = {1: 0.01, 2: 0.02}
    same = {"beta_1": {1: 0.1, 2: 0.2}, "beta_4": {1: 0.1, 2: 0.2}, "beta_10": {1: 0.1, 2: 0.2}}
    assert [c["met"] for c in bvae.claims(same, [1.0, 4.0, 10.0], untrained)] == [False, False]
    # beta 4's mean is above beta 1's, but one seed goes down: paired, every seed, it fails
    mixed = {"beta_1": {1: 0.1, 2: 0.3}, "beta_4": {1: 0.4, 2: 0.25}, "beta_10": {1: 0.2, 2: 0.35}}
    c4, c10 = bvae.claims(mixed, [1.0, 4.0, 10.0], untrained)
    assert c4["per_seed"] == pytest.approx({"1": 0.3, "2": -0.05}) and not c4["met"]
    assert c10["value"] == pytest.approx(0.075) and c10["met"]
    assert c10["metric"] == "mig_difference_beta_10_minus_1" and c10["baselines"]["no_effect"] == 0.0


def test_betas_option():
    assert bvae.parse_betas("10, 1,4") == [1.0, 4.0, 10.0]
    for bad, message in (("1,x", "comma-separated numbers"), ("1,-4", ">= 0"), ("4,4", "two different")):
        with pytest.raises(KerasGenError, match=message):
            bvae.parse_betas(bad)
