"""HarmonicDecoder: scaled f0 and loudness per frame → synthesiser controls."""
import keras
import numpy as np
from keras import layers, ops

# Input scaling: MIDI pitch / 127 and (dB + 100) / 100 put both controls near [0, 1].
F0_SCALE = 127.0
LOUDNESS_OFFSET, LOUDNESS_RANGE = 100.0, 100.0


def scale_f0(f0_hz):
    from tfstyle.harmonic.controls import hz_to_midi

    return (hz_to_midi(f0_hz) / F0_SCALE).astype("float32")


def scale_loudness(loudness_db):
    return ((loudness_db + LOUDNESS_OFFSET) / LOUDNESS_RANGE).astype("float32")


def exp_sigmoid(x, exponent=10.0, max_value=2.0, threshold=1e-7):
    """DDSP's output nonlinearity: positive, smooth, with a gradient over decades of level."""
    return max_value * ops.sigmoid(x) ** ops.log(exponent) + threshold


def synth_controls(raw, n_harmonics):
    """The head's raw output [..., 1 + n_harmonics + n_noise_bands] → the synthesiser's
    controls."""
    return {
        "amplitude": exp_sigmoid(raw[..., :1]),
        "harmonic_distribution": exp_sigmoid(raw[..., 1:1 + n_harmonics]),
        # Noise starts quiet (DDSP's -5 bias): the harmonics carry a pitched clip.
        "noise_magnitudes": exp_sigmoid(raw[..., 1 + n_harmonics:] - 5.0),
    }


# The layers after the GRU (the output MLP and the head), by name prefix: what adapting the
# timbre prior to one style moves (`trunk` gives what they read).
OUTPUT_LAYERS = ("out_", "head")


