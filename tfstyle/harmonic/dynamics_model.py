"""DynamicsModel: a converter's learned loudness mapping (see `dynamics`)."""
import keras
from keras import layers

from tfstyle.harmonic.dynamics import N_FEATURES


@keras.saving.register_keras_serializable(package="tfstyle")
class DynamicsModel(keras.Model):
    """Features [batch, frames + 2 * receptive_field, N_FEATURES] (`dynamics.features`, the
    context either side included), and with `timbre_dims` the target instrument's timbre
    embedding [batch, timbre_dims] ({"features", "timbre"}) → the target's relative loudness
    [batch, frames]: the input's own relative loudness plus a learned correction, which starts
    at zero (untrained, the model is `--loudness offset`).

    Dilated convolutions (kernel 3, residual, no padding: the caller gives the context, so
    a block's output does not depend on where the block was cut): each frame reads
    `receptive_field` frames either side, 127 by default (1.5 s at hop 256: a note's attack,
    sustain and release together).
    """

    def __init__(self, width=32, dilations=(1, 2, 4, 8, 16, 32, 64), seed=0, timbre_dims=0,
                 **kwargs):
        seeds = iter(range(1000 * seed, 1000 * seed + 100))

        def init():
            return keras.initializers.GlorotUniform(seed=next(seeds))

        dilations = tuple(int(d) for d in dilations)
        x = keras.Input((None, N_FEATURES), name="features")
        h = layers.Dense(width, kernel_initializer=init(), name="embed")(x)
        inputs = x
        if timbre_dims:
            # The timbre prior's mapping: which instrument plays is an embedding
            # (`prior.Prior`), added to every frame's features.
            timbre = keras.Input((timbre_dims,), name="timbre")
            inputs = {"features": x, "timbre": timbre}
            h = h + layers.Dense(width, kernel_initializer=init(), name="timbre_in")(
                timbre)[:, None, :]
        for d in dilations:
            r = layers.Conv1D(width, 3, dilation_rate=d, activation="relu",
                              kernel_initializer=init(), name=f"conv{d}")(h)
            r = layers.Dense(width, kernel_initializer=init(), name=f"mix{d}")(r)
            h = layers.Add(name=f"residual{d}")([layers.Cropping1D(d, name=f"crop{d}")(h), r])
        correction = layers.Dense(1, kernel_initializer="zeros", name="correction")(
            layers.Activation("relu", name="out_act")(h))
        context = sum(dilations)
        own = layers.Cropping1D(context, name="own")(x)[..., 0]
        super().__init__(inputs=inputs, outputs=own + correction[..., 0], **kwargs)
        self.width, self.dilations, self.seed = width, dilations, seed
        self.timbre_dims = timbre_dims

    @property
    def receptive_field(self):
        return sum(self.dilations)

    def runner(self, timbre=None):
        """The model as `dynamics.apply` calls it: one traced graph for every block; a
        conditioned model's `timbre` [timbre_dims] is the instrument's embedding."""
        import numpy as np
        import tensorflow as tf

        inputs = lambda x: x   # noqa: E731
        if self.timbre_dims:
            condition = tf.constant(np.reshape(timbre, (1, self.timbre_dims)), tf.float32)
            inputs = lambda x: {"features": x, "timbre": condition}   # noqa: E731
        fn = tf.function(lambda x: self(inputs(x), training=False), reduce_retracing=True,
                         autograph=False)

        class Run:
            receptive_field = self.receptive_field

            def __call__(self, x):
                return fn(tf.constant(x)).numpy()

        return Run()

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "width": self.width,
                "dilations": list(self.dilations), "seed": self.seed,
                "timbre_dims": self.timbre_dims}
