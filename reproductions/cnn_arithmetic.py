"""T6: output size, parameters, multiply-adds and receptive field follow the notes' formulas
(notes 001 CNN chapter, notes 002 lecture 8), on real networks and a measured one.

`keras_gen.analysis.analyze` walks a Keras model's layer graph and applies, layer by
layer, the notes' formulas (module docstring of `keras_gen/analysis/conv_arithmetic.py`):

    l_o = floor((l_i + 2p - k)/s) + 1,   params c_in c_out k_w k_h (+ bias),
    MACs c_in c_out l_w l_h k_w k_h / (s_w s_h),   R_i = R_{i-1} + (k_i - 1) prod_{j<i} s_j

(grouped / depthwise / separable / transposed / dilated convolutions and pooling
included; the receptive field both by the recursion, max over paths, and exactly, by
carrying each position's interval of input pixels through the graph).

What is checked, against numbers that were not computed by these formulas:

1. The four `keras.applications` networks, built with `weights=None` (nothing is
   downloaded): parameters against Keras's `count_params()`; receptive field against
   Araujo et al. 2019 (Distill, "Computing receptive fields of convolutional neural
   networks"): VGG16 212, ResNet50 483, MobileNet 315, InceptionV3 1311 (at the last
   feature map, before global pooling / flattening; unclipped, as they report it);
   multiply-adds against the papers (VGG16 15.5 G: Simonyan & Zisserman's network as
   later tables count it, conv + FC; ResNet50 3.86 G as issue 16 quotes He et al. 2016's
   3.8 x 10^9; MobileNet 569 M, Howard et al. 2017, table 8), within 2%. InceptionV3's
   paper gives "5 billion multiply-adds" only in round numbers: reported, not tested.
   'same' padding: the size of a receptive field has no p in it; its position does, and
   `keras.applications` pads asymmetrically (ZeroPadding2D((0,1),(0,1)) before MobileNet's
   stride-2 depthwise convolutions; TensorFlow's 'same' with stride 2 on an even map
   pads 0 left, 1 right). The exact walk uses the real padding, so branch merges are
   the union of the branches' actual windows; here it equals the recursion everywhere.
2. Output shapes: every layer of the four networks, and a zoo of single layers (Conv1D,
   Conv2D, Conv3D with kernels, strides, dilations, groups, 'valid'/'same'/'causal';
   Conv2DTranspose with output padding; depthwise, separable, pooling, padding,
   cropping, upsampling), against Keras's shapes and, for the zoo, the shape of the
   tensor TensorFlow actually computes.
3. The receptive field measured from input gradients equals the formula on a small
   network (zero padding, stride-2 'same' convolution, a dilated branch merged by Add,
   max-pooling, a stride-2 depthwise convolution, a Concatenate of a 1x1 convolution and
   an average pooling): for every position of every layer along both axes, the pixels
   with a non-zero gradient (union over `--gradient-samples` random inputs, as max
   pooling routes the gradient to one pixel per window) equal the exact walk's interval,
   and at the centre position the size equals the recursion. Per report seed (weights
   and inputs drawn from it). The stride-free recursion 1 + sum(k - 1) is the baseline
   that must fail this check.
4. The notes' variants: global average pooling vs Flatten before the classifier (on
   VGG16's 7 x 7 x 512 map); ResNet's bottleneck (1x1 256->64, 3x3, 1x1 64->256) vs
   two plain 3x3 256->256 convolutions and vs He et al.'s 64-d basic block ("similar
   time complexity"), at 56 x 56; a 3x3 256->256 convolution with 1..256 groups; three
   stacked 3x3 convolutions with dilation 1, 2, 4; DCGAN's k4 s2 p1 transposed
   convolution doubling the map. Every count by formula, checked against Keras.

Measured (`keras-gen reproduce cnn-arithmetic`; 11 of 11 claims met):

    network       parameters (= count_params)   multiply-adds (paper)      receptive field (Araujo; strides ignored)
    VGG16         138,357,544                   15.470 G (15.5 G, 0.2%)    212 (212; 32)
    ResNet50       25,636,712                    3.858 G (3.86 G, 0.05%)   483 (483; 41)
    MobileNet       4,253,864                    568.7 M (569 M, 0.05%)    315 (315; 29)
    InceptionV3    23,851,784                    5.713 G ("5 billion")     1311 (1311; 93)

Output shapes: 600 layers of the networks and 188 single layers, no mismatch. Measured
receptive fields: 506 intervals per seed, all equal to the exact walk on seeds 10, 11,
12; the stride-free recursion is wrong on 9 of the 11 layers. Heads on 7x7x512 -> 1000:
Flatten 25,089,000 parameters, GAP 513,000 (1/49 of the weights). At 56x56: two plain
3x3 256->256 convolutions 1,179,648 parameters and 3.70 G MACs, the bottleneck 69,632
and 218 M (17x fewer), the 64-d basic block 73,728 and 231 M. Groups divide both by g;
three 3x3 convolutions see 7, 13, 25 pixels at dilation 1, 2, 4 with 27 weights each.

Writes `metrics.json` (claims T6; per network params, MACs, receptive fields, the
per-layer tables in `networks.json`), `receptive_fields.png` (receptive field by depth
for the four networks), `gradient_receptive_field.png` (the measured field of the small
network's last layer with the formula's box) and `costs.png` (the variants).
"""
import dataclasses
import itertools
import json

