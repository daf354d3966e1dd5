"""C8 / S8: G(z, y); D(x) outputs real/fake and class logits, both players also minimise the class cross-entropy.

Generates 100 digits of each class and reports the share the shared digit classifier
labels as requested (claim: >= 90% in every report seed). The experiment, its numbers and figures are
described in `reproductions/conditional_gan_mnist.py`; this module sets the model
(ACGAN). `conditional_gan_mnist.run` trains it through `common.Run` and writes the claim
record (`claims` in metrics.json: C8, the requested-class share in every seed, beside
chance for a generator that ignores the label and the classifier's accuracy on real digits) that `tests/reproductions/test_conditional_gan_mnist.py`
checks for both models.
"""
import dataclasses

from reproductions import conditional_gan_mnist

NAME = "acgan-mnist"


@dataclasses.dataclass
class HParams(conditional_gan_mnist.HParams):
    """The options of `conditional_gan_mnist.HParams`."""


def run(hp):
    return conditional_gan_mnist.run("acgan", NAME, hp)


def export(out, base_dir="saved_models", version=None):
    """Exports the ACGAN trained in `out` (signatures generate, discriminate, classify)."""
    return conditional_gan_mnist.export("acgan", out, base_dir=base_dir, version=version)
