"""keras_gen.adversarial: attacks on any Keras classifier and adversarial training (T11).

* `fgsm`, `pgd`: FGSM (Goodfellow et al. 2015) and PGD (Madry et al. 2018), untargeted or
  targeted, under L-infinity or L2 budgets, per example, clipped to the pixel range;
  NumPy in, NumPy out, classifiers returning logits or probabilities.
* `random_perturbation`: noise of the same norm, the baseline an attack must beat.
* `fgsm_tensor`, `pgd_tensor`, `logits_function`: the same attacks on tensors, for
  use inside a `train_step` or a `tf.function`.
* `AdversarialTraining`: a `keras.Model` wrapper whose `fit` trains a classifier on PGD
  examples made on the fly (Madry et al. 2018).
"""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.adversarial.attacks import (  # noqa: F401
    NORMS,
    attack_objective,
    fgsm,
    fgsm_tensor,
    input_gradient,
    logits_function,
    on_sphere,
    perturbation_norms,
    pgd,
    pgd_tensor,
    project,
    random_in_ball,
    random_perturbation,
    step_direction,
)
from keras_gen.adversarial.adversarial_training import AdversarialTraining  # noqa: F401
