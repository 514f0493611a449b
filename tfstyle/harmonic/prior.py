"""The timbre prior: a harmonic-plus-noise model trained on many instruments, told which one
to play by a timbre embedding that a few seconds of it supply (`timbre.TimbreEncoder`).

One-shot transfer (`one_shot`) embeds the style clip(s) and renders the content through the
conditioned decoder, with no training, or adapts the prior to the style for a bounded number of
steps. `bench/train_prior.py` trains it; the shipped one lives in
`tfstyle/pretrained/timbre_prior/`.
"""
import dataclasses
import json
import os

import keras
import numpy as np

from tfstyle.errors import TfstyleError
from tfstyle.harmonic.decoder import HarmonicDecoder
from tfstyle.harmonic.timbre import load_front_end, save_front_end

HERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    "pretrained", "timbre_prior")
FILES = {"encoder": "encoder.weights.h5", "decoder": "decoder.weights.h5",
         "synth": "synth.weights.npz", "dynamics": "dynamics.weights.h5"}


@dataclasses.dataclass
class PriorConfig:
    """The prior's architecture (config.json's "config")."""

    sr: int = 22050
    hop_length: int = 256
    harmonics: int = 60
    noise_bands: int = 65
    units: int = 128
    gru_units: int = 192
    timbre_dims: int = 32
    encoder_units: int = 128
    reverb_seconds: float = 0.25
    seed: int = 0

    @property
    def reverb_taps(self):
        return int(self.reverb_seconds * self.sr)


class Prior:
    """Encoder, conditioned decoder and synthesiser (whose reverb is shared by every
    instrument), and the loudness mapping conditioned on the same embedding (`dynamics`, a
    `DynamicsModel`; None until one is fitted: `bench/train_prior.py --dynamics`)."""

    def __init__(self, config=None):
        from tfstyle.harmonic.synthesizer import HarmonicNoiseSynth
        from tfstyle.harmonic.timbre import TimbreEncoder

        self.config = config = config or PriorConfig()
        self.encoder = TimbreEncoder(config.timbre_dims, config.encoder_units,
                                     seed=config.seed, name="timbre_encoder")
        self.decoder = HarmonicDecoder(config.harmonics, config.noise_bands, config.units,
                                       config.gru_units, seed=config.seed,
                                       timbre_dims=config.timbre_dims, name="decoder")
        self.synth = HarmonicNoiseSynth(config.sr, config.hop_length, config.reverb_taps,
                                        name="synth")
        self.dynamics = None
        self.record = {}

    def embed(self, clips):
        """The timbre embedding [timbre_dims] of one or more float waveforms at config.sr."""
        from tfstyle.harmonic.timbre import embed

        return embed(self.encoder, clips, self.config.sr, self.config.hop_length)

    def variables(self):
        return (self.encoder.trainable_variables + self.decoder.trainable_variables
                + self.synth.trainable_variables)

    def step_function(self, optimizer, clip_norm=5.0):
        """One training step on a batch {f0_scaled, loudness_scaled: [b, W, 1], f0, voiced,
        gate: [b, W], audio: [b, W * hop], log_mel: [b, T, n_mels], weight: [b, T]}: each
        row's window resynthesised from its own controls and the embedding of the log-mel
        frames given with it (another clip of the same instrument, in training), Adam on the
        multi-scale spectral loss; returns the loss."""
        import tensorflow as tf

        from tfstyle import dsp

        variables = self.variables()
        optimizer.build(variables)

        @tf.function
        def step(batch):
            rows = tf.shape(batch["f0"])[0]
            with tf.GradientTape() as tape:
                timbre = self.encoder({"log_mel": batch["log_mel"],
                                       "weight": batch["weight"]}, training=True)
                outputs = self.decoder({"f0_scaled": batch["f0_scaled"],
                                        "loudness_scaled": batch["loudness_scaled"],
                                        "state": tf.zeros([rows, self.decoder.gru_units]),
                                        "timbre": timbre}, training=True)
                noise = tf.random.uniform(tf.shape(batch["audio"]), -1.0, 1.0)
                audio = self.synth(outputs, batch["f0"], batch["voiced"], batch["gate"],
                                   noise=noise)
                loss = dsp.multiscale_spectral_loss(batch["audio"],
                                                    audio[:, :tf.shape(batch["audio"])[1]])
            grads, _ = tf.clip_by_global_norm(tape.gradient(loss, variables), clip_norm)
            optimizer.apply(grads, variables)
            return loss

        return step

    def bind(self, timbre):
        """The decoder of the instrument whose embedding is `timbre` (`BoundDecoder`)."""
        return BoundDecoder(self.decoder, timbre)

    def bind_dynamics(self, timbre):
        """The loudness mapping of that instrument (`BoundDynamics`), or None without one."""
        return None if self.dynamics is None else BoundDynamics(self.dynamics, timbre)

    def save(self, folder, **record):
        """Weights and config.json (with `record`: data, steps, scores) into `folder`, each
        file written atomically."""
        from tfstyle.audio import atomic_path

        os.makedirs(folder, exist_ok=True)
        models = [(self.encoder, "encoder"), (self.decoder, "decoder")]
        if self.dynamics is not None:
            models.append((self.dynamics, "dynamics"))
            record = {**record, "dynamics_model": self.dynamics.get_config()}
        for model, name in models:
            # Keras insists on the .weights.h5 suffix.
            tmp = os.path.join(folder, ".partial." + FILES[name])
            model.save_weights(tmp)
            os.replace(tmp, os.path.join(folder, FILES[name]))
        with atomic_path(os.path.join(folder, FILES["synth"])) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, impulse_response=self.synth.impulse_response.numpy())
        save_front_end(folder, self.config.sr)
        with atomic_path(os.path.join(folder, "config.json")) as tmp:
            with open(tmp, "w") as f:
                json.dump({"config": dataclasses.asdict(self.config), **record}, f, indent=2)

    @classmethod
    def load(cls, folder=None):
        """The prior saved in `folder` (default: the one shipped with tfstyle)."""
        folder = folder or HERE
        path = os.path.join(folder, "config.json")
        if not os.path.isfile(path):
            raise TfstyleError(f"no timbre prior in {folder} (config.json missing); reinstall "
                               "tfstyle, or train one with bench/train_prior.py")
        with open(path) as f:
            record = json.load(f)
        prior = cls(PriorConfig(**record["config"]))
        prior.record = record
        load_front_end(folder, prior.config.sr)
        prior.encoder.load_weights(os.path.join(folder, FILES["encoder"]))
        prior.decoder.load_weights(os.path.join(folder, FILES["decoder"]))
        with np.load(os.path.join(folder, FILES["synth"])) as saved:
            prior.synth.impulse_response.assign(saved["impulse_response"])
        if "dynamics_model" in record:
            from tfstyle.harmonic.dynamics_model import DynamicsModel

            prior.dynamics = DynamicsModel.from_config(record["dynamics_model"])
            prior.dynamics.load_weights(os.path.join(folder, FILES["dynamics"]))
        return prior


