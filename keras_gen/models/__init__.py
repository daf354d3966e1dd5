"""keras_gen.models."""
from keras_gen.models.autoencoder import group_meeting_autoencoder  # noqa: F401
from keras_gen.models.vae import VAE, conv_decoder, conv_encoder, mlp_decoder, mlp_encoder  # noqa: F401
