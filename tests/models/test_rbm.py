"""RBM (S17): exact gradient by enumeration vs CD with long chains, free energy,
pseudo-likelihood, PCD, config, export, 2 replicas."""
import itertools
import os
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.errors import KerasGenError
from keras_gen.models.rbm import RBM
from tests.helpers import run_fresh_python

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 1, 1], [1, 1, 1, 0]], "float32")


def small_rbm(**kwargs):
    rbm = RBM(n_visible=4, n_hidden=3, init_std=3.0, seed=3, **kwargs)
    rng = np.random.default_rng(0)
    rbm.b.assign(rng.normal(scale=0.5, size=4).astype("float32"))
    rbm.c.assign(rng.normal(scale=0.5, size=3).astype("float32"))
    return rbm


def params(rbm):
    return [np.asarray(t.numpy(), np.float64) for t in (rbm.W, rbm.b, rbm.c)]


def joint_table(W, b, c):
    """All (v, h) states and p(v, h) = exp(-E) / Z by brute force."""
    V = np.array(list(itertools.product([0, 1], repeat=W.shape[0])), float)
    H = np.array(list(itertools.product([0, 1], repeat=W.shape[1])), float)
    neg_e = V @ W @ H.T + (V @ b)[:, None] + (H @ c)[None, :]
    p = np.exp(neg_e - neg_e.max())
    return V, H, p / p.sum(), neg_e


def exact_gradient(W, b, c, data):
    """d mean_data log p(v) / d (W, b, c) = E_data[v h] - E_model[v h], by enumeration."""
    V, H, p, neg_e = joint_table(W, b, c)
    model = (V.T @ p @ H, p.sum(1) @ V, p.sum(0) @ H)
    gw, gb, gc = np.zeros_like(W), np.zeros_like(b), np.zeros_like(c)
    for v in data:
        row = [i for i, u in enumerate(V) if np.array_equal(u, v)][0]
        ph = np.exp(neg_e[row] - neg_e[row].max())
        ph /= ph.sum()  # p(h | v) over all h
        eh = ph @ H
        gw += np.outer(v, eh)
        gb += v
        gc += eh
    n = len(data)
    return gw / n - model[0], gb / n - model[1], gc / n - model[2]


def test_free_energy_and_exact_likelihood_by_enumeration():
    rbm = small_rbm()
    W, b, c = params(rbm)
    V, H, p, neg_e = joint_table(W, b, c)
    # F(v) = -log sum_h exp(-E(v, h)).
    want_f = -np.log(np.exp(neg_e).sum(1))
    np.testing.assert_allclose(rbm.free_energy(V.astype("float32")).numpy(), want_f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(rbm.energy(V[:1].astype("float32"), H[3:4].astype("float32")).numpy(),
                               -neg_e[0, 3], rtol=1e-5)
    np.testing.assert_allclose(rbm.log_partition(), np.log(np.exp(neg_e).sum()), rtol=1e-6)
    np.testing.assert_allclose(np.exp(rbm.log_likelihood(V.astype("float32"))), p.sum(1), rtol=1e-4)
    # Conditionals: p(h_j = 1 | v) from the joint table.
    ph = p / p.sum(1, keepdims=True)
    np.testing.assert_allclose(rbm.hidden_probs(V.astype("float32")).numpy(), ph @ H, rtol=1e-5, atol=1e-6)


def test_cd_with_long_chains_approaches_the_exact_gradient():
    rbm = small_rbm()
    W, b, c = params(rbm)
    exact = exact_gradient(W, b, c, DATA)
    # The exact gradient is also the autodiff gradient of the exact mean log p(v).
    v_all = np.array(list(itertools.product([0, 1], repeat=4)), "float32")
    with tf.GradientTape() as tape:
        neg_f = -rbm.free_energy(v_all)
        log_z = tf.reduce_logsumexp(neg_f)
        ll = tf.reduce_mean(-rbm.free_energy(DATA)) - log_z
    auto = tape.gradient(ll, [rbm.W, rbm.b, rbm.c])
    for a, e in zip(auto, exact):
        np.testing.assert_allclose(a.numpy(), e, atol=1e-5)
    # CD-k from the data, many chains per data vector (the Monte Carlo error is
    # ~1/sqrt(n)). With these strong weights the chain mixes slowly: CD-1 is visibly
    # biased, while long chains reach the model's equilibrium.
    tiled = np.tile(DATA, (4000, 1))  # 24,000 chains
    errors = {}
    for k in (1, 100):
        v_model = rbm.gibbs(tiled, k, tf.constant([11, k], tf.int64))
        cd = rbm.cd_gradients(tiled, v_model)
        errors[k] = max(float(np.abs(g.numpy() - e).max()) for g, e in zip(cd, exact))
    scale = max(float(np.abs(e).max()) for e in exact)
    assert errors[100] < 0.02, errors
    assert errors[1] > 0.05 and errors[1] > 5 * errors[100], errors
    assert scale > 0.2  # the gradient is not trivially small


def test_pseudo_log_likelihood_by_brute_force():
    rbm = small_rbm()
    W, b, c = params(rbm)
    V, _, p, _ = joint_table(W, b, c)
    pv = p.sum(1)
    index = {tuple(v): i for i, v in enumerate(V)}
    want = []
    for v in DATA:
        total = 0.0
        for i in range(4):
            flipped = v.copy()
            flipped[i] = 1 - flipped[i]
            pa, pb = pv[index[tuple(v.astype(float))]], pv[index[tuple(flipped.astype(float))]]
            total += np.log(pa / (pa + pb))
        want.append(total)
    np.testing.assert_allclose(rbm.pseudo_log_likelihood(DATA), want, rtol=1e-6)


@pytest.mark.parametrize("persistent", [False, True])
def test_one_fit_step_changes_weights(persistent):
    rbm = RBM(n_visible=16, n_hidden=5, k=2, persistent=persistent, n_chains=8, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.1))
    x = (np.random.default_rng(0).random((32, 4, 4, 1)) < 0.3).astype("float32")
    before = params(rbm)
    chains_before = rbm.chains.numpy().copy() if persistent else None
    logs = rbm.fit(x, batch_size=32, epochs=1, verbose=0, shuffle=False).history
    assert np.isfinite(logs["reconstruction_error"][0]) and np.isfinite(logs["free_energy_gap"][0])
    for a, bb in zip(before, params(rbm)):
        assert not np.allclose(a, bb)
    if persistent:
        assert not np.array_equal(chains_before, rbm.chains.numpy())
    # The update is exactly lr * (CD estimate) for plain SGD at step 0 (CD only).
    if not persistent:
        fresh = RBM(n_visible=16, n_hidden=5, k=2, seed=0)
        v_model = fresh.gibbs(x, 2, tf.constant([0, 0], tf.int64))
        dW, _, _ = fresh.cd_gradients(x, v_model)
        np.testing.assert_allclose(rbm.W.numpy() - fresh.W.numpy(), 0.1 * dW.numpy(), atol=1e-6)


