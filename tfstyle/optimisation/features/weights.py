"""Where pretrained weights come from. No TensorFlow import, so the CLI can check before loading
it, and nothing is ever downloaded: a missing file is an error that says what to get and where.
"""
import os

from tfstyle.errors import TfstyleError

# Keras' own file names, so a file fetched for keras.applications is found in Keras' cache.
KERAS_FILES = {
    "vgg19": ("vgg19/", "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    "resnet50": ("resnet/", "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/"
VIT_PRESET = "vit_base_patch16_224_imagenet"


def keras_cache(filename):
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(home, "models", filename)


def resolve(network, weights=None):
    """The weights file (or keras-hub preset folder) to load, or a TfstyleError."""
    if weights:
        # A TensorFlow checkpoint is named by its prefix: model.ckpt-200000 has .index and .data.
        if not (os.path.exists(weights) or os.path.exists(weights + ".index")):
            raise TfstyleError(f"{network} weights: {weights} does not exist")
        return weights
    if network == "nsynth":
        raise TfstyleError(
            "nsynth needs Magenta's WaveNet checkpoint and tfstyle never downloads: get "
            "wavenet-ckpt.tar (linked from magenta/models/nsynth/README.md), unpack it and pass "
            "--weights .../wavenet-ckpt/model.ckpt-200000, or use --random-weights")
    if network == "vit":
        raise TfstyleError(
            f"vit needs pretrained weights: download the keras-hub preset '{VIT_PRESET}' "
            "(Kaggle: keras/vit) to a folder and pass --weights FOLDER, or use --random-weights")
    folder, filename = KERAS_FILES[network]
    cached = keras_cache(filename)
    if os.path.exists(cached):
        return cached
    raise TfstyleError(
        f"{network} needs pretrained weights and tfstyle never downloads: get "
        f"{ORIGIN}{folder}{filename} and put it at {cached} (or pass --weights FILE), "
        "or use --random-weights")
