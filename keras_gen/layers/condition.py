"""Feeding a condition vector to a convolutional network (CGAN, S7)."""
import keras


@keras.saving.register_keras_serializable(package="keras_gen")
class TileCondition(keras.layers.Layer):
    """Repeats a condition `y` `[batch, k]` over a `height x width` map: `[batch, h, w, k]`.

    Concatenated to an image's channels, every convolution of a discriminator then sees
    the label at every position (the usual way to condition a convolutional D on y).
    Nothing is learned; a copy, not an interpolation.

    Args:
        height, width: size of the map.
    """

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)

    def call(self, y):
        y = keras.ops.expand_dims(keras.ops.expand_dims(y, 1), 1)
        return keras.ops.tile(y, [1, self.height, self.width, 1])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width)
        return config
