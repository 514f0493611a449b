"""Pretrained image backbones (VGG19, ResNet50, ViT) as audio feature networks.

A spectrogram-like representation becomes an image: height = frequency (low at the bottom),
width = time, scaled to 0..255 with a fixed range taken from the content (so the mapping is the
same for every clip of a run and differentiable), copied to three channels and preprocessed as
the backbone expects. Each network returns a dict of named taps.

Weights never come from the network: `weights` is a local file (Keras `.h5` / `.weights.h5`, or a
keras-hub preset folder for ViT); without it the Keras cache (~/.keras/models, or $KERAS_HOME) is
tried; `random_weights=True` uses seeded random weights instead (offline runs and tests).
"""
import keras
import tensorflow as tf

from tfstyle.errors import TfstyleError
from tfstyle.optimisation.features.weights import resolve

# ViT geometry used with random weights: ViT-Tiny/16 (5.7 M parameters).
VIT_RANDOM = dict(image_shape=(224, 224, 3), patch_size=16, num_layers=12, num_heads=3,
                  hidden_dim=192, mlp_dim=768)

DEFAULT_LAYERS = {
    # Gatys et al.: style conv1_1..conv5_1, content conv4_2.
    "vgg19": (["block4_conv2"], ["block1_conv1", "block2_conv1", "block3_conv1",
                                 "block4_conv1", "block5_conv1"]),
    "resnet50": (["conv4_block6_out"], ["conv1_relu", "conv2_block3_out", "conv3_block4_out",
                                        "conv4_block6_out"]),
}


def build_cnn(network, weights=None, random_weights=False, pooling="max", seed=0):
    """VGG19 or ResNet50 (no top, any image size) as a multi-output model of every layer."""
    app = {"vgg19": keras.applications.VGG19, "resnet50": keras.applications.ResNet50}[network]
    path = None if random_weights else resolve(network, weights)
    keras.utils.set_random_seed(seed)
    model = app(weights=None, include_top=False, input_shape=(None, None, 3))
    if path:
        try:
            model.load_weights(path)
        except Exception as e:  # h5py/keras raise many types for a wrong file
            raise TfstyleError(f"{network} weights: cannot load {path} "
                               f"({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    if pooling == "avg" and network == "vgg19":
        # Gatys found average pooling gives smoother results than max pooling.
        pooled = keras.models.clone_model(
            model, clone_function=lambda layer: keras.layers.AveragePooling2D(
                layer.pool_size, layer.strides, layer.padding, name=layer.name)
            if isinstance(layer, keras.layers.MaxPooling2D) else layer.__class__.from_config(
                layer.get_config()))
        pooled.set_weights(model.get_weights())
        model = pooled
    outputs = {layer.name: layer.output for layer in model.layers[1:]}
    extractor = keras.Model(model.inputs, outputs, name=f"{network}_features")
    extractor.trainable = False
    return extractor


def preprocess_cnn(network, image):
    """Image in 0..255, RGB → the backbone's expected input (Caffe-style BGR mean subtraction)."""
    module = {"vgg19": keras.applications.vgg19, "resnet50": keras.applications.resnet50}
    return module[network].preprocess_input(image)


def build_vit(weights=None, random_weights=False, seed=0):
    """keras-hub ViT with a tap after every transformer block ("block1" ... "blockN")."""
    try:
        import keras_hub
    except ImportError:
        raise TfstyleError("the vit network needs keras-hub, a tfstyle dependency: "
                           "pip install keras-hub") from None
    if random_weights:
        keras.utils.set_random_seed(seed)
        backbone = keras_hub.models.ViTBackbone(**VIT_RANDOM)
    else:
        path = resolve("vit", weights)
        try:
            backbone = keras_hub.models.ViTBackbone.from_preset(path)
        except Exception as e:
            raise TfstyleError(f"vit weights: cannot load the preset folder {path} "
                               f"({type(e).__name__})") from None
    embed = backbone.get_layer("vit_patching_and_embedding")
    encoder = backbone.get_layer("vit_encoder")
    inputs = keras.Input(shape=backbone.image_shape, name="image")
    outputs, x = {}, embed(inputs)
    for i, block in enumerate(encoder.encoder_layers, start=1):
        x = block(x)
        outputs[f"block{i}"] = x
    extractor = keras.Model(inputs, outputs, name="vit_features")
    extractor.trainable = False
    extractor.image_size = backbone.image_shape[:2]
    return extractor


def to_image(rep, lo, hi):
    """[1, frames, channels] → [1, channels, frames, 3] in 0..255, low frequencies at the bottom."""
    scaled = (rep - lo) / tf.maximum(hi - lo, 1e-6) * 255.0
    image = tf.reverse(tf.transpose(scaled, [0, 2, 1]), axis=[1])[..., None]
    return tf.tile(image, [1, 1, 1, 3])
