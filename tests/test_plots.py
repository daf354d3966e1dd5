"""keras_gen.plots: each figure function writes a non-empty PNG where it is told."""
import os

import numpy as np

from keras_gen import plots


def test_confusion_matrix_writes_a_png(tmp_path):
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (np.arange(100) % 10, np.arange(100) * 7 % 10), 1)
    path = plots.confusion_matrix(confusion, str(tmp_path / "figs" / "confusion.png"),
                                  xlabel="class given by the classifier", ylabel="class requested")
    assert path == str(tmp_path / "figs" / "confusion.png")
    assert os.path.getsize(path) > 0
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_mosaic_puts_image_i_at_its_row_and_column():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(7, 3, 4, 1)).astype(np.float32)
    canvas = plots.mosaic(images, ncols=3, pad=2, fill=1.0)
    assert canvas.shape == (3 * 5 - 2, 3 * 6 - 2, 1)
    for i in range(7):
        r, q = i // 3, i % 3
        np.testing.assert_array_equal(canvas[5 * r:5 * r + 3, 6 * q:6 * q + 4], images[i])
    # the gaps and the two empty cells after the last image are the fill value
    assert np.all(canvas[3:5] == 1.0) and np.all(canvas[:, 4:6] == 1.0)
    assert np.all(canvas[10:13, 6:16] == 1.0)


def test_sample_grid_writes_a_png_for_grey_and_colour_images(tmp_path):
    rng = np.random.default_rng(1)
    grey = plots.sample_grid(rng.uniform(-1, 1, size=(12, 28, 28, 1)), str(tmp_path / "grey.png"), ncols=5,
                             title="t", value_range=(-1.0, 1.0))
    colour = plots.sample_grid(rng.uniform(size=(4, 8, 8, 3)), str(tmp_path / "colour.png"))
    for path in (grey, colour):
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
