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
                               n_per_category=5, n_train=320, restarts=2, out=str(tmp_path / "run"),
                               export_dir=str(tmp_path / "saved_models"))
    m = infogan_mnist.run(hp)
    assert set(m["per_seed"]) == {"0", "1"}
    for seed, r in m["per_seed"].items():
        assert 0.0 <= r["real_accuracy"] <= 1.0 and 0.0 <= r["generated_accuracy"] <= 1.0
        assert sorted(r["category_to_digit"]) == list(range(10))  # a permutation
        # two trainings per seed; the kept one has the highest category stability, and its numbers are reported
        tried = r["restarts"]
        assert [t["training_seed"] for t in tried] == [int(seed), int(seed) + 1000]
        best = max(tried, key=lambda t: t["category_stability"])
        assert r["training_seed"] == best["training_seed"] and r["category_stability"] == best["category_stability"]
        assert r["real_accuracy"] == best["real_accuracy"]
        assert os.path.exists(tmp_path / "run" / f"seed_{int(seed) + 1000}" / "model.keras")
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
    common, final = sel["common_seeds"], sel["finalist_seeds"]

    def mean_on(variant, seeds):
        scores = dict(zip(variant["seeds"], variant["real_accuracy"]))
        return np.mean([scores[s] for s in seeds])

    report = {int(s) for s in infogan_mnist.common.REPORT_SEEDS.split(",")}
    report_trainings = {t for s in report for t in infogan_mnist.restart_seeds(s, infogan_mnist.HParams().restarts)}
    for variant in sel["variants"].values():
        assert len(variant["seeds"]) == len(variant["real_accuracy"]) and set(common) <= set(variant["seeds"])
        # selection seeds only, restarts included: the report seeds' trainings took no part in the choice
        trainings = {t for s in variant["seeds"] for t in infogan_mnist.restart_seeds(s, variant["options"]["restarts"])}
        assert not trainings & report_trainings
    finalists = [name for name, v in sel["variants"].items() if set(final) <= set(v["seeds"])]
    # every variant left out of the final was beaten on the common seeds by a finalist
    for name, variant in sel["variants"].items():
        if name not in finalists:
            assert mean_on(variant, common) < max(mean_on(sel["variants"][f], common) for f in finalists), name
    best = max(finalists, key=lambda name: mean_on(sel["variants"][name], final))
    assert sel["chosen"] == best
    hp = infogan_mnist.HParams()
    for option, value in sel["variants"][best]["options"].items():
        assert getattr(hp, option) == value, option


class _PixelQ:
    """A stand-in for InfoGAN's Q: the category is the row of the brightest pixel's column 14 (0-9 from row 9)."""

    def infer_codes(self, x):
        col = np.asarray(x)[:, :, 14, 0]
        categories = np.clip(col.argmax(1) - 9, 0, 9)
        return np.eye(10)[categories], np.zeros((len(x), 0))


class _InkQ:
    """A stand-in for Q whose category is the number of inked pixels (capped at 9)."""

    def infer_codes(self, x):
        return np.eye(10)[np.minimum((np.asarray(x) > 0).sum((1, 2, 3)), 9)], np.zeros((len(x), 0))


def test_shift_digits_moves_pixels_and_fills_zeros():
    x = np.arange(2 * 4 * 5, dtype="float32").reshape(2, 4, 5, 1) + 1
    down = infogan_mnist.shift_digits(x, 1, 1)
    np.testing.assert_array_equal(down[:, 1:], x[:, :-1])
    assert not down[:, 0].any()
    left = infogan_mnist.shift_digits(x, 2, -1)
    np.testing.assert_array_equal(left[:, :, :-1], x[:, :, 1:])
    assert not left[:, :, -1].any()


def test_category_stability_against_a_count_by_hand():
    # one bright pixel per digit in column 14, at rows 9..18: moving up or down changes the category
    # (except where the clip at 0 or 9 holds it), moving left or right takes the pixel out of column 14
    rows = np.arange(9, 19)
    x = np.zeros((10, 28, 28, 1), "float32")
    x[np.arange(10), rows, 14, 0] = 1.0
    # counted by hand, per move: up keeps only row 9's category (0, clipped either way), down only row 18's
    # (9, clipped); left and right empty column 14, whose argmax is row 0 (category 0), which only row 9's
    # digit had: 1 of 10 digits keeps its category in each of the four moves
    assert infogan_mnist.category_stability(_PixelQ(), x) == pytest.approx(np.mean([1 / 10] * 4))
    # a Q that looks only at how much ink a digit has (which a 1-pixel move keeps) is perfectly stable
    assert infogan_mnist.category_stability(_InkQ(), x) == 1.0


def test_restart_seeds_do_not_collide():
    assert infogan_mnist.restart_seeds(10, 3) == [10, 1010, 2010]
    infogan_mnist.check_restart_seeds([10, 11, 12], 2)
    from keras_gen.errors import KerasGenError

    with pytest.raises(KerasGenError, match="share the training seed 1000"):
        infogan_mnist.check_restart_seeds([0, 1000], 2)
    infogan_mnist.check_restart_seeds([0, 1000], 1)  # without restarts they are separate trainings
