"""MelGAN-VC siamese network: the generator's encoder without spectral norm, then a 128-d
embedding. TraVeL compares vectors between slices before and after conversion with it."""
import keras


@keras.saving.register_keras_serializable(package="tfstyle")
class Siamese(keras.Model):
    """Args: n_mels, frames (slice width, 24), filters (256), embedding (128)."""

    def __init__(self, n_mels=192, frames=24, filters=256, embedding=128, **kwargs):
        lrelu = lambda name: keras.layers.LeakyReLU(negative_slope=0.2, name=name)
        bn = lambda name: keras.layers.BatchNormalization(name=name, synchronized=True)
        conv = lambda f, k, s, p, name: keras.layers.Conv2D(
            f, k, strides=s, padding=p, use_bias=False, kernel_initializer="he_uniform",
            name=name)

        inputs = keras.Input(shape=(n_mels, frames, 1), name="mel")
        x = lrelu("s1_act")(bn("s1_bn")(conv(filters, (n_mels, 3), 1, "valid", "s1_conv")(inputs)))
        x = lrelu("s2_act")(bn("s2_bn")(conv(filters, (1, 9), (1, 2), "same", "s2_conv")(x)))
        x = lrelu("s3_act")(bn("s3_bn")(conv(filters, (1, 7), (1, 2), "same", "s3_conv")(x)))
        outputs = keras.layers.Dense(embedding, name="s4_dense")(
            keras.layers.Flatten(name="s4_flatten")(x))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.n_mels, self.frames, self.filters, self.embedding = n_mels, frames, filters, embedding

    def get_config(self):
        return {"n_mels": self.n_mels, "frames": self.frames, "filters": self.filters,
                "embedding": self.embedding, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