import numpy as np

from reproductions import common

NAME = "cnn-arithmetic"
NETWORKS = ("vgg16", "resnet50", "mobilenet", "inceptionv3")
KERAS_NAMES = {"vgg16": "VGG16", "resnet50": "ResNet50", "mobilenet": "MobileNet", "inceptionv3": "InceptionV3"}
# Araujo et al. 2019 (receptive field); multiply-adds as the papers give them (None: round numbers only)
PUBLISHED = {
    "vgg16": {"receptive_field": 212, "macs": 15.5e9, "params": 138_357_544},
    "resnet50": {"receptive_field": 483, "macs": 3.86e9, "params": 25_636_712},
    "mobilenet": {"receptive_field": 315, "macs": 569e6, "params": 4_253_864},
    "inceptionv3": {"receptive_field": 1311, "macs": None, "params": 23_851_784},
}


@dataclasses.dataclass
class HParams(common.CommonHParams):
    networks: str = common.field(",".join(NETWORKS), "comma-separated subset of the keras.applications networks",
                                 choices=NETWORKS, multi=True)
    gradient_samples: int = common.field(64, "random inputs whose input-gradient supports are united per position")
    probe_size: int = common.field(64, "height and width of the small network's input", low=56)


# ---------------------------------------------------------------- 1. the four networks
def network_numbers(name):
    """analyze() of one keras.applications network (weights=None) and the baselines."""
    import keras

    from keras_gen.analysis import analyze

    model = getattr(keras.applications, KERAS_NAMES[name])(weights=None)
    a = analyze(model)
    kernels = [r for r in a.layers if r.receptive_field_formula is not None]
    weights_only = sum(int(np.prod(w.shape)) for w in model.trainable_weights if len(w.shape) > 1)
    result = {
        "params": a.params, "keras_count_params": a.keras_params,
        "params_weights_only": weights_only,  # baseline: kernels alone (no biases, no BN statistics)
        "macs": a.macs, "receptive_field": list(a.receptive_field),
        "receptive_field_formula": list(a.receptive_field_formula), "receptive_field_layer": a.receptive_field_layer,
        "receptive_field_stride_free": stride_free(model)[a.receptive_field_layer],
        "layers": len(a.layers), "shape_mismatches": [list(map(str, m)) for m in a.shape_mismatches],
        "fallback_params": a.fallback_params, "unknown_spatial": a.unknown_spatial,
        "depth_receptive_field": [r.receptive_field[0] for r in kernels if r.receptive_field],
        "table": a.table(),
    }
    del model
    keras.backend.clear_session()
    return result


def stride_free(model):
    """The baseline recursion that forgets the strides, per layer: R = 1 + the largest sum of
    (k_eff - 1) along a path (height axis), from the model's config (its inbound nodes)."""
    def parents(node):
        if isinstance(node, dict):
            history = node.get("config", {}).get("keras_history") if node.get("class_name") == "__keras_tensor__" else None
            return [history[0]] if history else [p for v in node.values() for p in parents(v)]
        if isinstance(node, (list, tuple)):
            return [p for v in node for p in parents(v)]
        return []

    grow = {}
    for entry in model.get_config()["layers"]:
        cfg = entry["config"]
        k = cfg.get("kernel_size") or cfg.get("pool_size")
        d = cfg.get("dilation_rate") or 1
        k = k[0] if isinstance(k, (list, tuple)) else k
        d = d[0] if isinstance(d, (list, tuple)) else d
        before = max([grow[p] for p in parents(entry.get("inbound_nodes", [])) if p in grow] or [0])
        grow[entry["name"]] = before + (d * (k - 1) if k else 0)
    return {name: 1 + g for name, g in grow.items()}


