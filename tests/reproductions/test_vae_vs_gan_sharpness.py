"""The sharpness measure against SciPy, and a smoke test of vae-vs-gan-sharpness."""
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
def test_sharpness_tiny_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_GEN_DATA_DIR", str(tmp_path / "data"))
    hp = sharp.HParams(n_samples=20, vae_epochs=1, gan_epochs=1, gan_width=8, n_train=256,
                       out=str(tmp_path / "run"))
    metrics = sharp.run(hp)
    assert set(metrics["laplacian_variance"]) == {"vae_samples", "vae_binary_samples", "vae_reconstructions",
                                                  "real_digits", "gan_samples"}
    assert metrics["compared_with"] == "gan_samples" and isinstance(metrics["claim_c14_holds"], bool)
    # binary pixels are far sharper than decoder means of the same samples
    assert metrics["laplacian_variance"]["vae_binary_samples"] > metrics["laplacian_variance"]["vae_samples"]
    for name in ("metrics.json", "samples.png", "sharpness.png"):
        assert os.path.exists(tmp_path / "run" / name), name
