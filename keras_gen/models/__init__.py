"""keras_gen.models."""
from keras_gen import require_tensorflow

require_tensorflow()

from keras_gen.models.autoencoder import group_meeting_autoencoder  # noqa: F401
from keras_gen.models.gan import GAN, AdversarialModel  # noqa: F401
from keras_gen.models.wgan import WGAN, WGANGP  # noqa: F401
from keras_gen.models.dcgan import dcgan_discriminator, dcgan_generator  # noqa: F401
from keras_gen.models.mlp_gan import mlp_discriminator, mlp_generator  # noqa: F401
from keras_gen.models.piano_roll_gan import piano_roll_critic, piano_roll_generator  # noqa: F401
from keras_gen.models.vae import VAE, conv_decoder, conv_encoder, mlp_decoder, mlp_encoder  # noqa: F401
from keras_gen.models.cvae import CVAE  # noqa: F401
from keras_gen.models.aae import AAE, deterministic_encoder, latent_discriminator  # noqa: F401
from keras_gen.models.autoencoder_variants import (  # noqa: F401
    MaskingNoise, conv_autoencoder, dense_autoencoder, denoising_autoencoder, regularized_autoencoder, sparse_autoencoder,
)
from keras_gen.models.gmmn import GMMN  # noqa: F401
from keras_gen.models.rbm import RBM  # noqa: F401
from keras_gen.models.spectral_norm import spectral_normalize  # noqa: F401
from keras_gen.models.feature_network import feature_network  # noqa: F401
from keras_gen.models.fgan import FGAN  # noqa: F401
from keras_gen.models.cgan import CGAN  # noqa: F401
from keras_gen.models.acgan import ACGAN  # noqa: F401
from keras_gen.models.infogan import InfoGAN  # noqa: F401
from keras_gen.models.bigan import BiGAN, bigan_discriminator, bigan_encoder  # noqa: F401
from keras_gen.models.gnn import (  # noqa: F401
    export_node_classifier, gat_classifier, gcn_classifier, hidden_representation, sage_classifier,
)
from keras_gen.models.seq2seq import RNNSeq2Seq, Seq2Seq  # noqa: F401
from keras_gen.models.transformer import Transformer  # noqa: F401
