"""Spectral normalisation of a layer's kernel (Miyato et al. 2018), S11.

Reference: Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for
Generative Adversarial Networks" (Algorithm 1).

The wrapped layer computes with `W_SN = W / sigma(W)` instead of its kernel W, where
sigma(W) is W's largest singular value, estimated by power iteration on a persistent,
non-trainable vector u (one iteration per training call is enough because W changes
slowly). The kernel is viewed as a matrix with one column per output unit:

    Dense          [in, out]                     -> [in, out]
    ConvND         [k.., in, out]                -> [k.. * in, out]
    ConvNDTranspose [k.., out, in]               -> [k.. * in, out]  (out axis moved last)

    training call:  v <- normalize(M u);  u <- normalize(M^T v)   (power_iterations times)
                    sigma = v^T M u       (u, v held constant: d sigma / d M = v u^T)
    inference call: v  = normalize(M u);  sigma = v^T M u  (u not updated)

Gradients flow through W / sigma(W) (Miyato et al., eq. 12), and the stored kernel W is
never overwritten. Why not `keras.layers.SpectralNormalization`: in training mode Keras 3
assigns W / sigma back into the kernel variable and differentiates the layer output with
respect to that stored kernel only, so the d sigma / d W term of the paper's gradient is
missing, the optimizer's state (Adam moments) refers to a kernel that is rescaled under
it at every call, every training-mode call writes the discriminator's weights (also in
the generator's step), and after the last update the kernel used at inference is no
longer normalised.

Distribution: u is updated identically on every replica (same W, same u), with "mean"
aggregation, so its mirrored copies stay equal; N replicas then compute exactly what
one replica computes.
"""
import keras
from keras import ops

from keras_gen.errors import KerasGenError

_DENSE = (keras.layers.Dense,)
_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_CONV_TRANSPOSE = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)


def supports_spectral_norm(layer):
    """Whether `SpectralNorm` can wrap `layer`: Dense, ConvND (not causal), ConvNDTranspose."""
    if isinstance(layer, _CONV) and layer.padding == "causal":
        return False
    return isinstance(layer, _DENSE + _CONV + _CONV_TRANSPOSE)


def kernel_matrix(kernel, transpose_conv=False):
    """The kernel as a matrix `[fan_in, out]`: one column per output unit (see module doc)."""
    if transpose_conv:
        rank = len(kernel.shape)
        perm = list(range(rank - 2)) + [rank - 1, rank - 2]
        kernel = ops.transpose(kernel, perm)
    return ops.reshape(kernel, (-1, kernel.shape[-1]))


def _normalize(x, epsilon):
    return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x))), epsilon)


def power_iteration(matrix, u, iterations, epsilon=1e-12):
    """`(u, sigma)`: `iterations` power-iteration steps from u and the estimate of sigma_max.

    Formula (M of shape [m, n], u in R^n):
        repeat: v = M u / ||M u||;  u = M^T v / ||M^T v||
        finally v = M u / ||M u|| if iterations == 0;   sigma = v^T M u

    u and v are held constant for gradients, so `d sigma / d M = v u^T`.
    """
    v = None
    for _ in range(int(iterations)):
        v = _normalize(ops.matmul(matrix, u), epsilon)
        u = _normalize(ops.matmul(ops.transpose(matrix), v), epsilon)
    if v is None:
        v = _normalize(ops.matmul(matrix, u), epsilon)
    u, v = ops.stop_gradient(u), ops.stop_gradient(v)
    sigma = ops.sum(v * ops.matmul(matrix, u))
    return u, sigma


@keras.saving.register_keras_serializable(package="keras_gen")
class SpectralNorm(keras.layers.Wrapper):
    """Wraps a Dense / ConvND / ConvNDTranspose layer so it computes with W / sigma(W).

    Args:
        layer: the layer to wrap (its kernel, bias, activation and conv arguments are
            used as they are; LoRA or quantised layers are not supported).
        power_iterations: power-iteration steps per training call (1 in the paper).
        epsilon: guards the normalisation of u and v against a zero kernel.
        **kwargs: `keras.layers.Layer` arguments (`name`, ...).

    Weights: the wrapped layer's (kernel W, bias) and the non-trainable `u` ([out]).
    """

    def __init__(self, layer, power_iterations=1, epsilon=1e-12, **kwargs):
        if not isinstance(layer, keras.layers.Layer) or not supports_spectral_norm(layer):
            raise KerasGenError(
                "SpectralNorm wraps Dense, ConvND (not causal) or ConvNDTranspose layers, "
                f"got {type(layer).__name__} {getattr(layer, 'name', '')!r}"
            )
        if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
            raise KerasGenError(f"SpectralNorm cannot wrap LoRA-enabled or quantised layer {layer.name!r}")
        if int(power_iterations) < 1:
            raise KerasGenError(f"power_iterations must be >= 1, got {power_iterations}")
        super().__init__(layer, **kwargs)
        self.power_iterations = int(power_iterations)
        self.epsilon = float(epsilon)
        self._transpose_conv = isinstance(layer, _CONV_TRANSPOSE)

    def build(self, input_shape):
        super().build(input_shape)
        units = self.layer.kernel.shape[-2 if self._transpose_conv else -1]
        self.u = self.add_weight(
            shape=(units,),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            trainable=False,
            aggregation="mean",
            name="u",
        )
        self.built = True

    def sigma(self, training=False):
        """The current estimate of W's largest singular value (updates u when training)."""
        matrix = kernel_matrix(self.layer.kernel, self._transpose_conv)
        u, sigma = power_iteration(
            matrix, ops.cast(self.u, matrix.dtype), self.power_iterations if training else 0, self.epsilon
        )
        if training:
            self.u.assign(ops.cast(u, self.u.dtype))
        return sigma

    def normalized_kernel(self, training=False):
        """W / sigma(W), shaped like the wrapped layer's kernel."""
        return self.layer.kernel / self.sigma(training)

    def call(self, inputs, training=False):
        kernel = ops.cast(self.normalized_kernel(training), self.layer.compute_dtype)
        layer = self.layer
        if isinstance(layer, _DENSE):
            outputs = ops.matmul(inputs, kernel)
        elif self._transpose_conv:
            outputs = ops.conv_transpose(
                inputs, kernel, strides=list(layer.strides), padding=layer.padding,
                output_padding=layer.output_padding, dilation_rate=layer.dilation_rate,
                data_format=layer.data_format,
            )
        else:
            outputs = layer.convolution_op(inputs, kernel)
        if layer.use_bias:
            if isinstance(layer, _DENSE) or layer.data_format == "channels_last":
                outputs = ops.add(outputs, layer.bias)
            else:
                outputs = ops.add(outputs, ops.reshape(layer.bias, (1, -1) + (1,) * layer.rank))
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(power_iterations=self.power_iterations, epsilon=self.epsilon)
        return config