# ---------------------------------------------------------------- 2. a zoo of single layers
def layer_zoo():
    """(description, layer factory, input shape) for single-layer models."""
    from keras import layers as L

    zoo = []
    for l, k, s, pad, d in itertools.product((9, 10), (1, 2, 3, 5), (1, 2, 3), ("valid", "same"), (1, 2)):
        if d > 1 and s > 1:
            continue  # TensorFlow has no strided dilated convolution
        zoo.append((f"Conv2D k{k} s{s} {pad} d{d} on {l}x{l + 3}",
                    lambda k=k, s=s, pad=pad, d=d: L.Conv2D(4, k, strides=s, padding=pad, dilation_rate=d), (l, l + 3, 4)))
    for g in (2, 4):
        zoo.append((f"Conv2D groups {g}", lambda g=g: L.Conv2D(8, 3, strides=2, padding="same", groups=g), (11, 11, 8)))
    for l, k, s, pad in itertools.product((7, 8), (2, 3, 4, 5), (1, 2, 3), ("valid", "same")):
        zoo.append((f"Conv2DTranspose k{k} s{s} {pad} on {l}", lambda k=k, s=s, pad=pad: L.Conv2DTranspose(
            3, k, strides=s, padding=pad), (l, l, 2)))
    for op in (1, 2):
        zoo.append((f"Conv2DTranspose k5 s3 valid output_padding {op}", lambda op=op: L.Conv2DTranspose(
            3, 5, strides=3, padding="valid", output_padding=op), (6, 6, 2)))
    zoo.append(("Conv2DTranspose k3 s2 same output_padding 1", lambda: L.Conv2DTranspose(
        3, 3, strides=2, padding="same", output_padding=1), (6, 5, 2)))
    for k, s, pad in itertools.product((2, 3), (1, 2, 3), ("valid", "same")):
        zoo.append((f"MaxPooling2D {k} s{s} {pad}", lambda k=k, s=s, pad=pad: L.MaxPooling2D(k, s, pad), (10, 11, 2)))
        zoo.append((f"AveragePooling2D {k} s{s} {pad}", lambda k=k, s=s, pad=pad: L.AveragePooling2D(k, s, pad), (9, 9, 2)))
        zoo.append((f"DepthwiseConv2D {k} s{s} {pad}", lambda k=k, s=s, pad=pad: L.DepthwiseConv2D(
            k, strides=s, padding=pad, depth_multiplier=2), (10, 9, 3)))
        zoo.append((f"SeparableConv2D {k} s{s} {pad}", lambda k=k, s=s, pad=pad: L.SeparableConv2D(
            5, k, strides=s, padding=pad), (10, 9, 3)))
    for k, s, pad, d in itertools.product((2, 4), (1, 3), ("valid", "same", "causal"), (1, 3)):
        if d > 1 and s > 1:
            continue
        zoo.append((f"Conv1D k{k} s{s} {pad} d{d}", lambda k=k, s=s, pad=pad, d=d: L.Conv1D(
            2, k, strides=s, padding=pad, dilation_rate=d), (20, 3)))
    zoo.append(("Conv3D", lambda: L.Conv3D(2, (3, 2, 1), strides=(2, 1, 3), padding="same"), (7, 6, 8, 2)))
    zoo.append(("ZeroPadding2D", lambda: L.ZeroPadding2D(((1, 2), (3, 0))), (5, 6, 2)))
    zoo.append(("Cropping2D", lambda: L.Cropping2D(((1, 2), (3, 0))), (8, 7, 2)))
    zoo.append(("UpSampling2D nearest", lambda: L.UpSampling2D((2, 3)), (4, 5, 2)))
    zoo.append(("UpSampling2D bilinear", lambda: L.UpSampling2D(2, interpolation="bilinear"), (4, 5, 2)))
    return zoo


