"""Every setting of a vocoder and its training, and its presets."""
import dataclasses

from tfstyle.converters.melgan_vc.frontend import MelFrontEnd
from tfstyle.errors import TfstyleError
from tfstyle.settings import check_choices, from_preset, setting


def _factors(text):
    return [int(f) for f in str(text).split(",") if f.strip()]


@dataclasses.dataclass
class VocoderConfig(MelFrontEnd):
    """A vocoder's front end (MelGAN-VC's normalised mel, `MelFrontEnd`: the same fields and
    defaults, so a MelGAN-VC run's mel is this vocoder's input), its network and training."""

    upsample: str = setting("8,6,4", "upsampling factors from the frame rate to the sample "
                                     "rate, one WaveNet stage after each (their product is "
                                     "--hop-length)")
    channels: str = setting("128,64,32", "residual channels of each stage")
    dilations: str = setting("1,3,9", "dilations of the gated residual layers of every stage "
                                      "(kernel 3, non-causal)")
    segment_frames: int = setting(32, "mel frames per training segment (32 x 192 samples: "
                                      "0.38 s)")
    batch_size: int = setting(8, "training segments per replica and step")
    learning_rate: float = setting(2e-4, "Adam learning rate of generator and discriminator")
    mel_weight: float = setting(10.0, "weight of the L1 distance between the normalised mels "
                                      "of output and target (HiFi-GAN's mel loss; it "
                                      "teaches silence where the mel is silent)")
    adversarial_start: int = setting(4000, "steps of spectral loss alone before the "
                                           "discriminator joins (Parallel WaveGAN: 100k)")
    adversarial_weight: float = setting(2.5, "weight of the generator's adversarial loss")
    feature_weight: float = setting(5.0, "weight of the discriminator feature-matching loss")
    scales: int = setting(3, "discriminator scales (audio average-pooled by 1, 2, 4, ...)")
    trim_db: float = setting(40.0, "trim leading/trailing silence quieter than this many dB "
                                  "below the clip's peak (0: keep everything)")
    seed: int = setting(0, "seed of weights and data order")
    init_from: str = setting("", "a vocoder run whose latest generator and discriminator this "
                             "run starts from instead of random weights (the same network "
                             "settings; its mel front end may differ): fine-tuning a vocoder "
                             "onto another domain or rate")

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
        product = 1
        for f in factors:
            product *= f
        if product != self.hop_length:
            raise TfstyleError(f"the upsampling factors multiply to {product}, not the hop "
                               f"length {self.hop_length}")
        self.check_front_end()
        if not self.learning_rate > 0:
            raise TfstyleError("learning_rate must be positive")
        if min(self.adversarial_weight, self.feature_weight, self.mel_weight,
               self.adversarial_start) < 0:
            raise TfstyleError("adversarial_start and the loss weights must not be negative")
        check_choices(self)
        return self

    def network_differences(self, other):
        """The names of the settings of the two networks' shapes in which `other` differs."""
        return [name for name in ("n_mels", "upsample", "channels", "dilations", "scales")
                if getattr(other, name) != getattr(self, name)]

    def min_samples(self):
        """Audio needed for one training segment."""
        return self.segment_frames * self.hop_length + self.n_fft


PRESETS = {
    "wavenet-16k": ("MelGAN-VC's mel (16 kHz, hop 192, 192 bands): three WaveNet stages of "
                    "128/64/32 channels after x8, x6 and x4 upsampling", {}),
    "wavenet-22k": ("the music-22k preset's mel (22.05 kHz, n_fft 1024, hop 192, 192 bands "
                    "up to 11 kHz)",
                    dict(sr=22050, n_fft=1024, fmax=11025.0)),
}


def preset(name, **overrides):
    return from_preset(VocoderConfig, PRESETS, name, "vocoder", overrides)
