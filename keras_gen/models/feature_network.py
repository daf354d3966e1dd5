"""The sub-network of a discriminator up to one named layer (for feature matching, S11).

`feature_network(D, "hidden1")` is `keras.Model(D.input, D.get_layer("hidden1").output)`:
it shares D's layers and weights (no copy), takes whatever D takes (one input, or
several such as `[x, y]` for a conditional D), and outputs that layer's activations.
"""
import keras

from keras_gen.errors import KerasGenError

# How many valid names an error message lists.
_SHOWN_NAMES = 12


def feature_layer_names(discriminator):
    """Names of D's layers that can serve as a feature layer (all but its inputs), in order."""
    return [layer.name for layer in discriminator.layers if not isinstance(layer, keras.layers.InputLayer)]


def feature_network(discriminator, layer_name):
    """`x -> f(x)`, D's activations at the layer `layer_name` (weights shared with D).

    Raises:
        KerasGenError: D is not a functional model, or has no (non-input) layer of that
            name (the message lists valid names), or that layer has several outputs.
    """
    if not isinstance(discriminator, keras.Model) or not getattr(discriminator, "inputs", None):
        raise KerasGenError("feature matching needs a functional (or Sequential) discriminator with known inputs")
    names = feature_layer_names(discriminator)
    if layer_name not in names:
        shown = ", ".join(names[:_SHOWN_NAMES]) + (", ..." if len(names) > _SHOWN_NAMES else "")
        raise KerasGenError(
            f"feature_layer {layer_name!r} is not a layer of discriminator {discriminator.name!r}; "
            f"layers: {shown}"
        )
    output = discriminator.get_layer(layer_name).output
    if isinstance(output, (list, tuple)):
        raise KerasGenError(f"feature_layer {layer_name!r} has several outputs; choose a layer with one")
    # `D.input` keeps D's input structure (a tensor, a list or a dict), so the feature
    # network is called exactly like D.
    return keras.Model(discriminator.input, output, name=f"{discriminator.name}_features_{layer_name}")
