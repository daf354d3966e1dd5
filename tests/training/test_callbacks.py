"""SampleGrid: a PNG of the same latents every N epochs."""
import numpy as np
import pytest
from PIL import Image

from keras_gen.errors import KerasGenError
from keras_gen.models import GAN, dcgan_discriminator, dcgan_generator
from keras_gen.training import SampleGrid


def test_sample_grid_every_n_epochs(tmp_path):
    gan = GAN(generator=dcgan_generator(latent_dim=4, width=2), discriminator=dcgan_discriminator(width=2))
    gan.compile(run_eagerly=True)
    x = np.random.RandomState(0).uniform(-1, 1, size=(4, 28, 28, 1)).astype("float32")
    cb = SampleGrid(str(tmp_path / "grids"), every=2, n=6, ncols=3, seed=1)
    gan.fit(x, batch_size=4, epochs=5, verbose=0, callbacks=[cb])
    # Epochs 2 and 4, and the last one (5).
    names = [p.rsplit("/", 1)[-1] for p in cb.paths]
    assert names == ["samples_epoch0002.png", "samples_epoch0004.png", "samples_epoch0005.png"]
    img = np.asarray(Image.open(cb.paths[-1]))
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50 and img.std() > 0


def test_custom_plot_and_bad_arguments(tmp_path):
    calls = []
    gan = GAN(generator=dcgan_generator(latent_dim=4, width=2), discriminator=dcgan_discriminator(width=2))
    gan.compile(run_eagerly=True)
    x = np.zeros((4, 28, 28, 1), "float32")
    cb = SampleGrid(str(tmp_path), every=1, n=3, plot_fn=lambda s, p: calls.append((s.shape, p)))
    gan.fit(x, batch_size=4, epochs=1, verbose=0, callbacks=[cb])
    assert calls == [((3, 28, 28, 1), str(tmp_path / "samples_epoch0001.png"))]
    with pytest.raises(KerasGenError):
        SampleGrid(str(tmp_path), every=0)
