"""Installs keras_gen and the `keras-gen` command.

TensorFlow is chosen by extra: `pip install -e ".[cpu]"` (tensorflow-cpu) or
`pip install -e ".[gpu]"` (tensorflow with CUDA). `.[test]` adds pytest and what the
tests need.
"""
from setuptools import find_packages, setup

TF_VERSION = "2.21.*"

setup(
    name="keras_gen",
    version="0.1.0",
    description=(
        "Deep generative models (autoencoders, GANs, WGANs, VAEs, GMMN, RBM) as Keras 3 / "
        "TensorFlow models that train with fit, scale with tf.distribute and export "
        "SavedModels; reproductions of a research group's notes."
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_gen", "keras_gen.*", "reproductions", "reproductions.*"]),
    include_package_data=True,
    # small data files users need offline (each with its licence beside it)
    package_data={"keras_gen.data": ["files/*.npz", "files/*.LICENSE", "files/*.md"]},
    install_requires=[
        "keras>=3.10,<4",
        "tensorflow-datasets>=4.9.6,<5",
        "music21>=9.1,<11",
        "mlxtend>=0.23,<1",
        "matplotlib>=3.8,<4",
        # tensorflow-cpu 2.21 no longer pulls it in; fit's TensorBoard callback needs it.
        "tensorboard>=2.16,<3",
        "numpy>=1.26,<3",
        "scipy>=1.11,<2",
        # the optimisation and validation reproductions (load_wine, k-fold), t-SNE/PCA figures
        "scikit-learn>=1.4,<2",
        # Zachary's karate club ships inside networkx; graph spectra are checked against it
        "networkx>=3.2,<4",
        # CliffWalking-v1 and CartPole-v1 ship inside gymnasium (no download, no rendering)
        "gymnasium>=1.0,<2",
        # tensorflow-datasets 4.9.10 cannot prepare a builder defined inside a package
        # on Python 3.11 without it.
        "importlib_resources>=6",
    ],
    extras_require={
        "cpu": [f"tensorflow-cpu=={TF_VERSION}"],
        "gpu": [f"tensorflow[and-cuda]=={TF_VERSION}"],
        "test": ["pytest>=8", "pytest-xdist>=3.8"],
    },
    entry_points={"console_scripts": ["keras-gen=keras_gen.cli:main"]},
)
