"""Random-weight 2-D CNN over a spectrogram image (height = frequency, width = time).

The default kernel (3, 1) spans three neighbouring frequency channels within one frame, so the
filters see local spectral shape (formants, harmonic spacing) but no temporal pattern; LeakyReLU
(slope 0.2) keeps negative responses partly alive so the Gram statistics are not sparse. Weights
are seeded He-normal and never trained.
"""
import keras

from tfstyle.optimisation.features.random_cnn import conv_taps


@keras.saving.register_keras_serializable(package="tfstyle")
class RandomCNN2D(keras.Model):
    """Frozen random Conv2D stack with taps "conv{i}" and "leaky_relu{i}".

    Args:
        filters: filters per layer (int for one layer, list for several).
        kernel_size: (frequency, time) kernel, the same for every layer.
        seed: seed of the random weights.

    Input [batch, channels (frequency), frames, 1]; 'same' padding keeps the image size.
    """

    def __init__(self, filters=(64, 64), kernel_size=(3, 1), seed=0, **kwargs):
        filters_list = [filters] if isinstance(filters, int) else list(filters)
        kernel_size = tuple(kernel_size)

        # Layers.
        convs = [keras.layers.Conv2D(
            f, kernel_size, padding="same", use_bias=False, name=f"conv{i}",
            kernel_initializer=keras.initializers.HeNormal(seed=seed + i))
            for i, f in enumerate(filters_list, start=1)]

        # Functional graph.
        inputs = keras.Input(shape=(None, None, 1), name="image")
        super().__init__(inputs=inputs, outputs=conv_taps(inputs, convs, "leaky_relu"),
                         **kwargs)
        self.trainable = False

        # Config.
        self.filters = filters
        self.kernel_size = kernel_size
        self.seed = seed
        self.receptive_field = len(filters_list) * (kernel_size[1] - 1) + 1

    def get_config(self):
        return {"filters": self.filters, "kernel_size": self.kernel_size, "seed": self.seed,
                "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
