"""MelGAN-VC's spectrogram recipe on tfstyle's front end, its settings, and its presets.

Normalised mel (reference notebook, computed on-graph with `tfstyle.spectral`):
1. centred STFT, reflect padding, periodic Hann; power divided by Σw² (torchaudio's
   `normalized=True`: 1/432 for n_fft 1152);
2. HTK mel filterbank without area normalisation (torchaudio's MelScale);
3. dB with an 80 dB floor below the clip's peak, minus `ref_level_db` (20);
4. clip(2·(dB − min_level_db)/(−min_level_db) − 1, −1, 1): [−100, 0] dB → [−1, 1].
Back to audio: the exact inverse to mel power, a non-negative mel inversion to a linear
magnitude, then fast Griffin-Lim (or the reference's gradient-based inversion).
"""
import dataclasses

import numpy as np

from tfstyle.errors import TfstyleError
from tfstyle.settings import Settings, check_choices, from_preset, setting


@dataclasses.dataclass
class MelFrontEnd(Settings):
    """The normalised mel's settings, which MelGAN-VC and the vocoder that inverts its mel
    share (`tfstyle.converters.vocoder`)."""

    sr: int = setting(16000, "sample rate in Hz; audio is resampled to it")
    n_fft: int = setting(1152, "FFT size (the reference uses 6 × hop)")
    hop_length: int = setting(192, "STFT hop in samples")
    n_mels: int = setting(192, "mel bands (MelGAN-VC's generator's first kernel spans all of "
                               "them)")
    fmin: float = setting(0.0, "lowest mel frequency in Hz")
    fmax: float = setting(8000.0, "highest mel frequency in Hz")
    min_level_db: float = setting(-100.0, "dB level mapped to -1")
    ref_level_db: float = setting(20.0, "dB offset subtracted before normalising")

    def check_front_end(self):
        if self.hop_length > self.n_fft:
            raise TfstyleError(f"hop_length ({self.hop_length}) must not exceed n_fft")
        if not 0 <= self.fmin < self.fmax <= self.sr / 2:
            raise TfstyleError(f"need 0 <= fmin < fmax <= sr/2, got fmin {self.fmin}, "
                               f"fmax {self.fmax}, sr {self.sr}")
        if self.min_level_db >= 0:
            raise TfstyleError("min_level_db must be negative")

    def seconds(self, frames):
        return frames * self.hop_length / self.sr

    def front_end_differences(self, other):
        """The names of the front-end settings in which `other` differs from this one."""
        return [f.name for f in dataclasses.fields(MelFrontEnd)
                if getattr(other, f.name) != getattr(self, f.name)]


@dataclasses.dataclass
class MelGANConfig(MelFrontEnd):
    """Every setting of a MelGAN-VC model and its training (the `melgan-vc` preset's values)."""

    frames: int = setting(24, "generator slice width in frames (a multiple of 4); the critic "
                             "sees 3 slices")
    batch_size: int = setting(16, "batch size per replica (per worker on CPU machines, "
                                        "per GPU or TPU core); a step's global batch is this "
                                        "× replicas")
    learning_rate: float = setting(2e-4, "Adam learning rate of both optimizers")
    beta_1: float = setting(0.5, "Adam beta_1")
    joint_every: int = setting(3, "update generator+siamese (with the critic) every N batches; "
                                 "the critic alone on the others")
    delta: float = setting(2.0, "siamese margin")
    travel_weight: float = setting(10.0, "weight of TraVeL + margin losses")
    identity_weight: float = setting(0.5, "weight of the identity loss")
    pitch_weight: float = setting(0.0, "weight of the pitch-consistency loss (L1 between the "
                                      "pitch-class profiles of input and output; 0, as in "
                                      "the reference: off)")
    generator_filters: int = setting(256, "generator and siamese channels")
    critic_filters: int = setting(512, "critic channels")
    embedding: int = setting(128, "siamese embedding size")
    spectral_norm: str = setting("power", "spectral normalisation: the reference's power "
                                         "iteration in every call, Keras' wrapper, or none",
                                choices=("power", "keras", "none"))
    trim_db: float = setting(40.0, "trim leading/trailing silence quieter than this many dB "
                                  "below the clip's peak (0: keep everything)")
    seed: int = setting(0, "seed of weights and data order")

    def validate(self):
        for name in ("sr", "n_fft", "hop_length", "n_mels", "frames", "batch_size",
                     "joint_every", "generator_filters", "critic_filters", "embedding"):
            if int(getattr(self, name)) < 1:
                raise TfstyleError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.frames % 4:
            raise TfstyleError(f"frames must be a multiple of 4 (two stride-2 stages), got "
                               f"{self.frames}")
        self.check_front_end()
        if self.pitch_weight < 0 or self.identity_weight < 0 or self.travel_weight < 0:
            raise TfstyleError("loss weights must not be negative")
        if not self.learning_rate > 0:
            raise TfstyleError("learning_rate must be positive")
        check_choices(self)
        return self


    @property
    def crop_frames(self):
        return 3 * self.frames

    def min_samples(self):
        """Audio needed for one critic crop (3 slices)."""
        return (self.crop_frames - 1) * self.hop_length + 1


PRESETS = {
    "melgan-vc": ("the reference recipe: 16 kHz speech, hop 192, 192 mels, 24-frame slices "
                  "(288 ms)", {}),
    "music-22k": ("22.05 kHz music: hop 192, n_fft 1024 (a power of two, TFLite-friendly), "
                  "192 mels up to 11 kHz, 32-frame slices (279 ms, about the reference's "
                  "duration)",
                  dict(sr=22050, n_fft=1024, hop_length=192, n_mels=192, fmax=11025.0,
                       frames=32)),
}


