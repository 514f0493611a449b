"""FeatureExtractor: a frozen Keras model plus how to feed it a representation (see the package
docstring for the networks)."""
import tensorflow as tf

from tfstyle.errors import TfstyleError
from tfstyle.optimisation.features.catalog import NETWORKS
from tfstyle.optimisation.features.random_cnn import RandomCNN1D
from tfstyle.optimisation.features.random_cnn2d import RandomCNN2D



class FeatureExtractor:
    """A frozen Keras model plus how to feed it a representation and which taps to use.

    Attributes:
        model: the Keras model (dict of taps out).
        content_layers, style_layers: default taps for the losses.
        receptive_field: frames of context one output position sees (for chunk overlap).
        native_frames: frames per window the network wants (ViT), else None.
    """

    def __init__(self, model, prepare, content_layers, style_layers, receptive_field,
                 native_frames=None, to_maps=None):
        self.model = model
        self._prepare = prepare
        self._to_maps = to_maps or (lambda taps: taps)
        self.content_layers = list(content_layers)
        self.style_layers = list(style_layers)
        self.receptive_field = receptive_field
        self.native_frames = native_frames
        self.tap_names = list(model.output.keys())

    def __call__(self, rep, layers=None):
        taps = self.model(self._prepare(rep))
        if layers is not None:
            taps = {name: taps[name] for name in layers}
        return self._to_maps(taps)

    def check_layers(self, layers):
        unknown = [name for name in layers if name not in self.tap_names]
        if unknown:
            raise TfstyleError(f"unknown layer(s) {', '.join(unknown)}; this network has: "
                               f"{', '.join(self.tap_names)}")


def _ints(value):
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        return [int(v) for v in value.split(",") if v.strip()]
    return [int(v) for v in value]


def build(network, channels, filters="4096", kernel_size="3", activation="relu", seed=0,
          weights=None, random_weights=False, pooling="max", image_range=(0.0, 1.0),
          matmul_dtype="float32"):
    """Builds the named network for a representation with `channels` channels.

    `filters`/`kernel_size` are comma-separated per layer for the random networks;
    `image_range` is the (lo, hi) representation range mapped to image 0..255;
    `matmul_dtype` is the random 1-D CNN's product format (`tfstyle.optimisation.precision`).
    """
    if network not in NETWORKS:
        raise TfstyleError(f"unknown network {network!r}; choose one of {', '.join(NETWORKS)}")
    if network == "random-cnn":
        f, k = _ints(filters), _ints(kernel_size)
        if len(k) == 1:
            k = k * len(f)
        model = RandomCNN1D(channels, filters=f, kernel_size=k, activation=activation,
                            seed=seed, matmul_dtype=matmul_dtype)
        act = "conv" if activation == "none" else activation
        last = len(f)
        return FeatureExtractor(model, lambda rep: rep, [f"{act}{last}"],
                                [f"{act}{i}" for i in range(1, last + 1)],
                                model.receptive_field,
                                to_maps=lambda taps: {n: t[0] for n, t in taps.items()})
    if network == "cnn2d":
        f, k = _ints(filters), _ints(kernel_size)
        kernel = (k[0], 1) if len(k) == 1 else tuple(k[:2])
        model = RandomCNN2D(filters=f, kernel_size=kernel, seed=seed)
        last = len(f)
        return FeatureExtractor(
            model, lambda rep: tf.transpose(rep, [0, 2, 1])[..., None], [f"leaky_relu{last}"],
            [f"leaky_relu{i}" for i in range(1, last + 1)], model.receptive_field,
            to_maps=lambda taps: {n: t[0] for n, t in taps.items()})

    if network == "nsynth":
        from tfstyle.optimisation.features import nsynth, weights as weight_files

        model = nsynth.NSynthEncoder(seed=seed)
        if not random_weights:
            nsynth.load_checkpoint(model, weight_files.resolve("nsynth", weights))
        # Boemer, Gong & Homma: style on the ReLU taps across the three dilation stages,
        # content on the final block.
        style = [f"relu_{ab}_{i}" for i in (1, 10, 20, 30) for ab in ("a", "b")]
        return FeatureExtractor(model, lambda rep: rep, ["relu_b_30"], style,
                                model.receptive_field,
                                to_maps=lambda taps: {n: t[0] for n, t in taps.items()})

    from tfstyle.optimisation.features import backbones

    lo, hi = image_range
    if network == "vit":
        model = backbones.build_vit(weights, random_weights, seed)
        size = model.image_size

        def prepare(rep):
            image = backbones.to_image(rep, lo, hi)
            return tf.image.resize(image, size) / 127.5 - 1.0

        names = list(model.output.keys())
        # Tokens are [batch, 1 + patches, dim]; drop the class token, keep patches as positions.
        return FeatureExtractor(model, prepare, [names[-1]], names, size[1], size[1],
                                to_maps=lambda taps: {n: t[0, 1:] for n, t in taps.items()})
    model = backbones.build_cnn(network, weights, random_weights, pooling, seed)
    content, style = backbones.DEFAULT_LAYERS[network]
    return FeatureExtractor(
        model, lambda rep: backbones.preprocess_cnn(network, backbones.to_image(rep, lo, hi)),
        content, style, receptive_field=64,
        to_maps=lambda taps: {n: t[0] for n, t in taps.items()})

