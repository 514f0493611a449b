"""MelGAN-VC critic: sees three generated slices joined (72 frames), so the generator learns
slices that continue each other; spectrally normalised convs, no BatchNorm, a scalar score."""
import keras

from tfstyle.converters.melgan_vc import spectral_norm


@keras.saving.register_keras_serializable(package="tfstyle")
class Critic(keras.Model):
    """Args: n_mels, frames (3 slices, 72), filters (512), spectral_norm_mode."""

    def __init__(self, n_mels=192, frames=72, filters=512, spectral_norm_mode="power", **kwargs):
        sn = lambda *a, **k: spectral_norm.conv(spectral_norm_mode, *a, **k)
        lrelu = lambda name: keras.layers.LeakyReLU(negative_slope=0.2, name=name)

        inputs = keras.Input(shape=(n_mels, frames, 1), name="mel")
        x = lrelu("c1_act")(sn(filters, (n_mels, 3), padding="valid", name="c1_conv")(inputs))
        x = lrelu("c2_act")(sn(filters, (1, 9), strides=(1, 2), name="c2_conv")(x))
        x = lrelu("c3_act")(sn(filters, (1, 7), strides=(1, 2), name="c3_conv")(x))
        x = keras.layers.Flatten(name="c4_flatten")(x)
        outputs = spectral_norm.dense(spectral_norm_mode, 1, name="c4_dense")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.n_mels, self.frames, self.filters, self.spectral_norm_mode = \
            n_mels, frames, filters, spectral_norm_mode

    def get_config(self):
        return {"n_mels": self.n_mels, "frames": self.frames, "filters": self.filters,
                "spectral_norm_mode": self.spectral_norm_mode, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