def check_zoo():
    """Formula shapes and parameters of every zoo layer against Keras and the computed tensor."""
    import keras

    from keras_gen.analysis import analyze

    rows = []
    for description, make, shape in layer_zoo():
        inp = keras.Input(shape)
        layer = make()
        model = keras.Model(inp, layer(inp))
        row = analyze(model).layers[0]
        computed = tuple(model(np.zeros((1,) + shape, "float32")).shape[1:])
        rows.append({"layer": description, "formula": list(row.output_shape[1:]), "keras": list(model.outputs[0].shape[1:]),
                     "computed": list(computed), "params": row.params, "keras_params": layer.count_params()})
    keras.backend.clear_session()
    return rows


# ---------------------------------------------------------------- 3. the measured receptive field
def probe_network(size, seed):
    """The small network whose receptive fields are measured (linear: every path passes gradient)."""
    import keras
    from keras import layers as L

    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, 1), name="image")
    x = L.ZeroPadding2D(1, name="pad")(inp)
    x = L.Conv2D(4, 3, strides=2, padding="same", name="conv_s2")(x)
    a = L.Conv2D(4, 3, padding="same", name="conv_3x3")(x)
    b = L.Conv2D(4, 3, padding="same", dilation_rate=2, name="conv_dilated")(x)
    x = L.Add(name="add")([a, b])
    x = L.MaxPooling2D(2, name="max_pool")(x)
    x = L.DepthwiseConv2D(3, strides=2, padding="same", name="depthwise_s2")(x)
    c = L.Conv2D(4, 1, name="conv_1x1")(x)
    d = L.AveragePooling2D(3, strides=1, padding="same", name="avg_pool")(x)
    x = L.Concatenate(name="concat")([c, d])
    return keras.Model(inp, L.Conv2D(1, 2, name="conv_2x2_valid")(x), name="probe")


