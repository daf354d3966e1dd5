"""Adversarial training (Madry et al. 2018) as a `keras.Model` wrapper: `fit` on PGD examples.

Madry et al. train the classifier f_theta on the worst case within the budget instead of
the data:

    min_theta  E_(x, y) [ max_{||delta|| <= epsilon} L(f_theta(x + delta), y) ]

approximating the inner maximum by PGD (`keras_gen.adversarial.pgd_tensor`; on MNIST
they used 40 steps of 0.01 at epsilon 0.3, with a random start). `AdversarialTraining`
wraps any Keras classifier: its `train_step` replaces every batch by the PGD examples of
the classifier as it is at that step (run with `training=False`, so dropout and
batch-norm statistics do not change the attack) and then makes Keras's ordinary step on
them (`super().train_step`: the compiled loss, metrics, optimizer, loss scaling and
distribution all work as for the bare classifier). Evaluation (`evaluate`, `predict`,
validation data) runs the classifier on the inputs as given: clean accuracy. Measure
robust accuracy with `keras_gen.adversarial.pgd` on the trained `classifier`.

    model = AdversarialTraining(classifier=cnn, epsilon=0.3, norm="linf", steps=10)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5)       # trains `cnn` in place
    x_adv = pgd(cnn, x_test, y_test, 0.3)       # robust accuracy: cnn on x_adv

`warmup_steps` ramps epsilon linearly from epsilon/warmup_steps to epsilon over the
first optimizer steps, a common help for small networks that otherwise stall at chance
on the full budget from the start (e.g. Gowal et al. 2018); 0 (default) is Madry et al.
"""
import keras
import numpy as np
import tensorflow as tf

from keras_gen.adversarial import attacks
from keras_gen.errors import KerasGenError, unknown_name
from keras_gen.training.strategy import replica_rows

START_STREAM = 0  # fold-in constant of the random start's noise


@keras.saving.register_keras_serializable(package="keras_gen")
class AdversarialTraining(keras.Model):
    """Trains `classifier` on its own PGD examples (Madry et al. 2018); see the module docstring.

    Args:
        classifier: a Keras classifier returning `[n, classes]` logits or probabilities.
        epsilon: the attack budget (>= 0) in `norm`.
        norm: "linf" or "l2".
        steps: PGD steps per batch (>= 1).
        step_size: PGD's alpha; default 2.5 * epsilon / steps.
        random_start: start PGD from a uniform point of the ball.
        clip_range: the valid input range `(low, high)` or None.
        from_logits: True, False or "auto" (see `keras_gen.adversarial.attacks`).
        warmup_steps: optimizer steps over which epsilon ramps up linearly (0: none).
        seed: seed of the random starts (with the optimizer's step counter).
        **kwargs: `keras.Model` arguments (`name`, ...).

    Labels may be class indices `[n]` / `[n, 1]` or one-hot `[n, classes]` (the attack
    takes their argmax).
    """

    def __init__(self, classifier, epsilon=0.3, norm="linf", steps=7, step_size=None, random_start=True,
                 clip_range=(0.0, 1.0), from_logits="auto", warmup_steps=0, seed=0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(classifier, keras.Model):
            raise KerasGenError(f"classifier must be a keras.Model, got {type(classifier).__name__}")
        if norm not in attacks.NORMS:
            raise unknown_name("norm", norm, attacks.NORMS)
        self.epsilon = attacks._check_number("epsilon", epsilon, low=0)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise KerasGenError(f"steps must be an integer >= 1, got {steps!r}")
        self.step_size = None if step_size is None else attacks._check_number("step_size", step_size, above=0)
        if clip_range is not None:
            if len(clip_range) != 2 or not float(clip_range[0]) < float(clip_range[1]):
                raise KerasGenError(f"clip_range must be (low, high) with low < high, got {clip_range!r}")
            clip_range = (float(clip_range[0]), float(clip_range[1]))
        if from_logits not in (True, False, "auto"):
            raise KerasGenError(f"from_logits must be True, False or 'auto', got {from_logits!r}")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)) or warmup_steps < 0:
            raise KerasGenError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
        self.classifier = classifier
        self.norm = norm
        self.steps = int(steps)
        self.random_start = bool(random_start)
        self.clip_range = clip_range
        self.from_logits = from_logits
        self.warmup_steps = int(warmup_steps)
        self.seed = int(seed)
        self._logits_fn = attacks.logits_function(classifier, from_logits)
        if classifier.built:
            self.built = True

    # === Keras plumbing ===
    def call(self, inputs, training=False):
        """The classifier on `inputs` as given (predict and evaluate see clean inputs)."""
        return self.classifier(inputs, training=training)

    # === Madry et al.'s step ===
    def current_epsilon(self):
        """epsilon * min(1, (t + 1) / warmup_steps) at optimizer step t; epsilon without warm-up."""
        if self.warmup_steps == 0 or self.optimizer is None:
            return tf.constant(self.epsilon, tf.float32)
        t = tf.cast(self.optimizer.iterations, tf.float32)
        return self.epsilon * tf.minimum(1.0, (t + 1.0) / self.warmup_steps)

    def adversarial_examples(self, x, y):
        """PGD examples of the classifier for the batch `(x, y)` (labels: indices or one-hot)."""
        labels = tf.convert_to_tensor(y)
        if labels.shape.rank == 2 and labels.shape[-1] != 1:
            labels = tf.argmax(labels, axis=-1)
        labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
        x = tf.cast(x, tf.float32)
        epsilon = self.current_epsilon()
        step = tf.cast(self.optimizer.iterations if self.optimizer is not None else 0, tf.int32)
        seed = tf.stack([tf.constant(self.seed, tf.int32), step * 2 + START_STREAM])
        start = None
        if self.random_start:
            # Drawn for the global batch and sliced per replica: a global example gets the
            # same start whatever the number of replicas.
            feature_shape = tf.shape(x)[1:]
            start = replica_rows(
                lambda n: attacks.random_in_ball(tf.concat([[n], feature_shape], 0), epsilon, self.norm, seed),
                tf.shape(x)[0])
        return attacks.pgd_tensor(self._logits_fn, x, labels, epsilon, norm=self.norm, steps=self.steps,
                                  step_size=self.step_size, random_start=False, start=start,
                                  clip_range=self.clip_range)

    def train_step(self, data):
        """PGD examples of the batch, then Keras's ordinary training step on them."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise KerasGenError("adversarial training needs labels: fit on (x, y)")
        x_adv = self.adversarial_examples(x, y)
        return super().train_step(keras.utils.pack_x_y_sample_weight(x_adv, y, sample_weight))

    # === Config ===
    def get_config(self):
        config = super().get_config()
        config.update({
            "classifier": keras.saving.serialize_keras_object(self.classifier),
            "epsilon": self.epsilon,
            "norm": self.norm,
            "steps": self.steps,
            "step_size": self.step_size,
            "random_start": self.random_start,
            "clip_range": None if self.clip_range is None else list(self.clip_range),
            "from_logits": self.from_logits,
            "warmup_steps": self.warmup_steps,
            "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["classifier"] = keras.saving.deserialize_keras_object(config["classifier"])
        return cls(**config)
