"""Small shared pieces of the GAN model tests (tiny MLP players, data)."""

import numpy as np
import tensorflow as tf

from keras_gen.models import mlp_discriminator, mlp_generator


def tiny_players(data_dim=2, latent_dim=3, hidden=(8,)):
    return mlp_generator(data_dim, latent_dim, hidden), mlp_discriminator(data_dim, hidden)


def toy_data(n=64, dim=2, seed=0):
    return np.random.RandomState(seed).normal(size=(n, dim)).astype("float32") + 2.0


def toy_dataset(batch=16, n=64, dim=2):
    return tf.data.Dataset.from_tensor_slices(toy_data(n, dim)).batch(batch, drop_remainder=True)
