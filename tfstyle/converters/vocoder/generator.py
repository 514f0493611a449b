"""The vocoder's generator: WaveNet's gated, dilated residual layers with a local mel condition,
non-causal and non-autoregressive (as in Parallel WaveGAN), run inside an upsampling network
(as in MelGAN and HiFi-GAN) so that most layers work below the sample rate.

Input: normalised mel [batch, frames, n_mels]. A width-7 convolution lifts it to twice the
first stage's channels; each stage upsamples by a transposed convolution (kernel 2·factor)
and runs one gated residual layer per dilation (kernel 3):

    h = conv_dilated(x) + cond          cond: a 1x1 projection of the mel, repeated to the rate
    x = x + conv_1x1(tanh(h_a) · sigmoid(h_b))

A final width-7 convolution and tanh give the waveform [batch, frames · hop].
"""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfstyle")
class GatedResidual(keras.layers.Layer):
    """One WaveNet layer: dilated conv, plus the local condition, gated, 1x1, residual."""

    def __init__(self, channels, dilation, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.dilation, self.kernel_size = channels, dilation, kernel_size
        self.conv = keras.layers.Conv1D(2 * channels, kernel_size, dilation_rate=dilation,
                                        padding="same", name="dilated")
        self.out = keras.layers.Conv1D(channels, 1, name="residual")

    def build(self, shapes):
        x_shape, _ = shapes
        self.conv.build(x_shape)
        self.out.build(tuple(x_shape[:-1]) + (self.channels,))

    def call(self, inputs):
        x, cond = inputs
        h = self.conv(x) + cond
        z = ops.tanh(h[..., :self.channels]) * ops.sigmoid(h[..., self.channels:])
        return x + self.out(z)

    def compute_output_shape(self, shapes):
        return shapes[0]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "dilation": self.dilation,
                "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="tfstyle")
class WaveNetVocoder(keras.Model):
    """Args: n_mels; upsample (factors, their product the hop); channels (per stage);
    dilations (of every stage's layers)."""

    def __init__(self, n_mels=192, upsample=(8, 6, 4), channels=(128, 64, 32),
                 dilations=(1, 3, 9), **kwargs):
        upsample, channels, dilations = list(upsample), list(channels), list(dilations)
        lrelu = lambda name: keras.layers.LeakyReLU(negative_slope=0.2, name=name)

        # Functional graph.
        mel = keras.Input(shape=(None, n_mels), name="mel")
        x = keras.layers.Conv1D(2 * channels[0], 7, padding="same", name="pre")(mel)
        rate = 1
        for s, (factor, width) in enumerate(zip(upsample, channels), start=1):
            rate *= factor
            x = lrelu(f"s{s}_act")(x)
            x = keras.layers.Conv1DTranspose(width, 2 * factor, strides=factor, padding="same",
                                             name=f"s{s}_up")(x)
            # Every layer's condition in one 1x1 projection at the frame rate, repeated to
            # this stage's rate (the mel holds one value per frame anyway).
            cond = keras.layers.Conv1D(2 * width * len(dilations), 1, name=f"s{s}_cond")(mel)
            cond = keras.layers.UpSampling1D(rate, name=f"s{s}_cond_up")(cond)
            for i, d in enumerate(dilations):
                part = cond[..., 2 * width * i:2 * width * (i + 1)]
                x = GatedResidual(width, d, name=f"s{s}_layer{i + 1}")([x, part])
        x = lrelu("post_act")(x)
        x = keras.layers.Conv1D(1, 7, padding="same", name="post")(x)
        audio = keras.layers.Reshape((-1,), name="waveform")(
            keras.layers.Activation("tanh", name="tanh")(x))
        super().__init__(inputs=mel, outputs=audio, **kwargs)

        # Config.
        self.n_mels, self.upsample, self.channels, self.dilations = \
            n_mels, upsample, channels, dilations

    @property
    def hop_length(self):
        product = 1
        for f in self.upsample:
            product *= f
        return product

    def receptive_field(self):
        """Frames of mel context that reach an output sample, on each side: the width-7
        convolutions, the transposed convolutions' kernels and the dilated layers, each
        counted at its stage's rate (rounded up)."""
        import math

        samples = 3 * self.hop_length             # the first width-7 convolution, per side
        rate = 1
        for factor in self.upsample:
            rate *= factor
            step = self.hop_length // rate        # samples per step at this stage
            samples += 2 * factor * step          # the transposed convolution's kernel
            samples += sum(self.dilations) * step
        samples += 3                              # the last width-7 convolution
        return math.ceil(samples / self.hop_length)

    def get_config(self):
        return {"n_mels": self.n_mels, "upsample": self.upsample, "channels": self.channels,
                "dilations": self.dilations, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build(config, name="generator"):
    """The generator of a VocoderConfig."""
    return WaveNetVocoder(config.n_mels, config.upsample_factors, config.stage_channels,
                          config.dilation_list, name=name)
