"""The training model of a harmonic converter: the decoder and the synthesiser (whose learned
reverb is its only weight), fitted with Adam on the multi-scale spectral loss between windows
of the target's recordings and their resynthesis from the recordings' own pitch and loudness.

Under a tf.distribute strategy every replica takes its rows of the global batch; gradients are
summed over replicas, so the loss is divided by their number (the step equals one device's
step on the global batch).
"""
import keras
import numpy as np
import tensorflow as tf

from tfstyle import dsp


def build_networks(config, record=None):
    """(decoder, synthesiser) of a converter. A run started from the timbre prior
    (`config.start`) has the prior's conditioned decoder bound to the embedding its run
    recorded (`record["prior"]`, from `family.prepare`), with random weights until they are
    loaded (`load_prior`) or restored."""
    from tfstyle.harmonic.decoder import HarmonicDecoder
    from tfstyle.harmonic.synthesizer import HarmonicNoiseSynth

    keras.utils.set_random_seed(config.seed)
    synth = HarmonicNoiseSynth(config.sr, config.hop_length, config.reverb_taps, name="synth")
    if config.start == "prior":
        from tfstyle.errors import TfstyleError
        from tfstyle.harmonic.prior import BoundDecoder

        start = (record or {}).get("prior")
        if not start:
            raise TfstyleError("this harmonic converter starts from the timbre prior, but its "
                               "record has no 'prior' (architecture and embedding)")
        p = start["config"]
        decoder = HarmonicDecoder(p["harmonics"], p["noise_bands"], p["units"],
                                  p["gru_units"], seed=config.seed,
                                  timbre_dims=p["timbre_dims"], name="decoder")
        return BoundDecoder(decoder, np.asarray(start["timbre"], np.float32),
                            name="bound_decoder"), synth
    decoder = HarmonicDecoder(config.harmonics, config.noise_bands, config.units, config.units,
                              seed=config.seed, name="decoder")
    return decoder, synth


def load_prior(decoder, synth):
    """The shipped timbre prior's weights into the networks of a run that starts from it."""
    from tfstyle.harmonic.prior import Prior

    prior = Prior.load()
    decoder.decoder.set_weights(prior.decoder.get_weights())
    synth.set_weights(prior.synth.get_weights())


class HarmonicTrainer(keras.Model):
    """Holds the decoder, the synthesiser and the optimizer; `cycle(batch)` is one step."""

    shown = ("spectral",)
    steps_per_cycle = 1

    def __init__(self, decoder, synth, config, **kwargs):
        super().__init__(**kwargs)
        self.decoder, self.synth, self.config = decoder, synth, config
        self.optimizer_ = keras.optimizers.Adam(config.learning_rate)
        self.optimizer_.build(self._variables())
        self.built = True

    def _variables(self):
        return self.decoder.trainable_variables + self.synth.trainable_variables

    def checkpoint_objects(self):
        return dict(decoder=self.decoder, synth=self.synth, optimizer=self.optimizer_)

    def cycle(self, batch):
        rows = tf.shape(batch["f0"])[0]
        state = tf.zeros([rows, self.decoder.gru_units])   # each window starts afresh
        scale = 1.0 / tf.distribute.get_strategy().num_replicas_in_sync
        variables = self._variables()
        with tf.GradientTape() as tape:
            outputs = self.decoder({"f0_scaled": batch["f0_scaled"],
                                    "loudness_scaled": batch["loudness_scaled"],
                                    "state": state}, training=True)
            audio = self.synth(outputs, batch["f0"], batch["voiced"], batch["gate"],
                               noise=batch["noise"])
            loss = dsp.multiscale_spectral_loss(batch["audio"],
                                                audio[:, :tf.shape(batch["audio"])[1]])
            scaled = loss * scale
        self.optimizer_.apply(tape.gradient(scaled, variables), variables)
        return {"spectral": loss}

    def preview(self, clip):
        """The clip resynthesised from its own pitch and loudness."""
        from tfstyle.harmonic import controls as ctl
        from tfstyle.harmonic.performance import gate, render_blocks

        controls = ctl.analyse(clip, self.config.sr, self.config.hop_length)
        return np.concatenate(list(render_blocks(self.decoder, self.synth, controls,
                                                 gate(controls), len(clip))))
