"""Every setting of a vocoder and its training, and its presets."""
import dataclasses
import math

from tfstyle.converters.melgan_vc.frontend import MelFrontEnd
from tfstyle.errors import TfstyleError
from tfstyle.settings import check_choices, from_preset, setting


def _factors(text):
    return [int(f) for f in str(text).split(",") if f.strip()]


@dataclasses.dataclass
class VocoderConfig(MelFrontEnd):
    """A vocoder's front end (MelGAN-VC's normalised mel, `MelFrontEnd`: the same fields and
    defaults, so a MelGAN-VC run's mel is this vocoder's input), its network and training."""

    head: str = setting("istft", "how the last stage becomes sound: 'waveform' (stages up "
                                    "to the sample rate, a convolution to the samples) or "
                                    "'istft' (per-frame STFT magnitude and phase, added to "
                                    "what the mel implies (--prior), then an inverse STFT of "
                                    "--overlap x the last stage's hop)",
                         choices=("waveform", "istft"))
    prior: str = setting("phase-vocoder", "istft head: what the network's magnitude and phase "
                         "are added to: 'mel' (the mel bank's pseudo-inverse, each bin at its "
                         "centre frequency: a partial between two centres sounds at the "
                         "nearer) or 'phase-vocoder' (the non-negative least-squares "
                         "magnitude, and each partial of the mel at its own frequency with "
                         "its bins' phases locked together: a vocoder before any training)",
                         choices=("mel", "phase-vocoder"))
    overlap: int = setting(4, "istft head: its n_fft over its hop, an even number from 4 (4 "
                              "at hop 192: 768 points; 6: 1152, the 16 kHz mel's own frame, "
                              "whose bins keep the partials of lower notes apart)")
    # 4 passes take most of what more would give, on training clips (docs/benchmarks.md); each
    # costs a DFT pair.
    correction: int = setting(4, "istft head: passes that bring the output's band levels back "
                                 "onto the mel's, keeping the vocoder's phase (no weights; "
                                 "runs saved before it get it too; 0: the network's output "
                                 "as it is)")
    upsample: str = setting("1", "upsampling factors from the frame rate, one WaveNet "
                                     "stage after each: their product is --hop-length for "
                                     "the waveform head and divides it for the istft head (1: "
                                     "a stage at the frame rate)")
    channels: str = setting("192", "residual channels of each stage")
    dilations: str = setting("1,2,4,8,1,2,4,8", "dilations of the gated residual layers of "
                                                "every stage (kernel 3, non-causal)")
    segment_frames: int = setting(32, "mel frames per training segment (32 x 192 samples: "
                                      "0.38 s)")
    batch_size: int = setting(8, "training segments per replica and step")
    learning_rate: float = setting(2e-4, "Adam learning rate of generator and discriminator")
    mel_weight: float = setting(10.0, "weight of the L1 distance between the normalised mels "
                                      "of output and target (HiFi-GAN's mel loss; it "
                                      "teaches silence where the mel is silent)")
    log_mel_weight: float = setting(2.0, "weight of the log-mel distance at the resolution of "
                                         "tfstyle.metrics.mel_distance (2048-point frames, 64 "
                                         "bands, dB, gain removed: what the benchmarks score), "
                                         "at a hop of 256 samples")
    adversarial_start: int = setting(4000, "steps of spectral loss alone before the "
                                           "discriminator joins (Parallel WaveGAN: 100k)")
    adversarial_weight: float = setting(2.5, "weight of the generator's adversarial loss")
    feature_weight: float = setting(5.0, "weight of the discriminator feature-matching loss")
    scales: int = setting(3, "discriminator scales (audio average-pooled by 1, 2, 4, ...)")
    trim_db: float = setting(40.0, "trim leading/trailing silence quieter than this many dB "
                                  "below the clip's peak (0: keep everything)")
    seed: int = setting(0, "seed of weights and data order")
    init_from: str = setting("", "a vocoder run whose latest generator and discriminator this "
                             "run starts from instead of random weights, or a shipped "
                             "vocoder (vocoder-16k, vocoder-22k) whose generator it starts "
                             "from (the same network settings; the mel front end may "
                             "differ; a shipped one of another --prior or --overlap gives its "
                             "WaveNet layers alone): fine-tuning a vocoder onto your audio or "
                             "another rate")

    @classmethod
    def from_dict(cls, values):
        # Runs saved before the istft head existed hold no `head`: theirs is the waveform one.
        # Those saved before the phase-vocoder prior existed added to the mel's alone, and
        # those saved before the metric's log-mel loss trained without it.
        # Those saved before --overlap had an inverse STFT of 4 hops.
        return super().from_dict({"head": "waveform", "prior": "mel", "log_mel_weight": 0.0,
                                  "overlap": 4, **values})

    @property
    def upsample_factors(self):
        return _factors(self.upsample)

    @property
    def stage_channels(self):
        return _factors(self.channels)

    @property
    def dilation_list(self):
        return _factors(self.dilations)

    def validate(self):
        for name in ("sr", "n_fft", "hop_length", "n_mels", "segment_frames", "batch_size",
                     "scales"):
            if int(getattr(self, name)) < 1:
                raise TfstyleError(f"{name} must be a positive integer, got "
                                   f"{getattr(self, name)}")
        try:
            factors, channels, dilations = (self.upsample_factors, self.stage_channels,
                                            self.dilation_list)
        except ValueError:
            raise TfstyleError("upsample, channels and dilations are comma-separated integers, "
                               f"got {self.upsample!r}, {self.channels!r}, "
                               f"{self.dilations!r}") from None
        if not factors or min(factors + channels + dilations) < 1:
            raise TfstyleError("upsample, channels and dilations must be positive integers")
        if len(channels) != len(factors):
            raise TfstyleError(f"{len(factors)} upsampling stages but {len(channels)} channel "
                               "counts")
        product = math.prod(factors)
        if self.head == "waveform" and product != self.hop_length:
            raise TfstyleError(f"the upsampling factors multiply to {product}, not the hop "
                               f"length {self.hop_length}")
        if self.head == "istft" and (self.overlap < 4 or self.overlap % 2):
            raise TfstyleError(f"overlap must be an even number from 4, got {self.overlap}")
        if self.correction < 0:
            raise TfstyleError(f"correction must be 0 or more passes, got {self.correction}")
        if self.head == "istft" and self.hop_length % product:
            raise TfstyleError(f"the upsampling factors multiply to {product}, which does not "
                               f"divide the hop length {self.hop_length}")
        self.check_front_end()
        if not self.learning_rate > 0:
            raise TfstyleError("learning_rate must be positive")
        if min(self.adversarial_weight, self.feature_weight, self.mel_weight,
               self.log_mel_weight, self.adversarial_start) < 0:
            raise TfstyleError("adversarial_start and the loss weights must not be negative")
        check_choices(self)
        return self

    def network_differences(self, other):
        """The names of the settings of the two networks' shapes in which `other` differs."""
        return [name for name in ("n_mels", "head", "prior", "overlap", "upsample",
                                  "channels", "dilations", "scales")
                if getattr(other, name) != getattr(self, name)]

    def min_samples(self):
        """Audio needed for one training segment."""
        return self.segment_frames * self.hop_length + self.n_fft


