"""Export: TF-Serving layout, named signatures, reload without keras_gen."""
import json
import os
import subprocess
import sys

import numpy as np
import keras
import pytest

from keras_gen.errors import KerasGenError
from keras_gen.export import export_endpoints, next_version
from keras_gen.models.autoencoder import decoder, encoder, group_meeting_autoencoder

RELOAD = r"""
import json, sys

class BlockKerasGen:  # make sure nothing in the SavedModel needs keras_gen
    def find_spec(self, name, path=None, target=None):
        if name == "keras_gen" or name.startswith("keras_gen."):
            raise ModuleNotFoundError(f"{name} is blocked in this process")
        return None

sys.meta_path.insert(0, BlockKerasGen())
import numpy as np
import tensorflow as tf
path, x_path, code_path, out_path = sys.argv[1:]
loaded = tf.saved_model.load(path)
x = tf.constant(np.load(x_path))
codes = tf.constant(np.load(code_path))
sigs = loaded.signatures
out = {
    "signatures": sorted(sigs.keys()),
    "serving_default": sigs["serving_default"](x)["reconstruction"].numpy().tolist(),
    "reconstruct": sigs["reconstruct"](x)["reconstruction"].numpy().tolist(),
    "encode": sigs["encode"](x)["code"].numpy().tolist(),
    "decode": sigs["decode"](codes)["reconstruction"].numpy().tolist(),
    "keras_gen_imported": any(m.startswith("keras_gen") for m in sys.modules),
}
json.dump(out, open(out_path, "w"))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("saved_models")
    keras.utils.set_random_seed(0)
    model = group_meeting_autoencoder(initialization="glorot")  # non-trivial weights
    path = export_endpoints(
        "group_meeting_autoencoder",
        [("reconstruct", model, None, "reconstruction"),
         ("encode", encoder(model), None, "code"),
         ("decode", decoder(model), None, "reconstruction")],
        base_dir=str(base),
    )
    return model, str(base), path


def test_layout_and_versions(exported):
    _, base, path = exported
    assert path == os.path.join(base, "group_meeting_autoencoder", "1")
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    assert next_version(os.path.join(base, "group_meeting_autoencoder")) == 2
    with pytest.raises(KerasGenError, match="already exists"):
        export_endpoints("group_meeting_autoencoder", [("reconstruct", exported[0], None, "r")],
                         base_dir=base, version=1)


def test_reload_in_fresh_process_without_keras_gen(exported, tmp_path):
    model, _, path = exported
    rng = np.random.default_rng(0)
    x = (rng.random((6, 2, 88, 1)) < 0.1).astype("float32")
    codes = rng.random((6, 44)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "codes.npy", codes)
    script = tmp_path / "reload.py"
    script.write_text(RELOAD)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)  # the reloading process must not be able to import keras_gen
    subprocess.run([sys.executable, str(script), path, str(tmp_path / "x.npy"), str(tmp_path / "codes.npy"),
                    str(tmp_path / "out.json")], check=True, env=env, cwd=str(tmp_path))
    out = json.loads((tmp_path / "out.json").read_text())
    assert not out["keras_gen_imported"]
    assert {"serving_default", "reconstruct", "encode", "decode"} <= set(out["signatures"])
    want = model.predict(x, verbose=0)
    np.testing.assert_allclose(np.array(out["serving_default"]), want, atol=1e-5)
    np.testing.assert_allclose(np.array(out["reconstruct"]), want, atol=1e-5)
    np.testing.assert_allclose(np.array(out["encode"]), encoder(model).predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(np.array(out["decode"]), decoder(model).predict(codes, verbose=0), atol=1e-5)


def test_saved_model_cli_lists_the_signatures(exported):
    _, _, path = exported
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        cli = "saved_model_cli"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    shown = subprocess.run([cli, "show", "--dir", path, "--all"], check=True, capture_output=True,
                           text=True, env=env).stdout
    for name in ("serving_default", "encode", "decode"):
        assert f"signature_def['{name}']" in shown
    assert "(-1, 2, 88, 1)" in shown and "(-1, 44)" in shown
