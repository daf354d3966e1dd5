"""keras_gen.losses."""
from keras_gen.losses.vae import bernoulli_reconstruction, gaussian_kl, gaussian_log_density, gaussian_reconstruction  # noqa: F401
from keras_gen.losses.mmd import mmd2, replica_mmd2  # noqa: F401
