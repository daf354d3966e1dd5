"""C8 / S7: G(z, y) and D(x, y), the one-hot label concatenated to z and tiled over D's input image.

Generates 100 digits of each class and reports the share the shared digit classifier
labels as requested (claim: >= 90% in every report seed). The experiment, its numbers and figures are
described in `reproductions/conditional_gan_mnist.py`; this module sets the model
(CGAN). `conditional_gan_mnist.run` trains it through `common.Run` and writes the claim
record (`claims` in metrics.json: C8, the requested-class share in every seed, beside
chance for a generator that ignores the label and the classifier's accuracy on real digits) that `tests/reproductions/test_conditional_gan_mnist.py`
checks for both models.
"""
import dataclasses

from reproductions import conditional_gan_mnist

NAME = "cgan-mnist"


@dataclasses.dataclass
class HParams(conditional_gan_mnist.HParams):
    """The options of `conditional_gan_mnist.HParams`."""


def run(hp):
    return conditional_gan_mnist.run("cgan", NAME, hp)


def export(out, base_dir="saved_models", version=None):
    """Exports the CGAN trained in `out` (signatures generate, discriminate)."""
    return conditional_gan_mnist.export("cgan", out, base_dir=base_dir, version=version)