def preset(name, **overrides):
    return from_preset(MelGANConfig, PRESETS, name, "MelGAN-VC", overrides)


# On-graph recipe ------------------------------------------------------------------------------

def _window_energy(config, n_fft=None):
    from tfstyle import spectral

    n_fft = n_fft or config.n_fft
    return float(np.sum(spectral._window(n_fft, n_fft) ** 2))


def _filterbank(config, n_fft=None):
    from tfstyle import spectral

    return spectral.mel_filterbank(config.sr, n_fft or config.n_fft, config.n_mels, config.fmin,
                                   config.fmax, htk=True, norm=None)


def settings(front_end):
    """A front end given as a dict (as the vocoder's layers keep it in their config) → the
    object this module's functions read."""
    import types

    return types.SimpleNamespace(**front_end)


def mel_bank(config, n_fft=None):
    """`_filterbank` at any n_fft, float64. The lowest bands can be narrower than a bin of that
    n_fft: they get none, and whatever spreads bands over bins simply has nothing there (librosa
    warns; not here)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _filterbank(config, n_fft).astype(np.float64)


def _normalize(mel_power, config):
    """Mel power → normalised mel (steps 3 and 4 above)."""
    import tensorflow as tf

    from tfstyle import spectral

    db = spectral.power_to_db(mel_power, top_db=80.0) - config.ref_level_db
    return tf.clip_by_value(2.0 * (db - config.min_level_db) / -config.min_level_db - 1.0,
                            -1.0, 1.0)


def normalized_mel(y, config):
    """Waveform [..., samples] → normalised mel [..., frames, n_mels] in [-1, 1]."""
    import tensorflow as tf

    from tfstyle import spectral

    stft = spectral.stft(y, config.n_fft, config.hop_length, pad_mode="reflect")
    power = spectral.magnitude(stft, 2.0) / _window_energy(config)
    return _normalize(tf.matmul(power, _filterbank(config)), config)


def magnitude_to_mel(magnitude, config, n_fft):
    """A linear STFT magnitude [..., frames, n_fft // 2 + 1] of audio at `config.sr`, taken
    with any `n_fft` (periodic Hann) → this front end's normalised mel of the same frames.

    Power over Σw² and summed over a band's bins grows with the bins per band, that is with
    n_fft, for tones and noise alike: the factor config.n_fft / n_fft gives the mel that
    `normalized_mel` would measure."""
    import tensorflow as tf

    power = tf.square(tf.convert_to_tensor(magnitude, tf.float32)) * (
        config.n_fft / n_fft / _window_energy(config, n_fft))
    return _normalize(tf.matmul(power, _filterbank(config, n_fft)), config)


def denormalize_db(mel, config):
    """Normalised mel → mel level in dB (the exact inverse, up to the clipping)."""
    import tensorflow as tf

    mel = tf.clip_by_value(tf.convert_to_tensor(mel, tf.float32), -1.0, 1.0)
    return (mel + 1.0) / 2.0 * -config.min_level_db + config.min_level_db + config.ref_level_db


def denormalize(mel, config):
    """Normalised mel → mel power (the exact inverse, up to the clipping)."""
    from tfstyle import spectral

    return spectral.db_to_power(denormalize_db(mel, config))


def linear_magnitude(mel, config):
    """Normalised mel [..., frames, n_mels] → STFT magnitude [..., frames, bins]."""
    import tensorflow as tf

    from tfstyle import spectral

    power = spectral.mel_to_linear(denormalize(mel, config), config.sr, config.n_fft,
                                   config.n_mels, config.fmin, config.fmax, htk=True, norm=None)
    return tf.sqrt(power * _window_energy(config))


def mel_to_audio(mel, config, length, n_iter=64, seed=0):
    """Normalised mel [frames, n_mels] → waveform of `length` samples by fast Griffin-Lim."""
    from tfstyle import phase

    return phase.griffin_lim(linear_magnitude(mel, config), n_iter=n_iter,
                             hop_length=config.hop_length, n_fft=config.n_fft, length=length,
                             init="random", seed=seed)


def optimize_inversion(mel, config, length, steps=2000, learning_rate=3e-3, seed=0):
    """The reference's inversion: Adam on a waveform (lr 0.003 × 0.9999 per step) minimising
    the L1 distance between its mel power and the target's (Decorsière et al. 2014)."""
    import keras
    import tensorflow as tf

    from tfstyle import spectral

    target = denormalize(mel, config)
    fb = _filterbank(config)
    energy = _window_energy(config)
    y = tf.Variable(tf.random.stateless_normal([length], [seed, 7], stddev=1e-6))
    schedule = keras.optimizers.schedules.ExponentialDecay(learning_rate, 1, 0.9999)
    optimizer = keras.optimizers.Adam(schedule)
    optimizer.build([y])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            stft = spectral.stft(y, config.n_fft, config.hop_length, pad_mode="reflect")
            mel_power = tf.matmul(spectral.magnitude(stft, 2.0) / energy, fb)
            loss = tf.reduce_mean(tf.abs(mel_power - target))
        optimizer.apply([tape.gradient(loss, y)], [y])
        return loss

    for _ in range(steps):
        step()
    return tf.convert_to_tensor(y)