class _Bound(keras.Model):
    """A conditioned model with one timbre embedding fixed, as a weight (exported with it)."""

    def __init__(self, model, timbre, **kwargs):
        super().__init__(**kwargs)
        self.timbre = self.add_weight(shape=(1, model.timbre_dims), trainable=False,
                                      initializer=keras.initializers.Constant(
                                          np.reshape(timbre, (1, -1))), name="timbre")
        self.timbre_dims = 0      # to its callers, an unconditioned model

    def tiled(self, like):
        return keras.ops.tile(self.timbre, [keras.ops.shape(like)[0], 1])


@keras.saving.register_keras_serializable(package="tfstyle")
class BoundDecoder(_Bound):
    """The prior's conditioned decoder with one timbre embedding fixed: to everything that
    plays a decoder (block rendering, the exported graphs) it is an unconditioned
    `HarmonicDecoder` of that instrument."""

    def __init__(self, decoder, timbre, **kwargs):
        super().__init__(decoder, timbre, **kwargs)
        self.decoder = decoder
        self.gru_units = decoder.gru_units
        self.n_harmonics, self.n_noise_bands = decoder.n_harmonics, decoder.n_noise_bands
        self.built = True   # the decoder it wraps is, and its one weight exists

    def call(self, inputs, training=False):
        return self.decoder({**inputs, "timbre": self.tiled(inputs["f0_scaled"])},
                            training=training)

    def initial_state(self, batch=1):
        return self.decoder.initial_state(batch)

    def decode_blocks(self, f0_scaled, loudness_scaled, block_frames, timbre=None):
        return HarmonicDecoder.decode_blocks(self, f0_scaled, loudness_scaled, block_frames)


@keras.saving.register_keras_serializable(package="tfstyle")
class BoundDynamics(_Bound):
    """The prior's conditioned loudness mapping with one timbre embedding fixed: to a
    converter (`dynamics.apply`, the exported graphs) it is the unconditioned
    `DynamicsModel` of that instrument."""

    def __init__(self, dynamics, timbre, **kwargs):
        super().__init__(dynamics, timbre, **kwargs)
        self.dynamics = dynamics
        self.built = True

    @property
    def receptive_field(self):
        return self.dynamics.receptive_field

    def call(self, features, training=False):
        return self.dynamics({"features": features, "timbre": self.tiled(features)},
                             training=training)

    def runner(self):
        return self.dynamics.runner(self.timbre.numpy()[0])


def available(folder=None):
    return os.path.isfile(os.path.join(folder or HERE, "config.json"))
