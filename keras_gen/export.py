"""TF-Serving-ready SavedModels with named signatures.

Layout: `<base_dir>/<model_name>/<version>/`, the version an integer (TF Serving serves
the largest). Each endpoint becomes a signature; the first one is also
`serving_default`. Endpoints are the functional sub-networks (generator, encoder,
decoder, ...), which is what serving needs; the exported SavedModel runs without
keras_gen installed (`tf.saved_model.load(path).signatures["encode"](...)`).
"""
from keras_gen import require_tensorflow

require_tensorflow()

import os
import re

import keras
import tensorflow as tf

from keras_gen.errors import KerasGenError

DEFAULT_BASE_DIR = "saved_models"


def next_version(model_dir):
    """The integer version after the largest one already in `model_dir` (1 if none)."""
    if not os.path.isdir(model_dir):
        return 1
    versions = [int(d) for d in os.listdir(model_dir) if re.fullmatch(r"\d+", d)]
    return max(versions, default=0) + 1


def _signature_for(model, input_name):
    specs = []
    for i, shape in enumerate(_input_shapes(model)):
        name = input_name if len(_input_shapes(model)) == 1 else f"{input_name}_{i}"
        specs.append(tf.TensorSpec(shape=(None,) + tuple(shape[1:]), dtype=tf.float32, name=name))
    return specs


def _input_shapes(model):
    shapes = model.input_shape
    if isinstance(shapes, tuple) and (len(shapes) == 0 or not isinstance(shapes[0], (tuple, list))):
        return [shapes]
    return list(shapes)


def _model_endpoint(model, output_name):
    # A closure, not default arguments: the endpoint's signature must be exactly its
    # tensor inputs.
    def endpoint(*args):
        out = model(list(args) if len(args) > 1 else args[0], training=False)
        # A model with named outputs (a dict) keeps its names as the signature's outputs.
        return dict(out) if isinstance(out, dict) else {output_name: out}

    return endpoint


def _fn_endpoint(fn, output_name):
    def endpoint(*args):
        out = fn(*args)
        return out if isinstance(out, dict) else {output_name: out}

    return endpoint


def export_endpoints(name, endpoints, base_dir=DEFAULT_BASE_DIR, version=None, overwrite=False, track=()):
    """Writes a SavedModel with one signature per endpoint.

    Args:
        name: model name, the folder under `base_dir`.
        endpoints: list of `(signature_name, fn, input_signature, output_name)`. `fn`
            is a Keras model or a callable; `input_signature` a list of
            `tf.TensorSpec` (or None to derive it from a Keras model's inputs);
            `output_name` the key of the signature's output.
        base_dir: the model base folder (TF Serving's `--model_base_path` parent).
        version: integer version; by default one more than the largest present.
        overwrite: allow replacing an existing version folder.
        track: Keras models whose variables callables (not models) among the
            endpoints use, e.g. `lambda x: D(x)["logit"]`.

    Returns:
        The path written, `<base_dir>/<name>/<version>`.
    """
    model_dir = os.path.join(base_dir, name)
    version = next_version(model_dir) if version is None else int(version)
    path = os.path.join(model_dir, str(version))
    if os.path.exists(path) and not overwrite:
        raise KerasGenError(f"export target {path} already exists; pass another version or overwrite=True")
    archive = keras.export.ExportArchive()
    tracked = set()
    for model in track:
        if id(model) not in tracked:
            archive.track(model)
            tracked.add(id(model))
    for sig_name, fn, input_signature, output_name in endpoints:
        if isinstance(fn, keras.Model):
            if id(fn) not in tracked:
                archive.track(fn)
                tracked.add(id(fn))
            if input_signature is None:
                input_signature = _signature_for(fn, "inputs")
            endpoint = _model_endpoint(fn, output_name)
        else:
            endpoint = _fn_endpoint(fn, output_name)
        archive.add_endpoint(sig_name, tf.function(endpoint), input_signature=input_signature)
    os.makedirs(model_dir, exist_ok=True)
    archive.write_out(path, verbose=False)
    return path
