"""Callbacks for generative models: a grid of samples every N epochs."""
import os

import keras


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of `model.generate(n, seed=seed)` every `every` epochs.

    The same seed is used at every epoch, so the grids show how the same latents evolve.
    Files: `<directory>/<prefix>_epoch<NNNN>.png` (epochs counted from 1); also after the
    last epoch if it is not a multiple of `every`.

    Args:
        directory: output folder (created).
        every: period in epochs.
        n: number of samples (a multiple of `ncols` fills the grid).
        ncols: images per row.
        seed: seed of the latents.
        value_range: range of the generator's outputs ((-1, 1) for tanh generators).
        prefix: file name prefix.
        plot_fn: `plot_fn(samples, path)` instead of the image grid (e.g. piano rolls).
        generate_kwargs: more arguments of `model.generate` (e.g. `labels=` for a CGAN,
            `codes=` for an InfoGAN).
        log_dir: a TensorBoard log folder: every grid written is also logged there as
            an image summary named `prefix` at its epoch, so `tensorboard --logdir`
            shows how the samples evolve (None: PNG files only).
    """

    def __init__(self, directory, every=1, n=100, ncols=10, seed=0, value_range=(-1.0, 1.0), prefix="samples",
                 plot_fn=None, generate_kwargs=None, log_dir=None):
        super().__init__()
        from keras_gen.errors import KerasGenError

        if int(every) < 1 or int(n) < 1:
            raise KerasGenError(f"SampleGrid needs every >= 1 and n >= 1, got every={every}, n={n}")
        self.directory = directory
        self.every = int(every)
        self.n = int(n)
        self.ncols = int(ncols)
        self.seed = int(seed)
        self.value_range = tuple(value_range)
        self.prefix = prefix
        self.plot_fn = plot_fn
        self.generate_kwargs = dict(generate_kwargs or {})
        self.log_dir = log_dir
        self._writer = None
        self.paths = []
        self._last_written = None
        self._epochs = None

    def on_train_begin(self, logs=None):
        self._epochs = self.params.get("epochs") if self.params else None

    def _write(self, epoch):
        from keras_gen import plots

        samples = self.model.generate(self.n, seed=self.seed, **self.generate_kwargs)
        path = os.path.join(self.directory, f"{self.prefix}_epoch{epoch:04d}.png")
        if self.plot_fn is not None:
            self.plot_fn(samples, path)
        else:
            plots.sample_grid(samples, path, ncols=self.ncols, title=f"epoch {epoch}", value_range=self.value_range)
        self.paths.append(path)
        self._last_written = epoch
        if self.log_dir:
            self._log_image(path, epoch)

    def _log_image(self, path, epoch):
        """The PNG just written, as a TensorBoard image summary at step `epoch`."""
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "samples"))
        image = tf.io.decode_png(tf.io.read_file(path), channels=3)
        with self._writer.as_default():
            tf.summary.image(self.prefix, image[None], step=epoch)
        self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        epoch += 1
        if epoch % self.every == 0 or (self._epochs is not None and epoch == self._epochs):
            self._write(epoch)
