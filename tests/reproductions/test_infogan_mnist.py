"""Smoke test of infogan-mnist with a tiny budget, and the category matching."""
import os

import numpy as np
import pytest

from reproductions import infogan_mnist


def test_match_categories_finds_the_best_permutation():
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 10, 500)
    perm = rng.permutation(10)
    predicted = np.argsort(perm)[labels]  # category k means digit perm[k]
    noisy = predicted.copy()
    noisy[:50] = rng.randint(0, 10, 50)
    mapping, confusion = infogan_mnist.match_categories(noisy, labels)
    np.testing.assert_array_equal(mapping, perm)
    assert confusion.sum() == 500
    # brute force on a 3-class case: the matching maximises agreement over all 6 permutations
    import itertools
    lab = rng.randint(0, 3, 60)
    pred = rng.randint(0, 3, 60)
    m, _ = infogan_mnist.match_categories(pred, lab, k=3)
    best = max(np.mean(np.array(p)[pred] == lab) for p in itertools.permutations(range(3)))
    assert np.mean(m[pred] == lab) == best


@pytest.mark.slow
def test_tiny_run(tmp_path):
    hp = infogan_mnist.HParams(seeds="0,1", epochs=1, g_width=4, d_width=4, dense_units=16, noise_dim=8,
                               n_per_category=5, n_train=320, out=str(tmp_path / "run"),
                               export_dir=str(tmp_path / "saved_models"))
    m = infogan_mnist.run(hp)
    assert set(m["per_seed"]) == {"0", "1"}
    for r in m["per_seed"].values():
        assert 0.0 <= r["real_accuracy"] <= 1.0 and 0.0 <= r["generated_accuracy"] <= 1.0
        assert sorted(r["category_to_digit"]) == list(range(10))  # a permutation
    (claim,) = m["claims"]
    assert claim["id"] == "C9" and claim["seeds"] == [0, 1] and claim["every_seed"] is True
    assert claim["met"] == all(r["real_accuracy"] >= 0.8 for r in m["per_seed"].values())
    # k-means on pixels is the trivial baseline: far above chance on digits
    assert 0.3 < claim["baselines"]["kmeans_pixels"]["value"] < 0.8 and claim["baselines"]["chance"] == 0.1
    for name in ("metrics.json", "seed_0/model.keras", "categories_seed0.png", "traversal_c1_seed1.png",
                 "traversal_c2_seed0.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert m["selection"]["chosen"] == infogan_mnist.SELECTION["chosen"]
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    again = infogan_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models"))
    assert again.endswith(os.path.join("infogan_mnist", "2"))


def test_the_claim_needs_every_seed():
    kmeans = {"value": 0.55, "sd": 0.02}
    assert infogan_mnist.claims({1: {"real_accuracy": 0.9}, 2: {"real_accuracy": 0.85}}, kmeans)[0]["met"]
    assert not infogan_mnist.claims({1: {"real_accuracy": 0.95}, 2: {"real_accuracy": 0.7}}, kmeans)[0]["met"]


def test_defaults_are_the_variant_chosen_on_validation():
    sel = infogan_mnist.SELECTION
    assert sel["split"] == "validation" and sel["statistic"] == "real_accuracy"
    common = sel["common_seeds"]

    def mean_on_common(variant):
        scores = dict(zip(variant["seeds"], variant["real_accuracy"]))
        return np.mean([scores[s] for s in common])

    for variant in sel["variants"].values():
        assert len(variant["seeds"]) == len(variant["real_accuracy"]) and set(common) <= set(variant["seeds"])
        # selection seeds only: the report seeds took no part in the choice
        assert not set(variant["seeds"]) & {int(s) for s in infogan_mnist.common.REPORT_SEEDS.split(",")}
    best = max(sel["variants"], key=lambda name: mean_on_common(sel["variants"][name]))
    assert sel["chosen"] == best
    hp = infogan_mnist.HParams()
    for option, value in sel["variants"][best]["options"].items():
        assert getattr(hp, option) == value, option
