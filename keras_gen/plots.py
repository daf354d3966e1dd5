"""Figures (matplotlib, Agg backend: works without a display).

Every function writes one PNG and returns its path. Models and reproductions own
what is plotted; this module owns how.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_gen.data.piano_roll import LOWEST_MIDI  # noqa: E402


def save(fig, path, dpi=110):
    """Saves and closes `fig`; creates the folder; returns `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def mosaic(images, ncols=10, pad=2, fill=1.0):
    """Tiles `[n, h, w, c]` images row by row into one `[rows*(h+pad)-pad, ncols*(w+pad)-pad, c]`
    array, `pad` pixels of `fill` between tiles; cells after the last image stay `fill`."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w, c = images.shape
    ncols = max(1, min(int(ncols), n))
    nrows = int(np.ceil(n / ncols))
    canvas = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, c), fill, np.float32)
    for i in range(n):
        r, q = divmod(i, ncols)
        canvas[r * (h + pad):r * (h + pad) + h, q * (w + pad):q * (w + pad) + w] = images[i]
    return canvas


def sample_grid(images, path, ncols=10, title=None, cmap="gray", value_range=(0.0, 1.0)):
    """A grid of images `[n, h, w, c]` (c = 1 or 3), values in `value_range`, white between.

    Drawn as one image (`mosaic`), not one axes per sample: a 100-digit grid took 0.9 s
    instead of 5.2 s (grids are written during training)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., None]
    lo, hi = value_range
    images = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    canvas = mosaic(images, ncols)
    fig, ax = plt.subplots(figsize=(ncols * 0.9, nrows * 0.9))
    ax.axis("off")
    ax.imshow(canvas[..., 0] if canvas.shape[-1] == 1 else canvas, cmap=cmap, vmin=0, vmax=1,
              interpolation="nearest")
    if title:
        ax.set_title(title)
    return save(fig, path)


def _rolls_to_time_image(rolls):
    """`[n, 2, 88, 1]` two-row samples -> `[88, 2n]` (pitch up, time right)."""
    rolls = np.asarray(rolls)[..., 0]
    return rolls.reshape(-1, rolls.shape[-1]).T


def piano_roll_comparison(inputs, outputs, path, title="reconstructions", threshold=0.5):
    """Input rolls above their reconstructions (raw and thresholded), pitch against time."""
    panels = [
        ("input", _rolls_to_time_image(inputs)),
        ("reconstruction", _rolls_to_time_image(outputs)),
        (f"reconstruction > {threshold}", (_rolls_to_time_image(outputs) > threshold).astype(np.float32)),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 7), sharex=True)
    n_keys = panels[0][1].shape[0]
    for ax, (label, img) in zip(axes, panels):
        ax.imshow(img, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=1,
                  extent=(0, img.shape[1], LOWEST_MIDI - 0.5, LOWEST_MIDI + n_keys - 0.5))
        ax.set_ylabel("MIDI pitch")
        ax.set_title(label, fontsize=9)
    axes[-1].set_xlabel("row of consecutive samples (2 rows per sample)")
    fig.suptitle(title)
    return save(fig, path)


def code_heatmap(codes, path, title="the 44-unit codes"):
    """Codes `[n, units]` as a heatmap (unit against sample) and their histogram."""
    codes = np.asarray(codes)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [3, 1]})
    im = ax0.imshow(codes.T, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1)
    ax0.set_xlabel("sample")
    ax0.set_ylabel("code unit")
    fig.colorbar(im, ax=ax0)
    ax1.hist(codes.ravel(), bins=40, color="tab:blue")
    ax1.set_xlabel("activation")
    ax1.set_ylabel("count")
    active = (codes > 0).mean()
    ax1.set_title(f"{active:.0%} non-zero", fontsize=9)
    fig.suptitle(title)
    return save(fig, path)


def weight_panels(kernels, path, title="model weights"):
    """One panel per named weight: 1-D filters as lines, matrices as heatmaps.

    Args:
        kernels: list of `(label, array)`; arrays with one non-trivial axis of taps
            (conv kernels `(1, k, c_in, c_out)`) are drawn as one line per filter,
            2-D matrices as heatmaps.
    """
    fig, axes = plt.subplots(len(kernels), 1, figsize=(12, 2.6 * len(kernels)))
    axes = np.atleast_1d(axes)
    for ax, (label, w) in zip(axes, kernels):
        w = np.asarray(w)
        if w.ndim == 4:  # conv kernel (1, k, c_in, c_out): one line per (c_in, c_out)
            taps = w.reshape(w.shape[1], -1)
            for j in range(taps.shape[1]):
                ax.plot(np.arange(taps.shape[0]) - taps.shape[0] // 2, taps[:, j], label=f"filter {j}")
            ax.axhline(0, color="gray", lw=0.5)
            ax.set_xlabel("tap offset (keys)")
            if taps.shape[1] > 1:
                ax.legend(fontsize=7)
        else:
            lim = float(np.abs(w).max()) or 1.0
            im = ax.imshow(w.T, aspect="auto", origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_xlabel("input unit")
            ax.set_ylabel("output unit")
            fig.colorbar(im, ax=ax)
        ax.set_title(f"{label} {tuple(w.shape)}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def confusion_matrix(confusion, path, xlabel="predicted class", ylabel="true class"):
    """A confusion matrix `[k, k]` of counts as a heatmap, each non-zero cell labelled.

    Rows are what was asked for or true (`ylabel`), columns what was found (`xlabel`).
    """
    confusion = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(confusion, cmap="Blues")
    for (i, j), v in np.ndenumerate(confusion):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                    color="white" if v > confusion.max() / 2 else "black")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticks(range(confusion.shape[1]))
    ax.set_yticks(range(confusion.shape[0]))
    fig.colorbar(im, ax=ax)
    return save(fig, path)
