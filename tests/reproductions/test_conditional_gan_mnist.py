"""cgan-mnist and acgan-mnist: tiny runs, the claim record, and a claim that can fail."""
import json
import os

import numpy as np
import pytest

from reproductions import acgan_mnist, cgan_mnist, conditional_gan_mnist


@pytest.mark.slow
@pytest.mark.parametrize("module", [cgan_mnist, acgan_mnist], ids=["cgan", "acgan"])
def test_tiny_run(module, tmp_path):
    kind = module.NAME.split("-")[0]
    hp = module.HParams(epochs=1, g_width=4, d_width=4, latent_dim=8, n_per_class=5, n_train=320, grid_every=1,
                        seeds="5", out=str(tmp_path / "run"), export_dir=str(tmp_path / "saved_models"))
    m = module.run(hp)
    s = m["per_seed"]["5"]
    assert s["n_generated"] == 50 and 0.0 <= s["requested_accuracy"] <= 1.0
    assert np.asarray(s["confusion"]).sum() == 50 and np.asarray(s["confusion"]).shape == (10, 10)
    assert s["requested_accuracy"] == pytest.approx(np.trace(s["confusion"]) / 50)
    (claim,) = m["claims"]
    assert claim["id"] == "C8" and claim["metric"] == "requested_accuracy" and claim["seeds"] == [5]
    assert claim["met"] == (s["requested_accuracy"] >= 0.9)
    assert claim["baselines"]["label_ignored_chance"] == 0.1
    assert claim["baselines"]["real_test_digits_ceiling"] == m["reference"]["classifier_accuracy"] > 0.9
    for name in ("metrics.json", "samples_by_class.png", "confusion.png", "seed_5/grids/samples_epoch0001.png",
                 "seed_5/model.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    again = module.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join(f"{kind}_mnist", "2"))
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["hparams"]["epochs"] == 1 and saved["claims"] == m["claims"]
    # how the model's defaults were chosen travels with its numbers
    assert saved["selection"]["chosen"] == module.SELECTION["chosen"]
    assert saved["selection"]["split"] == "validation" and saved["selection"]["seeds"] == [0, 1]


# The options each sweep varied, per variant name, and the defaults both models now share.
VARIANT_OPTIONS = {"label smoothing 0.2": (0.0, 0, 0.2), "R1 gamma 1, no smoothing": (1.0, 0, 0.0),
                   "R1 gamma 1, no smoothing, one stride-1 layer in G": (1.0, 1, 0.0)}


@pytest.mark.parametrize("module", [cgan_mnist, acgan_mnist], ids=["cgan", "acgan"])
def test_defaults_are_the_variant_chosen_on_validation(module):
    sel = module.SELECTION
    assert sel["split"] == "validation" and sel["statistic"] == "requested_accuracy"
    best = max(sel["variants"], key=lambda name: sum(sel["variants"][name]["requested_accuracy"]))
    assert sel["chosen"] == best
    # the same three variants for both models (equal tuning effort)
    assert {name.split(" (")[0] for name in sel["variants"]} == set(VARIANT_OPTIONS)
    hp = module.HParams()
    assert (hp.r1_weight, hp.g_base_convs, hp.label_smoothing) == VARIANT_OPTIONS[best.split(" (")[0]]


def test_the_claim_needs_every_seed():
    reference = {"classifier_accuracy": 0.98}
    good, bad = {"requested_accuracy": 0.95}, {"requested_accuracy": 0.85}
    assert conditional_gan_mnist.claims("cgan", {1: good, 2: good}, reference)[0]["met"] is True
    # The mean (0.90) would pass; one seed below 90% fails the claim.
    assert conditional_gan_mnist.claims("cgan", {1: good, 2: bad}, reference)[0]["met"] is False
    # A generator that ignores the label scores chance.
    assert conditional_gan_mnist.claims("cgan", {1: {"requested_accuracy": 0.1}}, reference)[0]["met"] is False


@pytest.mark.parametrize("kind", conditional_gan_mnist.KINDS)
def test_the_r1_and_base_conv_options_reach_the_model(kind):
    plain = conditional_gan_mnist.build(kind, conditional_gan_mnist.HParams(
        g_width=4, d_width=4, latent_dim=8, r1_weight=0.0, g_base_convs=0), 0)
    assert plain.r1_weight == 0.0
    assert not [layer for layer in plain.generator.layers if layer.name.startswith("base")]
    hp = conditional_gan_mnist.HParams(g_width=4, d_width=4, latent_dim=8, r1_weight=1.0, g_base_convs=1,
                                       label_smoothing=0.0)
    model = conditional_gan_mnist.build(kind, hp, 0)
    assert model.r1_weight == 1.0 and model.label_smoothing == 0.0
    assert [layer.name for layer in model.generator.layers if layer.name.startswith("base")] == [
        "base0_convt", "base0_bn", "base0_relu"]
