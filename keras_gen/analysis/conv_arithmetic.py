"""Convolution arithmetic (notes 001, CNN chapter; notes 002, lecture 8): output size,
parameters, multiply-adds and receptive field, for one layer and for any Keras model.

Formulas, per spatial axis e (notes 001; `k` the kernel size, `s` the stride, `p` the
padding on each side, `d` the dilation, `g` the groups):

    output size      l_o = floor((l_i + 2p - k_eff) / s) + 1,     k_eff = d (k - 1) + 1
    parameters       c_in c_out k_w k_h / g  (+ c_out biases)
    multiply-adds    c_in c_out l_w l_h k_w k_h / (s_w s_h g)     (l = the input size)
    receptive field  R_i = R_{i-1} + (k_i - 1) prod_{j<i} s_j,    R_0 = 1
                     (the notes clip it to the input: min(R_i, L); we report it unclipped,
                     as Araujo et al. do, and say so)

and for the variants of the notes:

* grouped convolution (AlexNet): parameters and multiply-adds divided by g; depthwise
  convolution is g = c_in (times a depth multiplier); separable = depthwise + 1x1.
* transposed convolution: s - 1 zeros between the inputs and k - p - 1 at the edges,
  then a stride-1 convolution: l_o = (l_i - 1) s + k_eff - 2p (+ output padding). Every
  input position meets every kernel tap, so it costs c_in c_out l_w l_h k_w k_h.
  In the receptive-field recursion it divides the jump by s instead of multiplying:
  J_i = J_{i-1} / s, and the window grows by (k_eff - 1) J_i; R = floor(W) + 1. After
  a transposed convolution or an upsampling the receptive field differs from position
  to position (some outputs read one input, others two), and this recursion is only an
  upper bound of the largest (by one pixel in the networks of the tests); the exact walk
  below gives the largest itself.
* dilated convolution: k -> k_eff = d (k - 1) + 1 everywhere; it grows the receptive
  field at the parameters of a k x k kernel.
* pooling: the same output-size and receptive-field formulas, no parameters.

References: Dumoulin & Visin 2016, "A guide to convolution arithmetic for deep
learning"; Araujo, Norris & Sim 2019, "Computing Receptive Fields of Convolutional
Neural Networks", Distill (the published receptive fields: VGG16 212, ResNet50 483,
MobileNet 315, InceptionV3 1311).

Applied to a model (`analyze(model)`), the layer graph of a functional, `Sequential` or
nested model is walked in topological order and, for every layer call,

* the output shape is computed by the formulas above (Keras's own shape is kept beside
  it, `output_shape` vs `keras_output_shape`);
* parameters by the formulas (Conv, ConvTranspose, Depthwise, Separable, Dense,
  BatchNormalization, LayerNormalization, Embedding); layers with weights of another
  kind fall back to `layer.count_params()` and are listed in `fallback_params`;
* multiply-adds of the weight layers (convolutions and dense layers, counted per output
  position, so a 'valid' or odd-sized map is counted exactly); element-wise layers
  (normalisation, activations, additions, pooling) count 0, as the papers count;
* the receptive field two ways, per spatial axis:
  - `receptive_field_formula`: the notes' recursion, the maximum over paths where
    branches merge (Araujo et al.'s definition for multi-path networks);
  - `receptive_field`: exact. For every output position o the interval [lo(o), hi(o)]
    of input pixels it depends on is carried through the graph (a convolution maps o to
    the input positions o s - p_left .. o s - p_left + k_eff - 1; a merge takes the
    union (hull) of its branches' intervals), and the size is max_o hi(o) - lo(o) + 1.
    Positions beyond the image (padding) are treated as if the image went on, so the
    value is the theoretical, unclipped receptive field (equal to the recursion for
    networks of convolutions and poolings, checked on the four networks above);
    `receptive_field_in_image` is the same walk with padding reading nothing: the
    pixels that can actually reach a position (what input gradients measure,
    `empirical_receptive_field`; the notes' min(R, L) is a bound of it).

How 'same' padding is treated: padding never changes the *size* of a receptive field
(the recursion has no p), only its *position*. The exact walk uses TensorFlow's actual
'same' padding, p_left = floor(p_total / 2) with p_total = max((ceil(l/s) - 1) s + k_eff
- l, 0) (one more pixel on the right or bottom when p_total is odd, e.g. a stride-2
3x3 convolution on an even map pads 0 on the left and 1 on the right), and the explicit
`ZeroPadding2D` layers of `keras.applications`. Positions matter where branches merge:
a hull of two offset windows is larger than either.

Spatial layers this module knows: Conv1D/2D/3D (groups, dilation, 'valid', 'same',
'causal'), their Transpose versions, DepthwiseConv, SeparableConv, Max/AveragePooling,
ZeroPadding, Cropping, UpSampling (nearest, bilinear), global pooling, Flatten (these
two collapse the map: everything after them sees the whole input). Any other layer that
keeps the spatial shape is taken as acting position by position and listed in
`assumed_pointwise` (activations, normalisation, dropout, merges are known to be so and
not listed).
"""
import dataclasses
import math
from fractions import Fraction

import numpy as np

from keras_gen.errors import KerasGenError


# ---------------------------------------------------------------- one layer, the notes' formulas
def _k_eff(kernel_size, dilation=1):
    return dilation * (kernel_size - 1) + 1


