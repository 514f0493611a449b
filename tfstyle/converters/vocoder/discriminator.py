"""The vocoder's critic: MelGAN's multi-scale discriminator, narrowed for CPU training.

Scale k sees the waveform average-pooled k−1 times (kernel 4, stride 2). Each scale is a stack
of strided 1-D convolutions with leaky ReLU; its feature maps serve the feature-matching loss
and its last map (one channel) the least-squares adversarial loss.
"""
import keras

# (filters, kernel, stride) of each scale's layers; the last one gives the score.
LAYERS = ((16, 15, 1), (32, 21, 4), (64, 21, 4), (128, 21, 4), (128, 5, 1), (1, 3, 1))


@keras.saving.register_keras_serializable(package="tfstyle")
class MultiScaleDiscriminator(keras.Model):
    """Waveform [batch, samples] → per scale, the list of its feature maps (the last is the
    score map [batch, steps, 1])."""

    def __init__(self, scales=3, **kwargs):
        wave = keras.Input(shape=(None,), name="waveform")
        x = keras.layers.Reshape((-1, 1), name="channel")(wave)
        outputs = []
        for s in range(1, scales + 1):
            if s > 1:
                x = keras.layers.AveragePooling1D(4, 2, padding="same", name=f"pool{s}")(x)
            h, maps = x, []
            for i, (filters, kernel, stride) in enumerate(LAYERS, start=1):
                h = keras.layers.Conv1D(filters, kernel, strides=stride, padding="same",
                                        name=f"d{s}_conv{i}")(h)
                if i < len(LAYERS):
                    h = keras.layers.LeakyReLU(negative_slope=0.2, name=f"d{s}_act{i}")(h)
                maps.append(h)
            outputs.append(maps)
        super().__init__(inputs=wave, outputs=outputs, **kwargs)
        self.scales = scales

    def get_config(self):
        return {"scales": self.scales, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
