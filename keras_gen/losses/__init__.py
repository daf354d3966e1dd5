"""keras_gen.losses."""
from keras_gen.losses.vae import bernoulli_reconstruction, gaussian_kl, gaussian_log_density, gaussian_reconstruction  # noqa: F401