# The first design: stages up to the sample rate. It learned far more slowly on 2 CPU cores
# (docs/benchmarks.md, vocoder sections).
WAVEFORM = dict(head="waveform", upsample="8,6,4", channels="128,64,32", dilations="1,3,9")
MUSIC_22K = dict(sr=22050, n_fft=1024, fmax=11025.0)
PRESETS = {
    "istft-16k": ("MelGAN-VC's mel (16 kHz, hop 192, 192 bands): eight gated residual layers "
                  "of 192 channels at the frame rate (dilations 1-8, twice), then per-frame "
                  "STFT magnitude and phase, added to a phase vocoder's from the mel, and an "
                  "inverse STFT of n_fft 768 (the shipped vocoder-16k)", {}),
    "istft-22k": ("the music-22k preset's mel (22.05 kHz, n_fft 1024, hop 192, 192 bands up "
                  "to 11 kHz) with the istft-16k network (the shipped vocoder-22k)",
                  MUSIC_22K),
    "wavenet-16k": ("MelGAN-VC's mel: three WaveNet stages of 128/64/32 channels after x8, "
                    "x6 and x4 upsampling, a convolution to the samples", WAVEFORM),
    "wavenet-22k": ("the music-22k preset's mel with the wavenet-16k network",
                    dict(WAVEFORM, **MUSIC_22K)),
}


def preset(name, **overrides):
    return from_preset(VocoderConfig, PRESETS, name, "vocoder", overrides)
