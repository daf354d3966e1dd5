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


def test_sample_grids_are_logged_to_tensorboard(tmp_path):
    import tensorflow as tf

    gan = GAN(generator=dcgan_generator(latent_dim=4, width=2), discriminator=dcgan_discriminator(width=2))
    gan.compile(run_eagerly=True)
    x = np.random.RandomState(0).uniform(-1, 1, size=(4, 28, 28, 1)).astype("float32")
    cb = SampleGrid(str(tmp_path / "grids"), every=1, n=4, ncols=2, seed=1, log_dir=str(tmp_path / "logs"))
    gan.fit(x, batch_size=4, epochs=2, verbose=0, callbacks=[cb])
    events = list((tmp_path / "logs" / "samples").glob("events.out.tfevents.*"))
    assert len(events) == 1
    images = []
    for record in tf.data.TFRecordDataset(str(events[0])):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
            if value.tag == "samples":
                images.append((event.step, tf.make_ndarray(value.tensor)))
    # One image per grid, at its epoch, and it is the PNG that was written.
    assert [step for step, _ in images] == [1, 2]
    # the summary tensor holds [width, height, encoded PNG]: the pixels of the PNG written
    logged = tf.io.decode_png(images[-1][1][2], channels=3).numpy()
    written = tf.io.decode_png(tf.io.read_file(cb.paths[-1]), channels=3).numpy()
    np.testing.assert_array_equal(logged, written)
