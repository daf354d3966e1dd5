"""cvae-mnist: a tiny run with the shared digit evaluation, its claim record, resume; claims chance cannot pass."""
import json
import os

import numpy as np
import pytest

from reproductions import cvae_mnist


def _tiny(tmp_path, **kw):
    return cvae_mnist.HParams(hidden=16, epochs=2, warmup_epochs=1, patience=1, n_per_class=12, iwae_k=10,
                              grid_every=1, n_train=300, seeds="3", out=str(tmp_path / "run"),
                              export_dir=str(tmp_path / "saved_models"), **kw)


@pytest.mark.slow
def test_cvae_mnist_tiny_run(tmp_path, capsys):
    m = cvae_mnist.run(_tiny(tmp_path))
    s = m["per_seed"]["3"]
    assert s["n_generated"] == 120 and sum(map(sum, s["confusion"])) == 120
    assert all(sum(row) == 12 for row in s["confusion"])  # 12 requests of every class
    assert s["requested_accuracy"] == pytest.approx(np.trace(s["confusion"]) / 120)
    assert 0 <= s["requested_accuracy_pixel_samples"] <= 1
    assert s["n_reference"] == 1000 and m["reference"]["reference_split"] == "test"
    assert 100 < s["test_iwae_nll"] <= s["test_negative_elbo"] + 0.5
    (c8,) = m["claims"]
    assert c8["id"] == "C8" and c8["target"] == 0.9 and c8["op"] == ">=" and c8["seeds"] == [3]
    assert c8["met"] == (s["requested_accuracy"] >= 0.9)
    assert c8["baselines"]["label_ignored_chance"] == 0.1
    assert c8["baselines"]["classifier_on_real_digits"] == m["reference"]["classifier_accuracy"] > 0.5
    for name in ("metrics.json", "samples_by_class.png", "confusion.png", "seed_3/model.keras",
                 "seed_3/grids/samples_epoch0001.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["claims"] == m["claims"]
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    capsys.readouterr()
    rerun = cvae_mnist.run(_tiny(tmp_path, export=False))
    assert rerun["per_seed"] == m["per_seed"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 1


def test_the_claim_fails_at_chance_and_for_one_bad_seed():
    reference = {"classifier_accuracy": 0.97}
    verdict = lambda values: cvae_mnist.claims({s: {"requested_accuracy": v} for s, v in values.items()},  # noqa: E731
                                               reference)[0]["met"]
    assert not verdict({1: 0.1, 2: 0.1})  # a CVAE that ignores the label
    assert not verdict({1: 0.97, 2: 0.85})
    assert verdict({1: 0.97, 2: 0.93})


def test_generated_requests_are_shuffled_but_balanced():
    class Echo:  # a stand-in generator: the image's mean pixel is its label / 10
        def generate(self, n, labels, seed=None):
            return np.broadcast_to((np.asarray(labels, np.float32) / 10)[:, None, None, None], (n, 28, 28, 1))

    hp = cvae_mnist.HParams(n_per_class=50)
    means, pixels, requested = cvae_mnist.generate(Echo(), hp, seed=0)
    assert np.bincount(requested).tolist() == [50] * 10
    assert len(set(requested[:100])) == 10  # every class among the first samples (FID uses the first 500)
    np.testing.assert_allclose(means[:, 0, 0, 0], requested / 10)
    assert set(np.unique(pixels)) <= {0.0, 1.0}
