"""`spectral_normalize(D)`: a copy of any functional discriminator with spectral normalisation (S11).

Miyato et al. 2018 normalise every weight layer of D so that D is (roughly) 1-Lipschitz
layer by layer. `spectral_normalize` clones a functional or Sequential model and wraps
each Dense / ConvND / ConvNDTranspose layer in `keras_gen.layers.SpectralNorm`; other
layers (activations, normalisation, reshapes) are cloned unchanged and nested
functional models are handled recursively. Each wrapper takes the name of the layer it
wraps, so layer names (e.g. a `feature_layer`) stay valid, and the copy starts from the
original's weights.
"""
import keras
from keras.src.models.functional import Functional  # no public name for "a graph model"

from keras_gen.errors import KerasGenError
from keras_gen.layers.spectral_norm import SpectralNorm, supports_spectral_norm


def _is_graph_model(model):
    return isinstance(model, (keras.Sequential, Functional))


def spectral_normalize(model, power_iterations=1, name=None):
    """A copy of `model` whose Dense/Conv layers compute with W / sigma(W).

    Args:
        model: a functional or Sequential Keras model (e.g. a discriminator built by
            `mlp_discriminator` or `dcgan_discriminator`); it is not modified.
        power_iterations: power-iteration steps per training call of each wrapper.
        name: name of the copy (default: the original's).

    Returns:
        A new model of the same inputs, outputs and layer names, the supported layers
        wrapped in `SpectralNorm` and initialised with the original's weights.

    Raises:
        KerasGenError: `model` is not a functional or Sequential model.
    """
    if not _is_graph_model(model):
        raise KerasGenError(
            f"spectral_normalize needs a functional or Sequential model, got {type(model).__name__}"
        )

    def clone(layer):
        if _is_graph_model(layer):
            return spectral_normalize(layer, power_iterations)
        fresh = layer.__class__.from_config(layer.get_config())
        if supports_spectral_norm(layer):
            return SpectralNorm(fresh, power_iterations=power_iterations, name=layer.name)
        return fresh

    copy = keras.models.clone_model(model, clone_function=clone)
    for original in model.layers:
        if not original.weights or _is_graph_model(original):
            continue  # inputs and weightless layers; nested models copied their own weights
        new = copy.get_layer(original.name)
        target = new.layer if isinstance(new, SpectralNorm) and not isinstance(original, SpectralNorm) else new
        target.set_weights(original.get_weights())
    if name is not None:
        copy.name = name
    return copy
