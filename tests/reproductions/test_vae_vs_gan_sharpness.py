"""The sharpness measure against SciPy, a tiny equal-budget run, and claims that can fail."""
import json
import os

import numpy as np
import pytest
from scipy import ndimage

from reproductions import vae_vs_gan_sharpness as sharp


def test_laplacian_variance_matches_scipy():
    images = np.random.default_rng(0).random((3, 12, 12, 1))
    expected = [ndimage.laplace(im[..., 0])[1:-1, 1:-1].var() for im in images]
    np.testing.assert_allclose(sharp.laplacian_variance(images), expected, rtol=1e-12)
    blurred = np.stack([ndimage.gaussian_filter(im[..., 0], 1.0) for im in images])
    assert np.all(sharp.laplacian_variance(blurred) < sharp.laplacian_variance(images))
    assert sharp.laplacian_variance(np.ones((2, 8, 8))).tolist() == [0.0, 0.0]


@pytest.mark.slow
def test_sharpness_tiny_run(tmp_path, capsys):
    hp = sharp.HParams(epochs=1, batch_size=64, n_samples=20, vae_latent_dim=4, vae_hidden=16, gan_g_width=4,
                       gan_d_width=4, grid_every=1, n_train=256, seeds="3", out=str(tmp_path / "run"))
    m = sharp.run(hp)
    assert m["equal_budget"] == {"training_digits": 256, "epochs": 1, "batch_size": 64, "updates_per_model": 4}
    s = m["per_seed"]["3"]
    assert set(s["laplacian_variance"]) == set(sharp.SETS)
    lv = s["laplacian_variance"]
    # binary pixels are far rougher than the decoder means they are drawn from
    assert lv["vae_pixel_samples"] > lv["vae_means"]
    assert lv["real_test_digits_binarised"] > lv["real_test_digits"] > 0
    samples, means = m["claims"]
    for c, name in ((samples, "vae_pixel_samples"), (means, "vae_means")):
        assert c["id"] == "C14" and c["op"] == "<" and c["target"] == 1.0
        assert c["value"] == pytest.approx(lv[name] / lv["gan_samples"])
        assert c["met"] == (c["value"] < 1.0)
    assert "SAMPLES" in samples["statement"].upper() and "means" in means["statement"]
    assert s["parameters"]["gan_generator"] > 0 and set(s["training_cpu_seconds"]) == {"vae", "gan"}
    for name in ("metrics.json", "samples.png", "sharpness.png", "seed_3_vae/model.keras", "seed_3_gan/model.keras"):
        assert os.path.exists(tmp_path / "run" / name), name
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["claims"] == m["claims"]
    capsys.readouterr()
    assert sharp.run(hp)["per_seed"] == m["per_seed"]
    assert capsys.readouterr().out.count("finished in an earlier run") == 1


def test_a_gan_as_blurry_as_the_vae_fails_the_claims():
    rng = np.random.default_rng(0)
    real = (rng.random((50, 28, 28)) < 0.3).astype(float)
    blurry = np.stack([ndimage.gaussian_filter(im, 1.5) for im in real])

    def seed(vae_means, gan):
        lv = {"vae_pixel_samples": sharp.laplacian_variance(real).mean(), "vae_means": vae_means.mean(),
              "gan_samples": gan.mean(), "real_test_digits": 1.0, "real_test_digits_binarised": 2.0}
        return {"ratio_to_gan_samples": {k: v / lv["gan_samples"] for k, v in lv.items()}}

    sharp_gan = seed(sharp.laplacian_variance(blurry), sharp.laplacian_variance(real))
    blurry_gan = seed(sharp.laplacian_variance(blurry), sharp.laplacian_variance(blurry) * 0.9)
    assert [c["met"] for c in sharp.claims({1: sharp_gan, 2: sharp_gan})] == [False, True]
    assert [c["met"] for c in sharp.claims({1: sharp_gan, 2: blurry_gan})] == [False, False]
