"""SavedModel export of GAN, WGAN and WGAN-GP: `generate` (z -> x) and `discriminate`
signatures, reloaded in a fresh process that does not import keras_gen."""
import os

import numpy as np
import pytest

from keras_gen.models import GAN, WGAN, WGANGP, dcgan_discriminator, dcgan_generator
from tests.helpers import run_fresh_python
from tests.models.gan_helpers import tiny_players, toy_data


@pytest.mark.slow
def test_export_reloads_without_keras_gen(tmp_path):
    rng = np.random.RandomState(0)
    models = {}
    for cls in (GAN, WGAN, WGANGP):
        g, d = tiny_players()
        models[cls.__name__] = (cls(generator=g, discriminator=d), rng.normal(size=(4, 3)), toy_data(4))
    g, d = dcgan_generator(latent_dim=8, width=4), dcgan_discriminator(width=4)
    models["DCGAN"] = (GAN(generator=g, discriminator=d), rng.normal(size=(2, 8)), rng.uniform(-1, 1, (2, 28, 28, 1)))
    paths = {}
    for name, (model, _, _) in models.items():
        paths[name] = model.export(name.lower(), base_dir=str(tmp_path))
        assert paths[name] == os.path.join(str(tmp_path), name.lower(), "1")
    inputs = {name: (z.astype("float32").tolist(), x.astype("float32").tolist()) for name, (_, z, x) in models.items()}
    out = run_fresh_python(f"""
        import json, sys
        import tensorflow as tf
        res = {{}}
        inputs = {inputs!r}
        for name, path in {paths!r}.items():
            m = tf.saved_model.load(path)
            z, x = inputs[name]
            res[name] = {{"sigs": sorted(m.signatures),
                         "x": m.signatures["generate"](z=tf.constant(z))["x"].numpy().tolist(),
                         "logits": m.signatures["discriminate"](x=tf.constant(x))["logits"].numpy().tolist()}}
        res["keras_gen_imported"] = "keras_gen" in sys.modules
        print(json.dumps(res))
    """, without_keras_gen=True)
    assert out.pop("keras_gen_imported") is False
    for name, (model, z, x) in models.items():
        assert {"generate", "discriminate", "serving_default"} <= set(out[name]["sigs"])
        np.testing.assert_allclose(out[name]["x"], model.generator(z.astype("float32"), training=False).numpy(),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out[name]["logits"], model.discriminator(x.astype("float32"), training=False).numpy(),
                                   rtol=1e-5, atol=1e-5)
