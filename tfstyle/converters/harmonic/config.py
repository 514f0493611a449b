"""Every setting of a trained harmonic converter, and its presets."""
import dataclasses

from tfstyle.errors import TfstyleError
from tfstyle.harmonic.controls import FRAME_LENGTH
from tfstyle.harmonic.performance import LOUDNESS
from tfstyle.settings import Settings, check_choices, from_preset, setting


@dataclasses.dataclass
class HarmonicConfig(Settings):
    """A harmonic converter's model and training settings (the `harmonic` preset's values)."""

    sr: int = setting(22050, "sample rate in Hz; audio is resampled to it")
    hop_length: int = setting(256, "frame hop in samples: one set of controls per hop")
    harmonics: int = setting(60, "harmonics of the oscillator bank")
    noise_bands: int = setting(65, "bands of the filtered-noise magnitude response")
    units: int = setting(128, "width of the decoder's layers and GRU")
    reverb_seconds: float = setting(0.25, "length of the learned reverb impulse response "
                                          "(0: dry)")
    window_frames: int = setting(128, "frames per training window (128 x 256 samples: 1.5 s)")
    batch_size: int = setting(8, "training windows per replica and step")
    learning_rate: float = setting(2e-3, "Adam learning rate")
    transpose: str = setting("auto", "conversion: semitones to move the input's pitch by, or "
                                     "auto: whole octaves into the training data's range, "
                                     "and its tuning")
    loudness: str = setting("offset", "conversion: how the input's loudness becomes the "
                                      "instrument's: offset (its dynamics kept, its level moved "
                                      "onto the training data's), quantile (note decays and "
                                      "the loudness distribution matched to the training "
                                      "data's) or learned (a mapping fitted on paired "
                                      "renderings, which a run does not have: the shipped "
                                      "models' default)", choices=tuple(LOUDNESS))
    trim_db: float = setting(40.0, "trim leading/trailing silence quieter than this many dB "
                                   "below a clip's peak (0: keep everything)")
    seed: int = setting(0, "seed of weights and data order")
    start: str = setting("scratch", "the weights training starts from: scratch (random) or "
                                    "prior (the shipped timbre prior's decoder and reverb, "
                                    "told the instrument by the embedding of the training "
                                    "clips, then all of the decoder fine-tuned; the "
                                    "architecture is the prior's, so the other model "
                                    "settings must be its own)", choices=("scratch", "prior"))

    def validate(self):
        for name in ("sr", "hop_length", "harmonics", "window_frames", "batch_size", "units"):
            if int(getattr(self, name)) < 1:
                raise TfstyleError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.noise_bands < 2:
            raise TfstyleError(f"noise_bands must be at least 2, got {self.noise_bands}")
        if self.hop_length > FRAME_LENGTH:
            raise TfstyleError(f"hop_length must not exceed the analysis frame ({FRAME_LENGTH})")
        if not self.learning_rate > 0 or self.reverb_seconds < 0:
            raise TfstyleError("learning_rate must be positive and reverb_seconds not negative")
        if str(self.transpose).strip().lower() != "auto":
            try:
                float(self.transpose)
            except ValueError:
                raise TfstyleError(f"transpose must be 'auto' or a number of semitones, got "
                                   f"{self.transpose!r}") from None
        check_choices(self)
        return self

    def check_trainable(self):
        if self.loudness == "learned":
            raise TfstyleError("--loudness learned needs a mapping fitted on paired renderings, "
                               "which a run does not fit; train with --loudness offset (the "
                               "default), then see tfstyle.converters.harmonic.dynamics_fit")
        return self

    def min_samples(self):
        """Audio needed for one training window."""
        return self.window_frames * self.hop_length

    @property
    def reverb_taps(self):
        return int(self.reverb_seconds * self.sr)



PRESETS = {
    "harmonic": ("22.05 kHz, hop 256, 60 harmonics, 65 noise bands, 128-unit decoder, 0.25 s "
                 "reverb", {}),
    "harmonic-small": ("a quarter of the decoder's arithmetic (64 units) and no reverb, for "
                       "phones", dict(units=64, reverb_seconds=0.0)),
}


def preset(name, **overrides):
    return from_preset(HarmonicConfig, PRESETS, name, "harmonic", overrides)
