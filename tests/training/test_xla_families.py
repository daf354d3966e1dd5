"""XLA (`jit_compile=True`, what the reproductions use on one replica; see
`keras_gen.training.jit_compile_for`): the train step of every model family, and of the
GAN-tricks discriminator (spectral normalisation, feature matching), compiles and trains.

The reproductions' smoke tests run with `KERAS_GEN_XLA=off` (tests/conftest.py: compiling
each short run's train step cost about half of their CPU time); this file and the
group-meeting autoencoder's tests keep the XLA path itself under test. XLA draws other
numbers than plain TensorFlow from the same stateless seeds, so only the noise-free
autoencoder can be compared with a plain run weight for weight."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.training import jit_compile_for, xla_enabled
from tests.distributed import families

KINDS = (*families.KINDS, "gan_tricks")
# In the default run: one of each kind of train step (S1, the DCGAN pair with R1, the
# critic with a gradient penalty, InfoGAN's conditioned generator and heads, the VAE and
# CVAE samplers, GMMN, the RBM's Gibbs chain, spectral normalisation with feature
# matching). CGAN and ACGAN take InfoGAN's conditioned path and WGAN with clipping the
# DCGAN pair's; BiGAN (an encoder beside G) and AAE (three optimizers) are built from the
# same kinds of layers and ops. Those five compiles (~95 s of a default run on 2 cores,
# which must stay under 20 minutes) run with `pytest -m extended`.
EXTENDED = ("cgan", "acgan", "wgan_clip", "bigan", "aae")


def _build(kind):
    if kind != "gan_tricks":
        return families.build(kind)
    from keras_gen import models as m
    from reproductions.gan_tricks_ablation import _last_hidden

    keras.utils.set_random_seed(5)
    d = m.spectral_normalize(m.dcgan_discriminator(width=4))
    model = m.GAN(m.dcgan_generator(latent_dim=4, width=4), d, generator_loss="feature_matching",
                  feature_layer=_last_hidden(d), seed=11)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-2))
    return model


def _train(kind, jit):
    model = _build(kind)
    model.jit_compile = jit
    assert model.jit_compile is jit, f"Keras refused jit_compile={jit} for {kind}"
    data = families.data("dcgan_r1" if kind == "gan_tricks" else kind)
    model.fit(tf.data.Dataset.from_tensor_slices(data).batch(8), epochs=1, verbose=0)
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.extended) if k in EXTENDED else k for k in KINDS])
def test_xla_train_step_compiles_and_trains(kind):
    start = [np.asarray(w) for w in _build(kind).get_weights()]
    xla = _train(kind, True)
    assert len(xla) == len(start) and all(np.all(np.isfinite(w)) for w in xla), kind
    moved = max(float(np.max(np.abs(w - s))) for w, s in zip(xla, start))
    assert moved > 1e-3, f"{kind}: three steps did not change the weights"
    if kind == "ae":
        for i, (w, p) in enumerate(zip(xla, _train(kind, False))):
            np.testing.assert_allclose(w, p, rtol=1e-4, atol=1e-6, err_msg=f"weight {i}")


def test_the_environment_switch(monkeypatch):
    strategy = tf.distribute.get_strategy()
    for value, expected in (("on", True), ("1", True), ("off", False), ("FALSE", False)):
        monkeypatch.setenv("KERAS_GEN_XLA", value)
        assert xla_enabled() is expected and jit_compile_for(strategy) is expected
    monkeypatch.delenv("KERAS_GEN_XLA")
    assert xla_enabled() is True  # the default: XLA on one replica
    monkeypatch.setenv("KERAS_GEN_XLA", "maybe")
    with pytest.raises(Exception, match="KERAS_GEN_XLA must be 'on' or 'off', got 'maybe'"):
        xla_enabled()