def same_padding(length, kernel_size, stride=1, dilation=1):
    """TensorFlow's 'same' padding `(left, right)` of one axis.

    Formula: `p_total = max((ceil(l / s) - 1) s + k_eff - l, 0)`, `left = floor(p_total / 2)`,
    `right = p_total - left` (the odd pixel goes to the right).
    """
    k = _k_eff(kernel_size, dilation)
    out = -(-length // stride)
    total = max((out - 1) * stride + k - length, 0)
    return total // 2, total - total // 2


def _padding_pair(padding, length, kernel_size, stride, dilation):
    if isinstance(padding, str):
        padding = padding.lower()
        if padding == "valid":
            return 0, 0
        if padding == "same":
            return same_padding(length, kernel_size, stride, dilation)
        if padding == "causal":
            return _k_eff(kernel_size, dilation) - 1, 0
        raise KerasGenError(f"unknown padding {padding!r}; choose one of: causal, same, valid, or an int")
    if isinstance(padding, (tuple, list)):
        left, right = padding
        return int(left), int(right)
    return int(padding), int(padding)


def conv_output_length(length, kernel_size, stride=1, padding=0, dilation=1):
    """Output size of a convolution or pooling along one axis (notes 001).

    Formula: `l_o = floor((l_i + 2p - k_eff) / s) + 1` with `k_eff = d (k - 1) + 1`.

    `padding` is `p` (the same on both sides, as in the notes), a pair `(left, right)`
    (then `2p` is `left + right`), or Keras's 'valid' (p = 0), 'same' (TensorFlow's
    padding, see `same_padding`; gives `ceil(l / s)`) or 'causal' (`k_eff - 1` on the left).
    """
    left, right = _padding_pair(padding, length, kernel_size, stride, dilation)
    return (length + left + right - _k_eff(kernel_size, dilation)) // stride + 1


def conv_transpose_output_length(length, kernel_size, stride=1, padding=0, output_padding=None, dilation=1):
    """Output size of a transposed convolution along one axis (notes 001).

    Formula (the notes: s - 1 zeros between inputs, k - p - 1 at each edge, then a
    stride-1 convolution): `l_o = (l_i - 1) s + k_eff - 2p + output_padding`.

    `padding` is `p`, or Keras's 'valid' (p = 0; without `output_padding` Keras adds
    `max(s - k_eff, 0)` so that every input's stride is covered) or 'same' (the inverse
    of a 'same' convolution: `l_i s` without `output_padding`).
    """
    k = _k_eff(kernel_size, dilation)
    if isinstance(padding, str) and padding.lower() == "same":
        if output_padding is None:
            return length * stride
        # Keras: (l - 1) s + k % 2 + output_padding (TensorFlow pads the forward 'same' conv)
        return (length - 1) * stride + k % 2 + output_padding
    if isinstance(padding, str) and padding.lower() == "valid":
        p = 0
        if output_padding is None:
            output_padding = max(k, stride) - k
    else:
        p = int(padding)
        output_padding = output_padding or 0
    return (length - 1) * stride + k - 2 * p + output_padding


def conv_params(c_in, c_out, kernel_size, groups=1, bias=True):
    """Parameters of a (grouped) convolution (notes 001).

    Formula: `c_in c_out k_w k_h / g + c_out` (the bias term only with `bias`).
    `kernel_size` is an int (a square k x k kernel) or a tuple of the kernel's spatial
    sizes (k_h, k_w, ...; `(k,)` for a 1-D kernel).
    """
    if c_in % groups or c_out % groups:
        raise KerasGenError(f"groups={groups} must divide c_in={c_in} and c_out={c_out}")
    k = int(np.prod(kernel_size)) if isinstance(kernel_size, (tuple, list)) else int(kernel_size) ** 2
    return c_in * c_out * k // groups + (c_out if bias else 0)


def conv_macs(c_in, c_out, input_size, kernel_size, strides=1, groups=1):
    """Multiply-adds of a (grouped) convolution, the notes' count (notes 001).

    Formula: `c_in c_out l_w l_h k_w k_h / (s_w s_h g)`, with `l` the *input* size: the
    number of output positions of a 'same' convolution times `c_in k_w k_h / g` products
    for each of the `c_out` outputs. (`analyze` counts the output positions themselves,
    which equals this when `s` divides `l` and the padding is 'same'.)
    `input_size`, `kernel_size` and `strides` are ints or tuples over the spatial axes.
    """
    n = len(input_size) if isinstance(input_size, (tuple, list)) else 2
    sizes = _tuple(input_size, n)
    kernel = _tuple(kernel_size, n)
    stride = _tuple(strides, n)
    positions = Fraction(int(np.prod(sizes)), int(np.prod(stride)))
    value = positions * c_in * c_out * int(np.prod(kernel)) / groups
    return float(value) if value.denominator != 1 else int(value)


def receptive_field_chain(kernel_sizes, strides, dilations=None, limit=None):
    """Receptive field of each layer of a chain of convolutions/poolings (notes 001).

    Formula: `R_i = min(R_{i-1} + (k_i - 1) prod_{j<i} s_j, L)`, `R_0 = 1`, with k_i the
    dilated kernel size `d (k - 1) + 1`; without `limit` (L, the input size) no clipping.
    Returns the list `[R_1, ..., R_n]`.
    """
    dilations = dilations or [1] * len(kernel_sizes)
    if not len(kernel_sizes) == len(strides) == len(dilations):
        raise KerasGenError("kernel_sizes, strides and dilations must have one entry per layer")
    r, jump, out = 1, 1, []
    for k, s, d in zip(kernel_sizes, strides, dilations):
        r = r + (_k_eff(k, d) - 1) * jump
        jump *= s
        out.append(min(r, limit) if limit else r)
    return out


def _tuple(value, n):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise KerasGenError(f"expected {n} values, got {tuple(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


# ---------------------------------------------------------------- what a layer does to one axis
class _Axis:
    """How one output position of a layer reads its input along one spatial axis.

    `taps(o)` -> the input indices output index o reads (a list, maybe empty),
    `formula(W, J)` -> the notes' recursion's (W, J) after the layer (W = R - 1, J the
    jump in input pixels, both exact fractions), or None where the recursion has no rule.
    """

    def taps(self, o):
        raise NotImplementedError

    def formula(self, w, j):
        return None


class _Identity(_Axis):
    def taps(self, o):
        return [o]

    def formula(self, w, j):
        return w, j


class _Shift(_Axis):
    """Zero padding (offset = -left) and cropping (offset = +left)."""

    def __init__(self, offset):
        self.offset = offset

    def taps(self, o):
        return [o + self.offset]

    def formula(self, w, j):
        return w, j


class _Window(_Axis):
    """Convolution or pooling: output o reads o s - p_left + t d, t = 0..k-1."""

    def __init__(self, kernel_size, stride, left, dilation=1):
        self.k, self.s, self.left, self.d = kernel_size, stride, left, dilation

    def taps(self, o):
        first = o * self.s - self.left
        return list(range(first, first + (self.k - 1) * self.d + 1, self.d))

    def formula(self, w, j):
        return w + (_k_eff(self.k, self.d) - 1) * j, j * self.s


class _TransposedWindow(_Axis):
    """Transposed convolution: input i feeds outputs i s - p_left + t d, t = 0..k-1."""

    def __init__(self, kernel_size, stride, left, dilation=1):
        self.k, self.s, self.left, self.d = kernel_size, stride, left, dilation

    def taps(self, o):
        return [(o + self.left - t * self.d) // self.s for t in range(self.k)
                if (o + self.left - t * self.d) % self.s == 0]

    def formula(self, w, j):
        j = j / self.s
        return w + (_k_eff(self.k, self.d) - 1) * j, j


class _Upsample(_Axis):
    """UpSampling by `size`: nearest copies input o // size; bilinear (half-pixel centres,
    as `tf.image.resize`) reads the two inputs around (o + 1/2) / size - 1/2."""

    def __init__(self, size, interpolation):
        self.f, self.interpolation = size, interpolation

    def taps(self, o):
        if self.interpolation == "nearest":
            return [o // self.f]
        x = Fraction(2 * o + 1 - self.f, 2 * self.f)
        lo = math.floor(x)
        return [lo] if x == lo else [lo, lo + 1]  # the second weight is 0 on a pixel centre

    def formula(self, w, j):
        if self.interpolation != "nearest":
            return None
        return _TransposedWindow(self.f, self.f, 0).formula(w, j)


# ---------------------------------------------------------------- the walk
@dataclasses.dataclass
class LayerArithmetic:
    """One call of one layer: shapes, parameters, multiply-adds, receptive field.

    `receptive_field` (exact) and `receptive_field_formula` (the notes' recursion, max
    over paths) are tuples over the spatial axes (height, width, ...) in input pixels;
    `receptive_field_global` says the output depends on the whole input (after a global
    pooling, Flatten or Dense over the flattened map); `jump` is the distance in input
    pixels between neighbouring output positions. `params` is None on a layer's second
    and later calls (shared weights count once). `shape_by_formula` is False where the
    output shape is Keras's own (layers that do not change the map, or unknown ones);
    `unknown_spatial` marks a layer of unknown kind that changes the map: its output is
    then taken to depend on the whole input.
    """

    name: str
    class_name: str
    output_shape: tuple
    keras_output_shape: tuple
    params: int = 0
    keras_params: int = 0
    params_by_formula: bool = True
    macs: int = 0
    receptive_field: tuple = None
    receptive_field_formula: tuple = None
    receptive_field_in_image: tuple = None
    receptive_field_global: bool = False
    jump: tuple = None
    shape_by_formula: bool = True
    assumed_pointwise: bool = False
    unknown_spatial: bool = False

    def as_dict(self):
        d = dataclasses.asdict(self)
        for key in ("output_shape", "keras_output_shape", "receptive_field", "receptive_field_formula",
                    "receptive_field_in_image", "jump"):
            if d[key] is not None:
                d[key] = list(d[key])
        return d


@dataclasses.dataclass
class ModelArithmetic:
    """`analyze(model)`'s answer: one `LayerArithmetic` per layer call, and totals.

    * `params`: parameters by the formulas (plus `count_params()` of any fallback layer,
      named in `fallback_params`); `keras_params`: `model.count_params()`.
    * `macs`: multiply-adds of one example's forward pass (weight layers only).
    * `receptive_field`, `receptive_field_formula`: at `receptive_field_layer`, the last
      layer whose output still has a spatial map (the feature map before global pooling
      or flattening), the exact and the recursion's value per axis.
    * `shape_mismatches`: layers whose formula output shape differs from Keras's (empty
      when the formulas hold).
    * `assumed_pointwise`, `unknown_spatial`: layers of kinds this module does not know
      (see the module docstring), by name.
    """

    name: str
    layers: list
    params: int
    keras_params: int
    macs: int
    receptive_field: tuple
    receptive_field_formula: tuple
    receptive_field_layer: str
    fallback_params: list
    assumed_pointwise: list
    unknown_spatial: list
    shape_mismatches: list

    def layer(self, name):
        """The row of the layer called `name` (its first call)."""
        for row in self.layers:
            if row.name == name:
                return row
        raise KerasGenError(f"no layer named {name!r} in {self.name}")

    def as_dict(self):
        d = dataclasses.asdict(self)
        d["layers"] = [row.as_dict() for row in self.layers]
        return d

    def table(self, every=1):
        """A text table: layer, output shape, parameters, multiply-adds, receptive field."""
        lines = [f"{'layer':<28}{'class':<22}{'output':<20}{'params':>12}{'MACs':>16}{'RF':>12}{'RF formula':>12}"]
        for i, row in enumerate(self.layers):
            if i % every and i != len(self.layers) - 1:
                continue
            rf = "global" if row.receptive_field_global else _fmt_axes(row.receptive_field)
            rff = "global" if row.receptive_field_global else _fmt_axes(row.receptive_field_formula)
            lines.append(f"{row.name[:27]:<28}{row.class_name[:21]:<22}{str(row.output_shape)[:19]:<20}"
                         f"{row.params if row.params is not None else '-':>12}{row.macs:>16,}{rf:>12}{rff:>12}")
        lines.append(f"total: {self.params:,} parameters (Keras: {self.keras_params:,}), {self.macs:,} multiply-adds, "
                     f"receptive field {_fmt_axes(self.receptive_field)} at {self.receptive_field_layer}")
        return "\n".join(lines)


def _fmt_axes(values):
    if values is None:
        return "-"
    if len(set(values)) == 1:
        return str(values[0])
    return "x".join(str(v) for v in values)


_EMPTY_LO, _EMPTY_HI = np.iinfo(np.int64).max // 4, np.iinfo(np.int64).min // 4  # "reads no pixel"


def _widest(lo, hi):
    """max over positions of hi - lo + 1, over the positions that read any pixel (0 if none)."""
    ok = lo <= hi
    return int((hi[ok] - lo[ok]).max()) + 1 if ok.any() else 0


class _Tensor:
    """What the walk knows about one symbolic tensor.

    `spatial`: the spatial sizes (None when the tensor has no spatial axes); `collapsed`:
    every position depends on the whole input (after a global pooling or Flatten, also
    when the 1 x 1 map is kept); `parents`: the (per-axis ops, parent) pairs a position
    reads (several for a merge); `formula`: per axis the recursion's (W, J); `need`,
    `lo`, `hi`: the exact walk's index ranges and intervals.
    """

    def __init__(self, shape, spatial, channels, collapsed=False):
        self.shape = tuple(shape)
        self.spatial = None if spatial is None else tuple(int(s) for s in spatial)
        self.channels = channels
        self.collapsed = collapsed
        self.parents = []
        self.sources = []  # the tensors the layer call read
        self.formula = None
        self.need = self.lo = self.hi = self.lo_in = self.hi_in = None
        self.is_input = False

    @property
    def has_map(self):
        """A spatial map with a receptive field of its own (not collapsed)."""
        return self.spatial is not None and not self.collapsed


_POINTWISE = (
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "Rescaling", "Normalization", "Identity", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dense", "ActivityRegularization", "Masking",
)
_WINDOWS = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
            "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D")
_TRANSPOSED = ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_SHIFTS = ("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D")
_UPSAMPLING = ("UpSampling1D", "UpSampling2D", "UpSampling3D")
_GLOBAL = ("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "GlobalMaxPooling3D", "Flatten")


def analyze(model):
    """Walks `model`'s layer graph and returns its `ModelArithmetic` (see the module docstring).

    Works on functional and `Sequential` models (nested ones too) whose inputs have a
    fixed spatial size, in either data format.

    Raises:
        KerasGenError: a subclassed model (no layer graph), or an input whose spatial
            size is not fixed (the exact walk and the output sizes need it).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise KerasGenError(f"analyze needs a Keras model, got {type(model).__name__}")
    walker = _Walker(model)
    outputs = walker.walk_model(model, None, prefix="")
    walker.exact_receptive_fields()
    rows = walker.rows
    last = walker.last_map(outputs)
    return ModelArithmetic(
        name=model.name,
        layers=rows,
        params=int(sum(r.params or 0 for r in rows)),
        keras_params=int(model.count_params()),
        macs=int(sum(r.macs for r in rows)),
        receptive_field=last.receptive_field if last else None,
        receptive_field_formula=last.receptive_field_formula if last else None,
        receptive_field_layer=last.name if last else None,
        fallback_params=[r.name for r in rows if not r.params_by_formula],
        assumed_pointwise=[r.name for r in rows if r.assumed_pointwise],
        unknown_spatial=[r.name for r in rows if r.unknown_spatial],
        shape_mismatches=[(r.name, r.output_shape, r.keras_output_shape) for r in rows
                          if tuple(r.output_shape) != tuple(r.keras_output_shape)],
    )


def count_params(model):
    """Parameters of `model` by the notes' formulas, layer by layer (see `analyze`)."""
    return analyze(model).params


def count_macs(model):
    """Multiply-adds of one example's forward pass through `model` (see `analyze`)."""
    return analyze(model).macs


def receptive_field(model):
    """The exact receptive field (per spatial axis) of `model`'s last feature map (see `analyze`)."""
    return analyze(model).receptive_field


def positions_receptive_field(model, layer_name, axis=0, in_image=False):
    """Per position of `layer_name`'s output along spatial `axis` (0 = height), the
    (first, last) input pixel it depends on, as the exact walk of `analyze` computes it.

    Unclipped (`in_image=False`): the theoretical interval, which may run past the image.
    In the image: the pixels that can actually reach the position when padding reads
    nothing (None for a position that reads only padding). The other spatial axes do not
    change these intervals. Returns a list with one entry per position.
    """
    walker = _Walker(model)
    walker.walk_model(model, None, prefix="")
    walker.exact_receptive_fields()
    for row, t in zip(walker.rows, walker.row_tensors):
        if row.name == layer_name:
            if not t.has_map:
                raise KerasGenError(f"{layer_name} has no spatial map of its own (it sees the whole input)")
            los, his = walker._on_map(t, in_image)
            return [(int(lo), int(hi)) if lo <= hi else None for lo, hi in zip(los[axis], his[axis])]
    raise KerasGenError(f"no layer named {layer_name!r} in {model.name}")


def empirical_receptive_field(model, layer_name, axis=0, samples=64, seed=0):
    """The receptive fields of `layer_name`'s output positions along `axis`, measured.

    For each position along spatial `axis` (the other spatial axes at their middle), the
    gradient of the sum over channels of the output there with respect to the input, for
    `samples` random normal inputs; a pixel is in the receptive field if any sample's
    gradient is non-zero there. (Max-pooling and ReLU pass gradient to part of a window
    only, so one input is not enough; the union over many finds the whole field.)

    Returns one (first, last) input pixel per position (None: no pixel), in the image by
    construction: compare with `positions_receptive_field(..., in_image=True)`.
    """
    import keras
    import tensorflow as tf

    walker = _Walker(model)
    if len(model.inputs) != 1:
        raise KerasGenError(f"{model.name} has {len(model.inputs)} inputs; the measurement needs one image input")
    probe = keras.Model(model.inputs[0], model.get_layer(layer_name).output)
    out_shape = tuple(probe.outputs[0].shape[1:])
    out_spatial = out_shape[1:] if walker.channels_first else out_shape[:-1]
    positions = out_spatial[axis]
    shape = tuple(model.inputs[0].shape[1:])
    # One batch holds `samples` inputs for every position; the examples are independent,
    # so one gradient of the sum of the selected outputs gives each example's own gradient.
    x = tf.constant(np.random.default_rng(seed).normal(size=(positions * samples,) + shape).astype("float32"))
    select = np.zeros((positions, samples) + tuple(out_spatial), dtype="float32")
    for o in range(positions):
        index = tuple(o if b == axis else size // 2 for b, size in enumerate(out_spatial))
        select[(o, slice(None)) + index] = 1.0
    select = tf.constant(select.reshape((positions * samples,) + tuple(out_spatial)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = probe(x, training=False)
        y = tf.reduce_sum(y, axis=1 if walker.channels_first else -1)  # over channels
        total = tf.reduce_sum(y * select)
    grad = np.abs(tape.gradient(total, x).numpy()).reshape((positions, samples) + shape).sum(axis=1)
    grad = grad.sum(axis=1 if walker.channels_first else -1)  # [positions, *input spatial]
    keep = tuple(b for b in range(1, grad.ndim) if b != 1 + axis)
    support = grad.sum(axis=keep) > 0  # [positions, input length along axis]
    out = []
    for row in support:
        hit = np.flatnonzero(row)
        out.append((int(hit[0]), int(hit[-1])) if len(hit) else None)
    return out


class _Walker:
    def __init__(self, model):
        import keras

        self.keras = keras
        self.rows = []
        self.row_tensors = []
        self.tensors = []  # every _Tensor, in topological order
        self.counted = set()  # layers whose parameters are counted (shared layers once)
        formats = {getattr(l, "data_format", None) for l in model._flatten_layers(include_self=False)}
        self.channels_first = "channels_first" in formats
        if self.channels_first and "channels_last" in formats:
            raise KerasGenError(f"{model.name} mixes channels_first and channels_last layers")

    def _split(self, shape):
        """(spatial sizes or None, channels) of a shape in the model's layout."""
        shape = tuple(shape)
        if len(shape) <= 2:
            return None, shape[-1] if len(shape) == 2 else None
        return (shape[2:], shape[1]) if self.channels_first else (shape[1:-1], shape[-1])

    def _join(self, batch, spatial, channels):
        spatial = tuple(spatial)
        return (batch, channels) + spatial if self.channels_first else (batch,) + spatial + (channels,)

    # === graph traversal ===
    def walk_model(self, model, inputs, prefix):
        """Walks `model`; `inputs` are the _Tensors fed to it (None: its own inputs). Returns its outputs."""
        keras = self.keras
        if isinstance(model, keras.Sequential):
            if inputs is None:
                if not model.inputs:
                    raise KerasGenError(f"{model.name}: build the Sequential model on a keras.Input first")
                inputs = [self.input_tensor(model.inputs[0].shape)]
            x = inputs[0]
            for layer in model.layers:
                if isinstance(layer, keras.layers.InputLayer):
                    continue
                x = self.call(layer, [x], tuple(layer.compute_output_shape(x.shape)), prefix)
            return [x]
        if not hasattr(model, "_nodes_by_depth"):
            raise KerasGenError(f"{model.name} is a subclassed model without a layer graph; "
                                "analyze needs a functional or Sequential model")
        known = {}
        for i, t in enumerate(model.inputs):
            known[id(t)] = inputs[i] if inputs is not None else self.input_tensor(t.shape)
        for depth in sorted(model._nodes_by_depth, reverse=True):  # inputs first, as Keras runs it
            for node in model._nodes_by_depth[depth]:
                if node.operation is None or node.is_input:
                    continue
                if any(id(t) not in known for t in node.input_tensors):
                    continue
                if len(node.outputs) != 1:
                    raise KerasGenError(f"{node.operation.name}: layers with several outputs are not supported")
                ins = [known[id(t)] for t in node.input_tensors]
                known[id(node.outputs[0])] = self.call(node.operation, ins, tuple(node.outputs[0].shape), prefix)
        return [known[id(t)] for t in model.outputs]

    def input_tensor(self, shape):
        spatial, channels = self._split(shape)
        if spatial is not None and any(s is None for s in spatial):
            raise KerasGenError(f"the model's input has an unknown spatial size {tuple(shape)}; build it on a "
                                "fixed input shape (e.g. keras.Input((224, 224, 3)))")
        t = _Tensor(shape, spatial, channels)
        t.is_input = True
        if spatial is not None:
            t.formula = [(Fraction(0), Fraction(1)) for _ in spatial]
        self.tensors.append(t)
        return t

    # === one layer call ===
    def call(self, layer, ins, keras_shape, prefix):
        if isinstance(layer, self.keras.Model):
            outs = self.walk_model(layer, ins, prefix + layer.name + "/")
            if len(outs) != 1:
                raise KerasGenError(f"{layer.name}: nested models with several outputs are not supported")
            return outs[0]
        name = prefix + layer.name
        cls = type(layer).__name__
        x = ins[0]
        row = LayerArithmetic(name=name, class_name=cls, output_shape=keras_shape, keras_output_shape=keras_shape)
        k_spatial, k_channels = self._split(keras_shape)
        collapsed = any(t.collapsed for t in ins)
        axes, macs = None, 0
        if x.spatial is None:
            # No spatial axes (after Flatten, global pooling, ...): a Dense acts on the last
            # axis; a Reshape may make a map again (a generator's first layers), which then
            # depends on the whole input everywhere.
            out = _Tensor(keras_shape, k_spatial, k_channels, collapsed=True)
            if cls == "Dense":
                row.output_shape = tuple(x.shape[:-1]) + (layer.units,)
                macs = int(np.prod(x.shape[1:-1] or (1,))) * x.shape[-1] * layer.units
            else:
                row.shape_by_formula = False
        elif cls in _GLOBAL or (cls == "Reshape" and k_spatial is None):  # a Reshape to a vector flattens
            if cls in ("Flatten", "Reshape"):
                row.output_shape = (x.shape[0], int(np.prod(x.shape[1:])))
            elif getattr(layer, "keepdims", False):
                row.output_shape = self._join(x.shape[0], (1,) * len(x.spatial), x.channels)
            else:
                row.output_shape = (x.shape[0], x.channels)
            spatial, channels = self._split(row.output_shape)
            out = _Tensor(row.output_shape, spatial, channels, collapsed=True)
        else:
            followed = self._spatial_layer(layer, cls, x, ins, k_channels, k_spatial, row)
            if followed is not None:
                spatial, channels, axes, macs = followed
                row.output_shape = self._join(x.shape[0], spatial, channels)
                out = _Tensor(row.output_shape, spatial, channels, collapsed)
            else:  # a layer that changes the map in a way this module does not know
                out = _Tensor(keras_shape, k_spatial, k_channels, collapsed=True)
        out.sources = list(ins)
        row.macs = int(macs)
        self._params(layer, cls, x, row)
        if out.has_map:
            if axes is not None:
                out.parents = [(axes, x)]
            else:  # point-wise, or a merge: each position reads the same position of every input
                out.parents = [([_Identity() for _ in out.spatial], t) for t in ins]
            out.formula = self._formula(out)
            row.receptive_field_formula = self._formula_rf(out.formula)
            row.jump = tuple(float(j) for _, j in out.formula) if out.formula else None
        else:
            row.receptive_field_global = True
        self.tensors.append(out)
        self.rows.append(row)
        self.row_tensors.append(out)
        return out

    def _spatial_layer(self, layer, cls, x, ins, k_channels, k_spatial, row):
        """(output spatial sizes, channels, per-axis ops or None for point-wise, multiply-adds),
        or None for a layer of unknown kind that changes the map."""
        n = len(x.spatial)
        c_in = x.channels
        if cls in _WINDOWS:
            pooling = "Pooling" in cls
            kernel = _tuple(layer.pool_size if pooling else layer.kernel_size, n)
            strides = _tuple(layer.strides, n)
            dilation = (1,) * n if pooling else _tuple(layer.dilation_rate, n)
            axes, spatial = [], []
            for l, k, s, d in zip(x.spatial, kernel, strides, dilation):
                left, right = _padding_pair(layer.padding, l, k, s, d)
                spatial.append(conv_output_length(l, k, s, (left, right), d))
                axes.append(_Window(k, s, left, d))
            positions, kprod = int(np.prod(spatial)), int(np.prod(kernel))
            if cls.startswith("Conv"):
                groups = getattr(layer, "groups", 1)
                return spatial, layer.filters, axes, positions * kprod * (c_in // groups) * layer.filters
            if cls.startswith("Depthwise"):
                mid = c_in * layer.depth_multiplier
                return spatial, mid, axes, positions * kprod * mid
            if cls.startswith("Separable"):
                mid = c_in * layer.depth_multiplier
                return spatial, layer.filters, axes, positions * (kprod * mid + mid * layer.filters)
            return spatial, c_in, axes, 0
        if cls in _TRANSPOSED:
            kernel = _tuple(layer.kernel_size, n)
            strides = _tuple(layer.strides, n)
            dilation = _tuple(layer.dilation_rate, n)
            out_pad = [None] * n if layer.output_padding is None else list(_tuple(layer.output_padding, n))
            axes, spatial = [], []
            for l, k, s, d, op in zip(x.spatial, kernel, strides, dilation, out_pad):
                length = conv_transpose_output_length(l, k, s, layer.padding, op, d)
                spatial.append(length)
                # TensorFlow computes it as the gradient of the convolution from `length`
                # back to `l` with the same padding: that convolution's left pad.
                axes.append(_TransposedWindow(k, s, _padding_pair(layer.padding, length, k, s, d)[0], d))
            macs = int(np.prod(x.spatial)) * int(np.prod(kernel)) * c_in * layer.filters
            return spatial, layer.filters, axes, macs
        if cls in _SHIFTS:
            zero = cls.startswith("Zero")
            pads = layer.padding if zero else layer.cropping
            pads = [pads] if n == 1 else list(pads)
            sign = 1 if zero else -1
            axes = [_Shift(-sign * int(p[0])) for p in pads]
            spatial = [l + sign * (int(p[0]) + int(p[1])) for l, p in zip(x.spatial, pads)]
            return spatial, c_in, axes, 0
        if cls in _UPSAMPLING:
            size = _tuple(layer.size, n)
            interpolation = getattr(layer, "interpolation", "nearest")
            if interpolation in ("nearest", "bilinear"):
                return [l * f for l, f in zip(x.spatial, size)], c_in, [_Upsample(f, interpolation) for f in size], 0
        # Anything else must keep the map to be followed position by position.
        if cls == "Concatenate":
            channels = sum(t.channels for t in ins)
        elif cls == "Dense":
            channels = layer.units
        else:
            channels = k_channels
            row.shape_by_formula = False
        same = tuple(k_spatial or ()) == tuple(x.spatial) and all(t.spatial == x.spatial for t in ins)
        if not same:
            # e.g. a Reshape: positions are no longer positions. On a collapsed map that
            # changes nothing (it sees the whole input already), so it is not flagged.
            row.unknown_spatial = not any(t.collapsed for t in ins)
            row.shape_by_formula = False
            return None
        if cls not in _POINTWISE:
            row.assumed_pointwise = True
        macs = int(np.prod(x.spatial)) * c_in * layer.units if cls == "Dense" else 0
        return list(x.spatial), channels, None, macs

    def _params(self, layer, cls, x, row):
        row.keras_params = int(layer.count_params()) if layer.built else 0
        if id(layer) in self.counted:
            row.params, row.keras_params = None, 0  # a shared layer's weights count once
            return
        self.counted.add(id(layer))
        c_in = x.shape[1] if (self.channels_first and x.spatial is not None) else x.shape[-1]
        bias = bool(getattr(layer, "use_bias", False))
        n = len(x.spatial) if x.spatial is not None else 0
        if cls in ("Conv1D", "Conv2D", "Conv3D") + _TRANSPOSED:
            row.params = conv_params(c_in, layer.filters, _tuple(layer.kernel_size, n), getattr(layer, "groups", 1),
                                     bias)
        elif cls in ("DepthwiseConv1D", "DepthwiseConv2D"):
            row.params = conv_params(c_in, c_in * layer.depth_multiplier, _tuple(layer.kernel_size, n), groups=c_in,
                                     bias=bias)
        elif cls in ("SeparableConv1D", "SeparableConv2D"):
            mid = c_in * layer.depth_multiplier
            row.params = (conv_params(c_in, mid, _tuple(layer.kernel_size, n), groups=c_in, bias=False)
                          + conv_params(mid, layer.filters, 1, bias=bias))
        elif cls == "Dense":
            row.params = conv_params(x.shape[-1], layer.units, 1, bias=bias)
        elif cls == "BatchNormalization":
            # gamma and beta (trainable), moving mean and variance (not): count_params counts all four
            row.params = x.shape[layer.axis] * (2 + int(layer.scale) + int(layer.center))
        elif cls == "LayerNormalization" and len(layer.axis) == 1:
            row.params = x.shape[layer.axis[0]] * (int(layer.scale) + int(layer.center))
        elif cls == "Embedding":
            row.params = layer.input_dim * layer.output_dim
        elif not layer.weights:
            row.params = 0
        else:
            row.params = row.keras_params
            row.params_by_formula = False

    # === receptive fields ===
    @staticmethod
    def _formula(out):
        per_parent = []
        for axes, parent in out.parents:
            if parent.formula is None:
                return None
            vals = [op.formula(w, j) for op, (w, j) in zip(axes, parent.formula)]
            if any(v is None for v in vals):
                return None
            per_parent.append(vals)
        # the maximum over paths (Araujo et al.); merged maps share their jump
        return [max((p[a] for p in per_parent), key=lambda wj: wj[0]) for a in range(len(out.spatial))]

    @staticmethod
    def _formula_rf(formula):
        if formula is None:
            return None
        return tuple(int(math.floor(w)) + 1 for w, _ in formula)

    def exact_receptive_fields(self):
        """Carries [lo(o), hi(o)] through the graph twice (see the module docstring).

        Unclipped (`lo`, `hi`): the image and every map are taken to go on beyond their
        edges, the theoretical receptive field. In the image (`lo_in`, `hi_in`): a position
        beyond a map's edge is padding and reads nothing, nor do pixels beyond the image.
        """
        maps = [t for t in self.tensors if t.has_map]
        for t in maps:
            t.need = [[0, s - 1] for s in t.spatial]
        # Backward: the index range each tensor is read on (a padded read goes beyond it).
        for t in reversed(maps):
            for axes, parent in t.parents:
                for a, op in enumerate(axes):
                    lo_need, hi_need = t.need[a]
                    read = [i for o in (lo_need, hi_need) for i in op.taps(o)]
                    if not all(op.taps(o) for o in (lo_need, hi_need)):  # a transposed end may read nothing
                        read = [i for o in range(lo_need, hi_need + 1) for i in op.taps(o)]
                    if read:  # taps move monotonically with o: the two ends bound the range
                        parent.need[a][0] = min(parent.need[a][0], min(read))
                        parent.need[a][1] = max(parent.need[a][1], max(read))
        for t in maps:
            t.lo, t.hi = self._intervals(t, clip=False)
            t.lo_in, t.hi_in = self._intervals(t, clip=True)
        for row, t in zip(self.rows, self.row_tensors):
            if t.has_map:
                row.receptive_field = tuple(_widest(lo, hi) for lo, hi in zip(*self._on_map(t, False)))
                row.receptive_field_in_image = tuple(_widest(lo, hi) for lo, hi in zip(*self._on_map(t, True)))

    @staticmethod
    def _on_map(t, clip):
        """Per axis, the (lo, hi) arrays on the map's own positions 0..size-1."""
        los, his = (t.lo_in, t.hi_in) if clip else (t.lo, t.hi)
        cut = [slice(-t.need[a][0], -t.need[a][0] + size) for a, size in enumerate(t.spatial)]
        return [lo[c] for lo, c in zip(los, cut)], [hi[c] for hi, c in zip(his, cut)]

    @staticmethod
    def _intervals(t, clip):
        los, his = [], []
        for a, size in enumerate(t.spatial):
            idx = np.arange(t.need[a][0], t.need[a][1] + 1)
            inside = (idx >= 0) & (idx < size)
            if t.is_input:
                lo, hi = idx.copy(), idx.copy()
                if clip:
                    lo[~inside], hi[~inside] = _EMPTY_LO, _EMPTY_HI
                los.append(lo)
                his.append(hi)
                continue
            lo = np.full(len(idx), _EMPTY_LO, dtype=np.int64)
            hi = np.full(len(idx), _EMPTY_HI, dtype=np.int64)
            for axes, parent in t.parents:
                base = parent.need[a][0]
                plo, phi = (parent.lo_in[a], parent.hi_in[a]) if clip else (parent.lo[a], parent.hi[a])
                for n_, o in enumerate(idx):
                    if clip and not inside[n_]:
                        continue  # padding around the map: reads nothing
                    taps = np.asarray(axes[a].taps(int(o)), dtype=np.int64) - base
                    if len(taps):
                        lo[n_] = min(lo[n_], plo[taps].min())
                        hi[n_] = max(hi[n_], phi[taps].max())
            los.append(lo)
            his.append(hi)
        return los, his

    def last_map(self, outputs):
        """The row of the last tensor with a spatial map of its own on the way to `outputs`."""
        row_of = {id(t): r for r, t in zip(self.rows, self.row_tensors)}
        order = {id(t): i for i, t in enumerate(self.row_tensors)}
        frontier, seen, found = list(outputs), set(), []
        while frontier:
            t = frontier.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            if t.has_map and id(t) in row_of:
                found.append(t)
                continue
            frontier.extend(t.sources)
        return row_of[id(max(found, key=lambda t: order[id(t)]))] if found else None