def test_training_raises_data_likelihood():
    keras.utils.set_random_seed(0)
    rbm = RBM(n_visible=4, n_hidden=3, k=1, seed=1, init_std=0.1)
    rbm.compile(optimizer=keras.optimizers.SGD(0.2, momentum=0.5))
    before = rbm.log_likelihood(DATA).mean()
    rbm.fit(np.tile(DATA, (20, 1)), batch_size=24, epochs=30, verbose=0)
    after = rbm.log_likelihood(DATA).mean()
    assert after > before + 0.5, (before, after)


def test_sample_shapes_and_errors():
    rbm = RBM(n_visible=6, n_hidden=2, seed=0)
    samples, means = rbm.sample(5, steps=3, seed=1)
    assert samples.shape == (5, 6) and set(np.unique(samples)) <= {0.0, 1.0}
    assert np.all((means >= 0) & (means <= 1))
    with pytest.raises(KerasGenError, match="n_hidden"):
        RBM(n_visible=4, n_hidden=0)
    with pytest.raises(KerasGenError, match="loss="):
        rbm.compile(loss="mse")
    with pytest.raises(KerasGenError, match="too many"):
        RBM(n_visible=30, n_hidden=25).log_partition()


def test_config_round_trip_and_keras_file(tmp_path):
    rbm = RBM(n_visible=6, n_hidden=3, k=3, persistent=True, n_chains=4, seed=2)
    rbm.compile()
    clone = RBM.from_config(rbm.get_config())
    assert (clone.k, clone.persistent, clone.n_chains, clone.n_hidden) == (3, True, 4, 3)
    rbm.W.assign(rbm.W.numpy() + 0.5)
    path = str(tmp_path / "rbm.keras")
    rbm.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.W.numpy(), rbm.W.numpy())
    np.testing.assert_allclose(loaded.chains.numpy(), rbm.chains.numpy())
    loaded.fit(np.ones((4, 6), "float32"), batch_size=4, epochs=1, verbose=0)


def test_export_reloads_without_keras_gen(tmp_path):
    rbm = small_rbm()
    path = rbm.export("rbm", base_dir=str(tmp_path))
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np, tensorflow as tf
        m = tf.saved_model.load({path!r})
        v = tf.constant({DATA.tolist()!r}, tf.float32)
        print(json.dumps({{"p_h": m.signatures["hidden_probs"](v=v)["p_h"].numpy().tolist(),
                          "f": m.signatures["free_energy"](v=v)["free_energy"].numpy().tolist(),
                          "keras_gen_loaded": "keras_gen" in sys.modules}}))
    """)
    got = run_fresh_python(script, cwd=str(tmp_path), without_keras_gen=True)
    assert not got["keras_gen_loaded"]
    np.testing.assert_allclose(got["p_h"], rbm.hidden_probs(DATA).numpy(), atol=1e-6)
    np.testing.assert_allclose(got["f"], rbm.free_energy(DATA).numpy(), atol=1e-5)


DISTRIBUTED = textwrap.dedent("""
    import json
    from keras_gen.training.strategy import setup_logical_cpus, get_strategy
    setup_logical_cpus(2)
    import keras, numpy as np, tensorflow as tf
    from keras_gen.models.rbm import RBM

    x = (np.random.default_rng(0).random((64, 12)) < 0.4).astype("float32")

    def train(name):
        strategy = get_strategy(name)
        with strategy.scope():
            rbm = RBM(n_visible=12, n_hidden=5, k=2, seed=4, init_std=0.3)
            rbm.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
        ds = tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True)
        history = rbm.fit(ds, epochs=2, verbose=0).history
        return strategy.num_replicas_in_sync, [w.numpy() for w in (rbm.W, rbm.b, rbm.c)], history["reconstruction_error"]

    n1, w1, l1 = train("default")
    n2, w2, l2 = train("mirrored")
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2))
    moved = float(np.abs(w1[1]).max())
    print(json.dumps({"replicas": [n1, n2], "max_weight_diff": diff, "moved": moved, "loss1": l1, "loss2": l2}))
""")


@pytest.mark.slow
def test_two_replicas_match_one_replica():
    got = run_fresh_python(DISTRIBUTED)
    assert got["replicas"] == [1, 2]
    assert got["moved"] > 1e-3
    assert got["max_weight_diff"] < 1e-5, got
    np.testing.assert_allclose(got["loss1"], got["loss2"], rtol=1e-5)
