"""keras_gen.models."""
from keras_gen.models.autoencoder import group_meeting_autoencoder  # noqa: F401
