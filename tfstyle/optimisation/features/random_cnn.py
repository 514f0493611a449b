"""Random-weight 1-D CNN over spectrograms, frequency bins as channels (Ulyanov & Lebedev 2016).

Time is the convolution axis and the F frequency bins are the input channels, so each filter
sees the whole spectrum over `kernel_size` frames. Weights are drawn once from a seeded
Glorot-normal with ReLU gain, σ = √2·√(2 / ((C_in + C_out)·k)), and never trained.
"""
import math

import keras
from keras import ops

ACTIVATIONS = ("relu", "leaky_relu", "none")


def conv_taps(x, convs, activation):
    """Applies convs in turn; returns {"conv{i}": pre-activation, "{activation}{i}": after}."""
    outputs = {}
    for i, conv in enumerate(convs, start=1):
        x = conv(x)
        outputs[f"conv{i}"] = x
        if activation == "relu":
            x = keras.layers.ReLU(name=f"relu{i}")(x)
        elif activation == "leaky_relu":
            x = keras.layers.LeakyReLU(negative_slope=0.2, name=f"leaky_relu{i}")(x)
        if activation != "none":
            outputs[f"{activation}{i}"] = x
    return outputs


@keras.saving.register_keras_serializable(package="tfstyle")
class TapConv1D(keras.layers.Conv1D):
    """Conv1D ('valid', stride 1, no bias) computed as one matrix product: the k shifted
    copies of the input side by side (x[t], ..., x[t + k - 1]: "im2col") times the kernel
    seen as one [k·channels, filters] matrix, with Conv1D's weights and their layout. On
    2 CPU cores under XLA this ran faster than the convolution op and than one product per
    tap (the default step's sizes, 1025 bins → 4096 filters of width 3 over 216 frames:
    71 ms against 75 ms per tap and 90+ ms with the op), and the optimisation step is nearly
    all this layer.

    matmul_dtype: "bfloat16" rounds the product's inputs (and, through the gradient, the
    backward product's) to bfloat16 and returns float32: twice the speed on CPUs with native
    bfloat16 (`tfstyle.optimisation.precision`)."""

    def __init__(self, *args, matmul_dtype="float32", **kwargs):
        super().__init__(*args, **kwargs)
        self.matmul_dtype = matmul_dtype

    def call(self, inputs):
        k = self.kernel_size[0]
        kernel = ops.reshape(self.kernel, (-1, self.filters))
        frames = inputs if k == 1 else ops.concatenate(
            [inputs[:, i:(i - (k - 1)) or None] for i in range(k)], axis=-1)
        if self.matmul_dtype == "float32":
            return ops.matmul(frames, kernel)
        product = ops.matmul(ops.cast(frames, self.matmul_dtype),
                             ops.cast(kernel, self.matmul_dtype))
        return ops.cast(product, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "matmul_dtype": self.matmul_dtype}


@keras.saving.register_keras_serializable(package="tfstyle")
class RandomCNN1D(keras.Model):
    """A stack of frozen random Conv1D layers with a named tap after each conv and activation.

    Args:
        n_bins: number of input channels (frequency bins or mel bands).
        filters: filters per layer; an int for one layer, a list for several.
        kernel_size: kernel width in frames per layer (int or list like `filters`).
        activation: "relu", "leaky_relu" (slope 0.2) or "none".
        seed: seed of the random weights; the same seed gives the same network.
        matmul_dtype: "float32" or "bfloat16", the format of the convolutions' matrix
            products (see TapConv1D).

    Taps: "conv{i}" (pre-activation) and, unless activation is "none", "{activation}{i}" for
    layer i = 1, 2, ...; "padding='valid'" so T input frames give T − k + 1 output frames.
    """

    def __init__(self, n_bins, filters=4096, kernel_size=11, activation="relu", seed=0,
                 matmul_dtype="float32", **kwargs):
        filters_list = [filters] if isinstance(filters, int) else list(filters)
        kernels = [kernel_size] * len(filters_list) if isinstance(kernel_size, int) \
            else list(kernel_size)
        if len(kernels) != len(filters_list):
            raise ValueError(f"{len(filters_list)} layers of filters but {len(kernels)} "
                             "kernel sizes")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")

        # Layers.
        convs = []
        channels = n_bins
        for i, (f, k) in enumerate(zip(filters_list, kernels), start=1):
            sigma = math.sqrt(2.0) * math.sqrt(2.0 / ((channels + f) * k))
            convs.append(TapConv1D(
                f, k, padding="valid", use_bias=False, name=f"conv{i}",
                matmul_dtype=matmul_dtype,
                kernel_initializer=keras.initializers.RandomNormal(stddev=sigma, seed=seed + i)))
            channels = f

        # Functional graph.
        inputs = keras.Input(shape=(None, n_bins), name="spectrogram")
        super().__init__(inputs=inputs, outputs=conv_taps(inputs, convs, activation), **kwargs)
        self.trainable = False

        # Config.
        self.n_bins = n_bins
        self.filters = filters
        self.kernel_size = kernel_size
        self.activation = activation
        self.seed = seed
        self.matmul_dtype = matmul_dtype
        self.receptive_field = sum(k - 1 for k in kernels) + 1

    def get_config(self):
        return {"n_bins": self.n_bins, "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": self.activation, "seed": self.seed,
                "matmul_dtype": self.matmul_dtype, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
