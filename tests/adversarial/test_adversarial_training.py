"""AdversarialTraining: Madry et al.'s step, config, saving, distribution."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gen.adversarial import AdversarialTraining
from keras_gen.errors import KerasGenError, UnknownNameError
from tests.helpers import run_fresh_python


def _softmax_regression(seed=0, activation=None):
    rng = np.random.default_rng(seed)
    inputs = keras.Input((3, 3, 1))
    dense = keras.layers.Dense(3, activation=activation, name="logits")
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([rng.normal(size=(9, 3)).astype("float32"), rng.normal(size=3).astype("float32") * 0.1])
    return model


def _data(n=8, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.95, (n, 3, 3, 1)).astype("float32"), rng.integers(0, 3, n)


def _np_softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def test_one_step_is_sgd_on_the_fgsm_examples_of_the_closed_form():
    """steps=1, step_size=epsilon, no random start: the batch becomes FGSM's examples
    clip(x + eps sign(W (p - e_y))), and SGD steps on their mean cross-entropy:
    dL/dW = x_adv^T (p_adv - e_y) / n, dL/db = mean(p_adv - e_y)."""
    x, y = _data()
    model = _softmax_regression()
    w, b = [v.copy() for v in model.get_layer("logits").get_weights()]
    eps, lr = 0.1, 0.5
    trainer = AdversarialTraining(classifier=model, epsilon=eps, steps=1, step_size=eps, random_start=False,
                                  from_logits=True)
    trainer.compile(optimizer=keras.optimizers.SGD(lr),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    trainer.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)

    flat = x.reshape(len(x), -1)
    onehot = np.eye(3)[y]
    x_adv = np.clip(flat + eps * np.sign((_np_softmax(flat @ w + b) - onehot) @ w.T), 0, 1)
    err = _np_softmax(x_adv @ w + b) - onehot
    new_w, new_b = model.get_layer("logits").get_weights()
    np.testing.assert_allclose(new_w, w - lr * x_adv.T @ err / len(x), atol=1e-5)
    np.testing.assert_allclose(new_b, b - lr * err.mean(0), atol=1e-5)


def test_fit_gives_finite_losses_changes_weights_and_accepts_one_hot_labels():
    x, y = _data(32)
    model = _softmax_regression(activation="softmax")
    before = [v.copy() for v in model.get_weights()]
    trainer = AdversarialTraining(classifier=model, epsilon=0.5, norm="l2", steps=3, seed=4)
    trainer.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = trainer.fit(x, np.eye(3)[y], batch_size=8, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    # evaluation sees the clean inputs: it equals the classifier's own evaluation
    trainer_eval = trainer.evaluate(x, np.eye(3)[y], verbose=0, return_dict=True)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    assert trainer_eval["accuracy"] == pytest.approx(model.evaluate(x, np.eye(3)[y], verbose=0, return_dict=True)
                                                     ["accuracy"])


def test_adversarial_examples_stay_within_budget_and_warm_up():
    x, y = _data(16)
    trainer = AdversarialTraining(classifier=_softmax_regression(), epsilon=0.3, steps=4, warmup_steps=10,
                                  from_logits=True)
    trainer.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    trainer.optimizer.iterations.assign(4)
    assert float(trainer.current_epsilon()) == pytest.approx(0.3 * 5 / 10)
    x_adv = trainer.adversarial_examples(tf.constant(x), tf.constant(y)).numpy()
    assert np.abs(x_adv - x).max() <= 0.15 + 1e-6 and np.abs(x_adv - x).max() > 0.1
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    trainer.optimizer.iterations.assign(100)
    assert float(trainer.current_epsilon()) == pytest.approx(0.3)


def test_config_round_trip_and_keras_file(tmp_path):
    model = _softmax_regression()
    trainer = AdversarialTraining(classifier=model, epsilon=2.0, norm="l2", steps=3, step_size=0.5,
                                  random_start=False, clip_range=(0.0, 1.0), from_logits=True, warmup_steps=5,
                                  seed=9, name="robust")
    config = trainer.get_config()
    clone = AdversarialTraining.from_config(config)
    for key in ("epsilon", "norm", "steps", "step_size", "random_start", "clip_range", "from_logits", "warmup_steps",
                "seed"):
        assert clone.get_config()[key] == config[key], key
    trainer.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _data(8)
    trainer.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "robust.keras")
    trainer.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, AdversarialTraining) and loaded.norm == "l2" and loaded.epsilon == 2.0
    np.testing.assert_allclose(loaded.predict(x, verbose=0), trainer.predict(x, verbose=0), atol=1e-6)


def test_bad_arguments_get_one_line_errors():
    model = _softmax_regression()
    cases = [
        (dict(norm="l1"), UnknownNameError, "unknown norm 'l1'"),
        (dict(epsilon=-1.0), KerasGenError, "epsilon must be >= 0"),
        (dict(steps=0), KerasGenError, "steps must be an integer >= 1"),
        (dict(step_size=-0.1), KerasGenError, "step_size must be > 0"),
        (dict(clip_range=(1.0, 0.0)), KerasGenError, "clip_range must be"),
        (dict(warmup_steps=-1), KerasGenError, "warmup_steps must be an integer >= 0"),
        (dict(from_logits="maybe"), KerasGenError, "from_logits must be"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            AdversarialTraining(classifier=model, **kwargs)
    with pytest.raises(KerasGenError, match="classifier must be a keras.Model"):
        AdversarialTraining(classifier=lambda v: v)
    trainer = AdversarialTraining(classifier=model)
    trainer.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(KerasGenError, match="needs labels"):
        trainer.fit(_data()[0], epochs=1, verbose=0)


@pytest.mark.slow
def test_two_replicas_make_the_update_of_one():
    """With 2 logical CPUs, MirroredStrategy at global batch 8 equals one device at batch 8
    (random starts drawn for the global batch, the loss averaged over it)."""
    code = """
    import json
    import numpy as np
    import tensorflow as tf
    from keras_gen.training.strategy import get_strategy, setup_logical_cpus
    setup_logical_cpus(2)
    import keras
    from keras_gen.adversarial import AdversarialTraining

    def run(strategy):
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 1, (16, 3, 3, 1)).astype("float32")
        y = rng.integers(0, 3, 16)
        with strategy.scope():
            inputs = keras.Input((3, 3, 1))
            dense = keras.layers.Dense(3, name="logits")
            model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
            dense.set_weights([rng.normal(size=(9, 3)).astype("float32"), np.zeros(3, "float32")])
            trainer = AdversarialTraining(classifier=model, epsilon=0.2, steps=2, seed=3, from_logits=True)
            trainer.compile(optimizer=keras.optimizers.SGD(0.5),
                            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8, drop_remainder=True)
        trainer.fit(ds, epochs=1, verbose=0)
        return [w.tolist() for w in model.get_weights()]

    one = run(tf.distribute.get_strategy())
    two = run(get_strategy("mirrored"))
    print(json.dumps({"diff": float(max(np.abs(np.array(a) - np.array(b)).max() for a, b in zip(one, two)))}))
    """
    assert run_fresh_python(code)["diff"] < 1e-5