def measure_probe(hp, seed):
    """Gradient supports vs the exact walk (every position, both axes) and centre sizes vs the recursion."""
    import keras

    from keras_gen.analysis import analyze, empirical_receptive_field, positions_receptive_field
    from keras_gen.errors import KerasGenError

    model = probe_network(hp.probe_size, seed)
    a = analyze(model)
    baseline = stride_free(model)  # the recursion without the stride product
    mismatches, checked, layers = 0, 0, []
    for row in a.layers:
        if row.receptive_field_global:
            continue
        sizes = []
        for axis in (0, 1):
            exact = positions_receptive_field(model, row.name, axis=axis, in_image=True)
            measured = empirical_receptive_field(model, row.name, axis=axis, samples=hp.gradient_samples, seed=seed)
            mismatches += sum(e != m for e, m in zip(exact, measured))
            checked += len(exact)
            centre = measured[len(measured) // 2]
            theory = positions_receptive_field(model, row.name, axis=axis)[len(measured) // 2]
            if theory[0] < 0 or theory[1] >= hp.probe_size:
                raise KerasGenError(f"--probe-size {hp.probe_size}: the centre receptive field of {row.name} "
                                    "leaves the image; take a larger size")
            sizes.append(centre[1] - centre[0] + 1)
        layers.append({"layer": row.name, "measured_centre": sizes, "formula": list(row.receptive_field_formula),
                       "exact": list(row.receptive_field), "stride_free": baseline[row.name]})
    centre_formula_mismatches = sum(e["measured_centre"] != e["formula"] for e in layers)
    stride_free_mismatches = sum(e["measured_centre"][0] != e["stride_free"] for e in layers)
    grad_image = _centre_gradient(model, hp, seed)
    keras.backend.clear_session()
    return {"interval_mismatches": mismatches, "positions_checked": checked, "layers": layers,
            "centre_formula_mismatches": centre_formula_mismatches, "stride_free_mismatches": stride_free_mismatches,
            "centre_gradient": grad_image.tolist()}


def _centre_gradient(model, hp, seed):
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(seed).normal(size=(hp.gradient_samples, hp.probe_size, hp.probe_size, 1)),
                    tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x)
        h, w = y.shape[1] // 2, y.shape[2] // 2
        total = tf.reduce_sum(y[:, h, w, :])
    return np.abs(tape.gradient(total, x).numpy()).sum(axis=(0, 3))


# ---------------------------------------------------------------- 4. the variants
def variants():
    """GAP vs Flatten, bottleneck vs plain, groups, dilation, transposed: formulas vs Keras."""
    import keras
    from keras import layers as L

    from keras_gen.analysis import analyze, conv_macs, conv_params, conv_transpose_output_length, receptive_field_chain

    checks, out = [], {}

    def keras_net(shape, *layers_):
        inp = keras.Input(shape)
        x = inp
        for layer in layers_:
            x = layer(x)
        return keras.Model(inp, x)

    # global average pooling vs flatten, 7 x 7 x 512 (VGG16's last map) -> 1000 classes
    flatten_formula = conv_params(7 * 7 * 512, 1000, 1)
    gap_formula = conv_params(512, 1000, 1)
    flat = keras_net((7, 7, 512), L.Flatten(), L.Dense(1000))
    gap = keras_net((7, 7, 512), L.GlobalAveragePooling2D(), L.Dense(1000))
    out["head_flatten_params"], out["head_gap_params"] = flatten_formula, gap_formula
    checks += [("flatten head", flatten_formula, flat.count_params()), ("gap head", gap_formula, gap.count_params())]
    del flat, gap

    # ResNet blocks at 56 x 56 (no biases, as ResNet's convolutions before BN)
    def block(widths_kernels, c_in):
        layers_, c = [], c_in
        for c_out, k in widths_kernels:
            layers_.append(L.Conv2D(c_out, k, padding="same", use_bias=False))
            c = c_out
        return keras_net((56, 56, c_in), *layers_)

    blocks = {
        "plain_256": (((256, 3), (256, 3)), 256),
        "bottleneck_256": (((64, 1), (64, 3), (256, 1)), 256),
        "basic_64": (((64, 3), (64, 3)), 64),
    }
    for name, (spec, c_in) in blocks.items():
        params, macs, c = 0, 0, c_in
        for c_out, k in spec:
            params += conv_params(c, c_out, k, bias=False)
            macs += conv_macs(c, c_out, (56, 56), k)
            c = c_out
        net = block(spec, c_in)
        a = analyze(net)
        out[f"block_{name}_params"], out[f"block_{name}_macs"] = params, macs
        checks += [(f"{name} params", params, net.count_params()), (f"{name} params by analyze", a.params, params),
                   (f"{name} MACs", macs, a.macs)]
    # grouped 3x3 convolutions 256 -> 256 on 56 x 56
    out["groups"] = {}
    for g in (1, 2, 4, 8, 32, 256):
        net = keras_net((56, 56, 256), L.Conv2D(256, 3, padding="same", groups=g, use_bias=False))
        params, macs = conv_params(256, 256, 3, groups=g, bias=False), conv_macs(256, 256, (56, 56), 3, groups=g)
        out["groups"][g] = {"params": params, "macs": macs}
        checks += [(f"groups {g} params", params, net.count_params()), (f"groups {g} MACs", macs, analyze(net).macs)]
    # three stacked 3x3 convolutions, dilation 1, 2, 4
    out["dilation"] = {}
    for d in (1, 2, 4):
        net = keras_net((64, 64, 1), *[L.Conv2D(1, 3, padding="same", dilation_rate=d, use_bias=False) for _ in range(3)])
        rf = receptive_field_chain([3] * 3, [1] * 3, [d] * 3)[-1]
        out["dilation"][d] = {"receptive_field": rf, "params": net.count_params()}
        checks += [(f"dilation {d} receptive field", rf, analyze(net).receptive_field[0])]
    # DCGAN's transposed convolution: k4 s2 p1 doubles the map (Keras: 'same')
    for l in (4, 7, 14):
        net = keras_net((l, l, 2), L.Conv2DTranspose(1, 4, strides=2, padding="same"))
        checks += [(f"transposed k4 s2 p1 on {l}", conv_transpose_output_length(l, 4, 2, 1), net.outputs[0].shape[1])]
    keras.backend.clear_session()
    out["checks"] = [{"what": w, "formula": int(f), "keras": int(k)} for w, f, k in checks]
    out["mismatches"] = sum(int(f) != int(k) for _, f, k in checks)
    return out


# ---------------------------------------------------------------- figures
def _figures(r, nets, probe, var, hp):
    import matplotlib.pyplot as plt

    from keras_gen import plots

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (name, n) in enumerate(nets.items()):
        depth = np.maximum.accumulate(n["depth_receptive_field"])  # branches run beside the trunk
        ax.semilogy(range(1, len(depth) + 1), depth, color=f"C{i}", lw=1.3, label=f"{KERAS_NAMES[name]}")
        ax.axhline(PUBLISHED[name]["receptive_field"], color=f"C{i}", ls=":", lw=0.8)
    ax.set_xlabel("layer (in graph order, layers with a spatial map)")
    ax.set_ylabel("largest receptive field so far (pixels)")
    ax.set_title("receptive field by depth; dotted: Araujo et al. 2019")
    ax.legend(fontsize=8)
    plots.save(fig, r.path("receptive_fields.png"), dpi=90)

    seed = str(r.seeds[0])
    g = np.array(probe[seed]["centre_gradient"])
    last = probe[seed]["layers"][-1]
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 4))
    a0.imshow(np.log10(g + 1e-12), cmap="magma", vmin=np.log10(g.max()) - 6)
    hits = np.argwhere(g > 0)
    (y0, x0), (y1, x1) = hits.min(axis=0), hits.max(axis=0)
    a0.add_patch(plt.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, ec="cyan", lw=1.2))
    a0.set_title(f"log |d out / d input|, centre of {last['layer']}\nsupport {y1 - y0 + 1} x {x1 - x0 + 1}, "
                 f"formula {last['formula'][0]} x {last['formula'][1]}", fontsize=9)
    names = [e["layer"] for e in probe[seed]["layers"]]
    xs = np.arange(len(names))
    a1.plot(xs, [e["formula"][0] for e in probe[seed]["layers"]], "o-", label="recursion R_i")
    a1.plot(xs, [e["measured_centre"][0] for e in probe[seed]["layers"]], "x", ms=9, label="gradient support")
    a1.plot(xs, [e["stride_free"] for e in probe[seed]["layers"]], "s--", ms=4, label="baseline: strides ignored")
    a1.set_xticks(xs)
    a1.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    a1.set_ylabel("receptive field (pixels)")
    a1.legend(fontsize=8)
    fig.tight_layout()
    plots.save(fig, r.path("gradient_receptive_field.png"), dpi=90)

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    ax = axes[0]
    ax.bar(["Flatten", "GAP"], [var["head_flatten_params"], var["head_gap_params"]], color=["C3", "C0"])
    ax.set_yscale("log")
    ax.set_title("7x7x512 -> 1000: head parameters", fontsize=9)
    ax = axes[1]
    names = ["plain_256", "bottleneck_256", "basic_64"]
    ax.bar(np.arange(3) - 0.2, [var[f"block_{n}_params"] / 1e3 for n in names], 0.4, label="params (k)")
    ax.bar(np.arange(3) + 0.2, [var[f"block_{n}_macs"] / 1e6 for n in names], 0.4, label="MACs (M)")
    ax.set_xticks(range(3))
    ax.set_xticklabels(["2 x 3x3, 256", "bottleneck 256", "2 x 3x3, 64"], fontsize=8)
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title("ResNet blocks at 56x56", fontsize=9)
    ax = axes[2]
    gs = sorted(var["groups"], key=int)
    ax.loglog([int(g) for g in gs], [var["groups"][g]["macs"] for g in gs], "o-", label="MACs")
    ax.loglog([int(g) for g in gs], [var["groups"][g]["params"] for g in gs], "s-", label="params")
    ax.set_xlabel("groups g (256 = depthwise)")
    ax.set_title("3x3 conv 256->256 on 56x56: cost / g", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plots.save(fig, r.path("costs.png"), dpi=90)


# ---------------------------------------------------------------- run
def run(hp):
    r = common.Run(NAME, hp)
    names = common.parse_choice_list(hp.networks, "networks", NETWORKS, "network")
    nets = {n: r.cached(f"network_{n}", lambda n=n: network_numbers(n), recipe={"network": n}) for n in names}
    with open(r.path("networks.json"), "w", encoding="utf-8") as f:
        json.dump({n: {"table": v["table"]} for n, v in nets.items()}, f, indent=1)
    zoo = r.cached("layer_zoo", check_zoo, recipe={})
    probe = {str(s): r.cached(f"probe_seed_{s}", lambda s=s: measure_probe(hp, s)) for s in r.seeds}
    var = r.cached("variants", variants, recipe={})

    zoo_mismatches = sum(z["formula"] != z["keras"] or z["formula"] != z["computed"] or z["params"] != z["keras_params"]
                         for z in zoo)
    network_shape_mismatches = sum(len(v["shape_mismatches"]) for v in nets.values())
    network_layers = sum(v["layers"] for v in nets.values())
    metrics = {
        "networks": {n: {k: v for k, v in nets[n].items() if k != "table"} for n in names},
        "params_abs_diff_max": max(abs(v["params"] - v["keras_count_params"]) for v in nets.values()),
        "layer_zoo": zoo, "layer_zoo_layers": len(zoo), "layer_zoo_mismatches": zoo_mismatches,
        "network_layers_checked": network_layers, "network_shape_mismatches": network_shape_mismatches,
        "probe": {s: {k: v for k, v in p.items() if k != "centre_gradient"} for s, p in probe.items()},
        "variants": var,
    }
    claims = [common.claim(
        "T6", "Parameters by the notes' formula c_in c_out k_w k_h (+ bias) equal Keras's count_params() for "
        + ", ".join(KERAS_NAMES[n] for n in names),
        "params_abs_diff_max", metrics["params_abs_diff_max"], target=0, op="<=",
        baselines={f"{n}_kernels_only_minus_count_params": nets[n]["params_weights_only"] - nets[n]["keras_count_params"]
                   for n in names},
        note="baseline: counting the kernels only (no biases, no batch-norm statistics) misses the target")]
    for n in names:
        pub = PUBLISHED[n]
        rf = nets[n]["receptive_field"][0]
        claims.append(common.claim(
            "T6", f"{KERAS_NAMES[n]}'s receptive field (exact walk and recursion R_i = R_(i-1) + (k_i - 1) prod s_j) "
            f"is {pub['receptive_field']}, as Araujo et al. 2019 publish", f"{n}_receptive_field", rf,
            target=[pub["receptive_field"], pub["receptive_field"]], op="in",
            baselines={"recursion": nets[n]["receptive_field_formula"][0],
                       "strides_ignored": nets[n]["receptive_field_stride_free"]},
            note=f"at {nets[n]['receptive_field_layer']}, unclipped (the input is {('299' if n == 'inceptionv3' else '224')})"))
    for n in names:
        pub = PUBLISHED[n]
        if pub["macs"] is None:
            continue
        rel = nets[n]["macs"] / pub["macs"] - 1
        claims.append(common.claim(
            "T6", f"{KERAS_NAMES[n]}'s multiply-adds by the notes' formula are within 2% of the paper's "
            f"{pub['macs'] / 1e9:g} G", f"{n}_macs_relative_error", abs(rel), target=0.02, op="<=",
            baselines={"weights_as_macs_relative_error": abs(nets[n]["keras_count_params"] / pub["macs"] - 1)},
            note=f"measured {nets[n]['macs']:,} MACs; baseline counts one MAC per weight (a dense network's count)"))
    claims.append(common.claim(
        "T6", f"Output shapes by l_o = floor((l + 2p - k)/s) + 1 (and the transposed, padding, upsampling rules) "
        f"equal Keras's for every layer tried ({network_layers} layers of the networks, {len(zoo)} single layers "
        "also against the computed tensor)", "shape_mismatches", network_shape_mismatches + zoo_mismatches,
        target=0, op="<="))
    claims.append(common.claim(
        "T6", "The receptive field measured from input gradients equals the exact walk at every position (both axes) "
        "of every layer of a small network, and the recursion at the centre",
        "receptive_field_mismatches", {int(s): p["interval_mismatches"] + p["centre_formula_mismatches"]
                                       for s, p in probe.items()}, target=0, op="<=", every=True,
        baselines={"strides_ignored_layer_mismatches": common.mean_sd(
            [p["stride_free_mismatches"] for p in probe.values()])},
        note=f"{probe[str(r.seeds[0])]['positions_checked']} positions per seed, union over {hp.gradient_samples} "
             "random inputs"))
    claims.append(common.claim(
        "T6", "Global average pooling vs Flatten heads, bottleneck vs plain blocks, grouped, dilated and transposed "
        "convolutions follow the notes' formulas (parameters, MACs, receptive field, size) as Keras counts them",
        "variant_mismatches", var["mismatches"], target=0, op="<=",
        note=f"GAP head {var['head_gap_params']:,} vs Flatten head {var['head_flatten_params']:,} parameters; "
             f"bottleneck {var['block_bottleneck_256_macs'] / 1e6:.0f} M vs plain {var['block_plain_256_macs'] / 1e6:.0f} M "
             "MACs at 56x56x256"))
    _figures(r, nets, probe, var, hp)
    headline = ["params_abs_diff_max", "network_shape_mismatches", "layer_zoo_mismatches"]
    return r.finish(metrics, claims, headline=headline)


if __name__ == "__main__":
    run(HParams())
