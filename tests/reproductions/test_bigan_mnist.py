"""bigan-mnist: a tiny run at two code sizes, the claim record, and a claim that can fail."""
import os

import pytest

from reproductions import bigan_mnist


@pytest.mark.slow
def test_tiny_run(tmp_path):
    hp = bigan_mnist.HParams(latent_dims="4,8", seeds="1", epochs=1, g_width=4, e_width=4, d_width=4,
                             d_joint_units=8, n_train=320, projection_seeds=2, out=str(tmp_path / "run"),
                             export_dir=str(tmp_path / "saved_models"))
    m = bigan_mnist.run(hp)
    for dim in ("4", "8"):
        res = m["per_dim"][dim]["1"]
        assert res["probe_dimension"] == int(dim) and len(res["probe_accuracy_random_projection_each"]) == 2
        for key in ("probe_accuracy_encoder", "probe_accuracy_random_projection", "probe_accuracy_pixels",
                    "probe_accuracy_untrained_encoder"):
            assert 0.1 <= res[key] <= 1.0, key
        # 784 pixels read the class far better than a few random directions
        assert res["probe_accuracy_pixels"] > res["probe_accuracy_best_random_projection"]
        assert res["encoder_margin"] == pytest.approx(res["probe_accuracy_encoder"]
                                                      - max(res["probe_accuracy_random_projection_each"]))
    claims = {c["metric"]: c for c in m["claims"]}
    assert set(claims) == {"encoder_margin_4d", "encoder_margin_8d"}
    for dim in ("4", "8"):
        c = claims[f"encoder_margin_{dim}d"]
        assert c["id"] == "C10" and c["op"] == ">" and c["met"] == (m["per_dim"][dim]["1"]["encoder_margin"] > 0)
        assert set(c["baselines"]) >= {"best_random_projection", "untrained_encoder", "pixels"}
    for name in ("metrics.json", "dim_4_seed_1/model.keras", "reconstructions_4.png", "samples_8.png"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert os.path.exists(os.path.join(m["export_path"], "saved_model.pb"))
    assert bigan_mnist.export(str(tmp_path / "run"), base_dir=str(tmp_path / "saved_models")).endswith("2")


def test_a_representation_no_better_than_a_projection_fails():
    def res(enc, best):
        return {"probe_accuracy_encoder": enc, "probe_accuracy_best_random_projection": best,
                "probe_accuracy_random_projection": best - 0.01, "probe_accuracy_untrained_encoder": 0.5,
                "probe_accuracy_pixels": 0.9, "encoder_margin": enc - best}

    claims = bigan_mnist.claims({16: {1: res(0.8, 0.65), 2: res(0.78, 0.66)}, 50: {1: res(0.834, 0.842)}})
    assert [c["met"] for c in claims] == [True, False]