@keras.saving.register_keras_serializable(package="tfstyle")
class HarmonicDecoder(keras.Model):
    """f0 and loudness (each [batch, frames, 1], scaled by `scale_f0` / `scale_loudness`) and
    the GRU's state ([batch, gru_units]; zeros at the start of a clip) →
    {"amplitude": [b, f, 1], "harmonic_distribution": [b, f, n_harmonics] (sums to 1 below
    Nyquist once the synthesiser masks it), "noise_magnitudes": [b, f, n_noise_bands],
    "state": [b, gru_units]}.

    The state goes in and comes out so that a clip of any length can be decoded block by
    block, each block starting where the last one left off, exactly as in one piece
    (`initial_state`, `decode_blocks`).

    DDSP's "solo instrument" decoder at a size fitted to one clip: an MLP per input, a GRU
    over time (note shape: attack, sustain, vibrato), an MLP on the GRU and the inputs.
    Measured (bench/harmonic_transfer.py): 64 units fit a few seconds of style as well as 256
    and in a quarter of the time.
    """

    def __init__(self, n_harmonics=60, n_noise_bands=65, units=64, gru_units=64, seed=0,
                 timbre_dims=0, **kwargs):
        # Layers (seeded initialisers: the same seed gives the same fit)
        seeds = iter(range(1000 * seed, 1000 * seed + 100))

        def init():
            return keras.initializers.GlorotUniform(seed=next(seeds))

        def mlp(name):
            stack = []
            for i in range(2):
                stack += [layers.Dense(units, kernel_initializer=init(), name=f"{name}_dense{i}"),
                          layers.LayerNormalization(name=f"{name}_norm{i}"),
                          layers.LeakyReLU(0.2, name=f"{name}_act{i}")]
            return stack

        def apply(stack, x):
            for layer in stack:
                x = layer(x)
            return x

        f0_mlp, loudness_mlp, out_mlp = mlp("f0"), mlp("loudness"), mlp("out")
        gru = layers.GRU(gru_units, return_sequences=True, kernel_initializer=init(),
                         recurrent_initializer=keras.initializers.Orthogonal(seed=next(seeds)),
                         name="gru")
        head = layers.Dense(1 + n_harmonics + n_noise_bands, kernel_initializer=init(),
                            name="head")

        # Functional graph
        f0 = keras.Input((None, 1), name="f0_scaled")
        loudness = keras.Input((None, 1), name="loudness_scaled")
        state = keras.Input((gru_units,), name="state")
        inputs = {"f0_scaled": f0, "loudness_scaled": loudness, "state": state}
        f0_h, loudness_h = apply(f0_mlp, f0), apply(loudness_mlp, loudness)
        conditions = [f0_h, loudness_h]
        if timbre_dims:
            # The prior's condition: one timbre embedding per clip, given to every frame.
            inputs["timbre"] = keras.Input((timbre_dims,), name="timbre")
            conditions.append(ops.ones_like(f0) * inputs["timbre"][:, None, :])
        joined = layers.Concatenate(name="joined")(conditions)
        sequence = gru(joined, initial_state=state)
        hidden = layers.Concatenate(name="with_inputs")([sequence] + conditions)
        raw = head(apply(out_mlp, hidden))
        # A GRU's output is its state: the last frame's is where the next block starts.
        outputs = {**synth_controls(raw, n_harmonics), "state": sequence[:, -1]}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # Config
        self.n_harmonics = n_harmonics
        self.n_noise_bands = n_noise_bands
        self.units = units
        self.gru_units = gru_units
        self.seed = seed
        self.timbre_dims = timbre_dims

    def trunk(self):
        """The decoder up to its output layers: the same inputs → what the output MLP reads
        ([batch, frames, width]: the GRU's sequence and the conditions)."""
        return keras.Model(self.inputs, self.get_layer("with_inputs").output)

    def trunk_outputs(self, inputs):
        """`trunk`'s output for `inputs`, through one traced function per decoder, so repeated
        transfers in one process (a server, the web page) trace it once."""
        import tensorflow as tf

        if getattr(self, "_trunk", None) is None:
            trunk = self.trunk()
            self._trunk = tf.function(lambda x: trunk(x, training=False),
                                      reduce_retracing=True, autograph=False)
        return self._trunk(inputs)

    def output_layers(self):
        return [layer for layer in self.layers if layer.name.startswith(OUTPUT_LAYERS)]

    def outputs_from_trunk(self, hidden):
        """`trunk`'s output → the synthesiser's controls, through the output layers."""
        for layer in self.output_layers():
            hidden = layer(hidden)
        return synth_controls(hidden, self.n_harmonics)

    def initial_state(self, batch=1):
        return np.zeros((batch, self.gru_units), np.float32)

    def decode_blocks(self, f0_scaled, loudness_scaled, block_frames, timbre=None):
        """Yields the outputs for successive blocks of `block_frames` frames of one clip
        ([1, frames, 1] inputs; a conditioned decoder's `timbre` [1, timbre_dims]), the GRU
        state carried from each block to the next."""
        import tensorflow as tf

        # One graph for every block and clip (eagerly, the GRU steps through its frames in
        # Python: ~100x slower).
        if getattr(self, "_decode", None) is None:
            self._decode = tf.function(lambda inputs: self(inputs, training=False),
                                       reduce_retracing=True, autograph=False)
        decode = self._decode
        state = self.initial_state()
        condition = {} if not self.timbre_dims else {
            "timbre": ops.convert_to_tensor(np.reshape(timbre, (1, self.timbre_dims)),
                                            "float32")}
        frames = f0_scaled.shape[1]
        for start in range(0, frames, block_frames):
            # Every block is decoded at full size, the last one padded with its last frame
            # and cut after, so that one graph serves every block (a shorter last block
            # would be traced anew: 0.1-0.2 s). Frames after the last do not reach earlier
            # ones, and the last block's state is not used.
            n = min(block_frames, frames - start)
            index = np.minimum(np.arange(start, start + block_frames), frames - 1)
            outputs = decode({"f0_scaled": ops.convert_to_tensor(
                               np.asarray(f0_scaled)[:, index], "float32"),
                            "loudness_scaled": ops.convert_to_tensor(
                               np.asarray(loudness_scaled)[:, index], "float32"),
                            "state": ops.convert_to_tensor(state, "float32"), **condition})
            state = outputs["state"]
            yield {k: v if k == "state" else v[:, :n] for k, v in outputs.items()}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "n_harmonics": self.n_harmonics,
                "n_noise_bands": self.n_noise_bands, "units": self.units,
                "gru_units": self.gru_units, "seed": self.seed,
                "timbre_dims": self.timbre_dims}
