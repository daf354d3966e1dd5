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
def test_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = infogan_mnist.HParams(seeds="0,1", epochs=1, g_width=4, d_width=4, dense_units=16, noise_dim=8,
                               n_per_category=5, classifier_epochs=1, n_train=320, out=str(tmp_path / "run"),
                               export_dir=str(tmp_path / "saved_models"))
    m = infogan_mnist.run(hp)
    assert set(m["per_seed"]) == {"0", "1"}
    for r in m["per_seed"].values():
        assert 0.0 <= r["real_accuracy"] <= 1.0 and 0.0 <= r["generated_accuracy"] <= 1.0
        assert sorted(r["category_to_digit"]) == list(range(10))  # a permutation
    assert m["real_accuracy_min"] == min(r["real_accuracy"] for r in m["per_seed"].values())
    assert m["all_seeds_reach_target"] == (m["real_accuracy_min"] >= 0.8)
    for name in ("metrics.json", "infogan.keras", "categories_seed0.png", "traversal_c1_seed1.png",
                 "traversal_c2_seed0.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
