"""Spectral normalisation as MelGAN-VC codes it: one power iteration inside every call, the
kernel divided by σ, gradients flowing through σ and the power-iteration vectors.

Keras' own `keras.layers.SpectralNormalization` differs (it updates only in training, writes the
normalised kernel back into the wrapped layer and stops gradients through u and v);
`wrap(layer, mode="keras")` uses it instead.
"""
import keras
from keras import ops


def _l2normalize(x, eps=1e-12):
    return x / ops.sqrt(ops.sum(ops.square(x)) + eps)


class _PowerIteration:
    """Mixin: a persistent u vector and `normalized_kernel()`."""

    def build(self, input_shape):
        super().build(input_shape)
        self.u = self.add_weight(shape=(1, self.kernel.shape[-1]), name="sn_u",
                                 initializer=keras.initializers.RandomNormal(seed=0),
                                 trainable=False)

    def normalized_kernel(self):
        # The last kernel axis is output channels for Conv2D/Dense, input channels for the
        # transposed convolution (Keras stores it as (h, w, out, in)), as in the reference.
        w = ops.reshape(self.kernel, (-1, self.kernel.shape[-1]))
        v = _l2normalize(ops.matmul(self.u, ops.transpose(w)))
        u = _l2normalize(ops.matmul(v, w))
        sigma = ops.sum(ops.matmul(v, w) * u)
        self.u.assign(ops.stop_gradient(u))
        return self.kernel / sigma

    def _finish(self, outputs):
        if self.use_bias:
            outputs = outputs + self.bias
        return outputs if self.activation is None else self.activation(outputs)


@keras.saving.register_keras_serializable(package="tfstyle")
class SNConv2D(_PowerIteration, keras.layers.Conv2D):
    def call(self, inputs):
        return self._finish(ops.conv(inputs, self.normalized_kernel(), strides=self.strides,
                                     padding=self.padding, dilation_rate=self.dilation_rate))


@keras.saving.register_keras_serializable(package="tfstyle")
class SNConv2DTranspose(_PowerIteration, keras.layers.Conv2DTranspose):
    def call(self, inputs):
        return self._finish(ops.conv_transpose(
            inputs, self.normalized_kernel(), strides=self.strides, padding=self.padding,
            output_padding=self.output_padding, dilation_rate=self.dilation_rate))


@keras.saving.register_keras_serializable(package="tfstyle")
class SNDense(_PowerIteration, keras.layers.Dense):
    def call(self, inputs):
        return self._finish(ops.matmul(inputs, self.normalized_kernel()))


SPECTRAL_NORMS = ("power", "keras", "none")


def conv(mode, filters, kernel, strides=(1, 1), padding="same", use_bias=False, name=None,
         transpose=False):
    """A Conv2D / Conv2DTranspose with the chosen spectral normalisation (he_uniform init)."""
    kwargs = dict(strides=strides, padding=padding, use_bias=use_bias, name=name,
                  kernel_initializer="he_uniform")
    if mode == "power":
        return (SNConv2DTranspose if transpose else SNConv2D)(filters, kernel, **kwargs)
    layer = (keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D)(
        filters, kernel, **{**kwargs, "name": None if mode == "keras" else name})
    return keras.layers.SpectralNormalization(layer, name=name) if mode == "keras" else layer


def dense(mode, units, name=None):
    kwargs = dict(kernel_initializer="he_uniform", name=name)
    if mode == "power":
        return SNDense(units, **kwargs)
    layer = keras.layers.Dense(units, **{**kwargs, "name": None if mode == "keras" else name})
    return keras.layers.SpectralNormalization(layer, name=name) if mode == "keras" else layer
