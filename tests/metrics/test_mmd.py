"""MMD^2 against a brute-force double loop over the notes' formula."""
import numpy as np
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.metrics import gaussian_kernel, median_bandwidth, mmd2, mmd2_from_kernels
from keras_gen.metrics import mmd as mmd_module


def _k(a, b, bandwidths):
    return sum(np.exp(-np.sum((a - b) ** 2) / (2 * s * s)) for s in bandwidths)


def _brute_force_mmd2(x, y, bandwidths, unbiased):
    n, m = len(x), len(y)
    xx = yy = xy = 0.0
    for i in range(n):
        for j in range(n):
            if not (unbiased and i == j):
                xx += _k(x[i], x[j], bandwidths)
    for i in range(m):
        for j in range(m):
            if not (unbiased and i == j):
                yy += _k(y[i], y[j], bandwidths)
    for i in range(n):
        for j in range(m):
            xy += _k(x[i], y[j], bandwidths)
    if unbiased:
        return xx / (n * (n - 1)) + yy / (m * (m - 1)) - 2 * xy / (n * m)
    return xx / n**2 + yy / m**2 - 2 * xy / (n * m)


@pytest.mark.parametrize("block_rows", [256, 5])  # one block, and several with a ragged last one
@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("bandwidths", [0.7, (0.5, 1.0, 4.0)])
def test_mmd2_matches_a_double_loop(unbiased, bandwidths, block_rows, monkeypatch):
    monkeypatch.setattr(mmd_module, "_BLOCK_ROWS", block_rows)
    monkeypatch.setattr(mmd_module, "_REFERENCE_TERMS", {})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(23, 3))
    y = rng.normal(loc=0.5, scale=1.5, size=(17, 3))
    bw = np.atleast_1d(bandwidths)
    expected = _brute_force_mmd2(x, y, bw, unbiased)
    assert mmd2(x, y, bandwidths=bandwidths, unbiased=unbiased) == pytest.approx(expected, rel=1e-10)


def test_kernel_matrix_and_basic_properties():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 2))
    y = rng.normal(size=(4, 2))
    k = gaussian_kernel(x, y, bandwidths=(1.0, 2.0))
    assert k.shape == (6, 4)
    assert k[2, 3] == pytest.approx(_k(x[2], y[3], (1.0, 2.0)))
    assert np.allclose(np.diag(gaussian_kernel(x, x, 1.5)), 1.0)
    # Biased MMD^2 is a squared RKHS norm: >= 0, and 0 for identical samples.
    assert mmd2(x, x, unbiased=False) == pytest.approx(0.0, abs=1e-12)
    assert mmd2(x, y, unbiased=False) > 0
    # Images are flattened per sample; 1-D input is scalar samples.
    imgs = rng.normal(size=(5, 2, 2, 1))
    assert mmd2(imgs, imgs + 1.0) == pytest.approx(mmd2(imgs.reshape(5, 4), imgs.reshape(5, 4) + 1.0))
    assert mmd2(x[:, 0], y[:, 0]) == pytest.approx(mmd2(x[:, :1], y[:, :1]))


def test_blockwise_sums_equal_whole_kernel_matrices_and_the_reference_term_follows_y():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(700, 2)), rng.normal(loc=0.3, size=(600, 2))  # three blocks of rows each
    bw = (0.1, 1.0, 3.0)
    for unbiased in (True, False):
        whole = mmd2_from_kernels(gaussian_kernel(x, x, bw), gaussian_kernel(y, y, bw), gaussian_kernel(x, y, bw),
                                  unbiased)
        assert mmd2(x, y, bw, unbiased) == pytest.approx(whole, rel=1e-12, abs=1e-15)
    first = mmd2(x, y, bw)
    assert mmd2(x, y, bw) == first  # the remembered within-y term gives the same number
    y[:300] += 1.0  # y changed in place: its term is computed again, not taken from memory
    changed = mmd2_from_kernels(gaussian_kernel(x, x, bw), gaussian_kernel(y, y, bw), gaussian_kernel(x, y, bw))
    assert mmd2(x, y, bw) == pytest.approx(changed, rel=1e-12) and changed != pytest.approx(first, rel=1e-3)
    assert mmd2(x, y, (0.1, 1.0)) != pytest.approx(mmd2(x, y, bw))  # keyed by the bandwidths too


def test_mmd2_separates_distributions_and_shrinks_for_equal_ones():
    rng = np.random.default_rng(2)
    same = mmd2(rng.normal(size=(400, 2)), rng.normal(size=(400, 2)), bandwidths="median")
    diff = mmd2(rng.normal(size=(400, 2)), rng.normal(loc=1.0, size=(400, 2)), bandwidths="median")
    assert abs(same) < 0.01 < diff
    bw = median_bandwidth(np.zeros((3, 1)), np.ones((3, 1)))
    assert bw == pytest.approx(1.0)  # pooled distances: six 0s and nine 1s -> median 1


def test_bad_inputs():
    with pytest.raises(KerasGenError, match="different feature sizes"):
        mmd2(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(KerasGenError, match="bandwidths"):
        mmd2(np.zeros((4, 2)), np.zeros((4, 2)), bandwidths=(1.0, -1.0))
    with pytest.raises(KerasGenError, match="at least 2 samples"):
        mmd2(np.zeros((1, 2)), np.zeros((4, 2)))
