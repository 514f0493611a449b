"""Feature networks for optimisation style transfer, behind one interface.

`build(network, ...)` returns a FeatureExtractor: given a representation [1, frames, channels]
it returns named activation maps whose second-to-last axis is time and last axis is channels
([frames, C] for 1-D networks, [height, frames, C] for images). The engine only sees that dict,
so networks, layers and losses mix freely.

| network    | input                          | taps                                  |
|------------|--------------------------------|---------------------------------------|
| random-cnn | bins as channels, Conv1D stack | conv{i}, relu{i} / leaky_relu{i}      |
| cnn2d      | spectrogram image, Conv2D      | conv{i}, leaky_relu{i}                |
| vgg19      | 3-channel image, ImageNet CNN  | every layer (block1_conv1, ...)       |
| resnet50   | 3-channel image, ImageNet CNN  | every layer (conv2_block3_out, ...)   |
| vit        | 224×224 image per time window  | block1 ... blockN (patch tokens)      |
| nsynth     | mu-law waveform at 16 kHz      | relu_a_i, relu_b_i, res_i, bottleneck |
"""

from tfstyle.optimisation.features.catalog import NETWORKS, PRETRAINED  # noqa: F401


def build(*args, **kwargs):
    """See `tfstyle.optimisation.features.extractor.build` (imported on use: it loads TensorFlow)."""
    from tfstyle.optimisation.features.extractor import build as _build

    return _build(*args, **kwargs)
