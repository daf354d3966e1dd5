"""keras_gen.losses: pure loss and penalty functions (per-example, averaged by the caller)."""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.losses.gan import (  # noqa: F401
    GENERATOR_LOSSES,
    minimax_discriminator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from keras_gen.losses.penalties import (  # noqa: F401
    clip_weights,
    gradient_penalty,
    interpolate,
    interpolation_weights,
    r1_penalty,
    safe_norm,
)
from keras_gen.losses.vae import bernoulli_reconstruction, gaussian_kl, gaussian_log_density, gaussian_reconstruction  # noqa: F401
from keras_gen.losses.mmd import mmd2, replica_mmd2  # noqa: F401
from keras_gen.losses.fgan import (  # noqa: F401
    F_DIVERGENCES,
    FGAN_GENERATOR_LOSSES,
    FDivergence,
    fgan_discriminator_loss,
    fgan_generator_loss,
    get_divergence,
)
from keras_gen.losses.feature_matching import feature_matching_loss, replica_feature_matching_loss  # noqa: F401
from keras_gen.losses.classification import (  # noqa: F401
    SoftmaxSquaredError,
    cross_entropy_logit_gradient,
    softmax_cross_entropy,
    softmax_squared_error,
    squared_error_logit_gradient,
)
