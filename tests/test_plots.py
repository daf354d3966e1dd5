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
