"""MelGAN-VC generator: a U-Net over time whose first kernel spans every mel band.

Input [batch, n_mels, frames, 1] (height = mel, width = time), frames a multiple of 4 (24 in
the reference). The first layer collapses frequency to height 1, so the rest are 1-D convs along
time with 256 channels; the last transposed conv paints the full column back; tanh keeps the
output in the normalised [-1, 1] range.
"""
import keras

from tfstyle.converters.melgan_vc import spectral_norm


@keras.saving.register_keras_serializable(package="tfstyle")
class Generator(keras.Model):
    """Args: n_mels (input height), filters (256), spectral_norm ("power", "keras", "none")."""

    def __init__(self, n_mels=192, filters=256, spectral_norm_mode="power", **kwargs):
        sn = lambda *a, **k: spectral_norm.conv(spectral_norm_mode, *a, **k)
        lrelu = lambda name: keras.layers.LeakyReLU(negative_slope=0.2, name=name)
        bn = lambda name: keras.layers.BatchNormalization(name=name, synchronized=True)

        # Functional graph (layers named g1..g6 after the reference's table).
        inputs = keras.Input(shape=(n_mels, None, 1), name="mel")
        x = keras.layers.ZeroPadding2D(((0, 0), (1, 1)), name="g0_pad")(inputs)
        g1 = lrelu("g1_act")(bn("g1_bn")(sn(filters, (n_mels, 3), padding="valid",
                                             name="g1_conv")(x)))
        g2 = lrelu("g2_act")(bn("g2_bn")(sn(filters, (1, 9), strides=(1, 2), name="g2_conv")(g1)))
        g3 = lrelu("g3_act")(bn("g3_bn")(sn(filters, (1, 7), strides=(1, 2), name="g3_conv")(g2)))
        x = keras.layers.UpSampling2D((1, 2), name="g4_up")(g3)
        x = lrelu("g4_act")(bn("g4_bn")(sn(filters, (1, 7), name="g4_conv")(x)))
        g4 = keras.layers.Concatenate(axis=-1, name="g4_skip")([x, g2])
        x = keras.layers.UpSampling2D((1, 2), name="g5_up")(g4)
        x = lrelu("g5_act")(sn(filters, (1, 9), name="g5_conv")(x))
        g5 = keras.layers.Concatenate(axis=-1, name="g5_skip")([x, g1])
        x = sn(1, (n_mels, 1), padding="valid", use_bias=True, transpose=True, name="g6_conv")(g5)
        outputs = keras.layers.Activation("tanh", name="g6_tanh")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # Config.
        self.n_mels, self.filters, self.spectral_norm_mode = n_mels, filters, spectral_norm_mode

    def get_config(self):
        return {"n_mels": self.n_mels, "filters": self.filters,
                "spectral_norm_mode": self.spectral_norm_mode, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
