"""Every setting of an optimisation or harmonic transfer (`TransferConfig`), with its help text
and checks; `tfstyle.presets` names published recipes of it."""
import dataclasses

import numpy as np

from tfstyle.errors import TfstyleError
from tfstyle.optimisation.features.catalog import NETWORKS, PRECISIONS
from tfstyle.settings import check_choices, setting

INITS = ("content", "content+noise", "noise")
GL_INITS = ("content", "random", "zeros")
REPRESENTATIONS = ("log1p_stft", "mel_db", "mfcc", "waveform")
OPTIMIZERS = ("adam", "lbfgs")
# Frames per optimisation window when --chunk-frames is 0 (auto): whole clips up to these sizes.
# For the random CNN each window converges in about as many steps as a whole clip, while a
# step's frames-order Gram grows as T²·C: on a 1-minute clip (bench/optimisation_speed.py,
# windows of equal length), windows of 1024, 512 and 384 frames took 174 s (445 steps), 142 s
# (796) and 136 s (1033).
# NSynth windows are in samples (2 s at 16 kHz).
AUTO_CHUNK = {"random-cnn": 384, "cnn2d": 1024, "vgg19": 512, "resnet50": 512, "vit": 224,
              "nsynth": 32768}
# The NSynth encoder was trained on 16 kHz audio; waveform transfer runs at that rate.
NSYNTH_SR = 16000
# "auto" is resolved to one of the others by `tfstyle.dispatch` before anything runs.
METHODS = ("auto", "harmonic") + NETWORKS
# Where the harmonic method's synthesiser starts (tfstyle.harmonic.one_shot).
STARTS = ("prior", "scratch")


@dataclasses.dataclass
class TransferConfig:
    """Every setting of a transfer. The defaults keep the content's melody or words recognisable
    while moving the timbre toward the style (measured by `bench/transfer_quality.py`); the
    presets in `tfstyle.presets` reproduce the published recipes."""

    method: str = setting("auto", "auto: harmonic where content and style are single "
                                 "melodic lines, else random-cnn (tfstyle.dispatch; one line "
                                 "says which and why); harmonic: a harmonic-plus-noise "
                                 "synthesiser fitted on the style, driven by the content's "
                                 "pitch and loudness; or the feature network of an "
                                 "optimisation transfer: random 1-D/2-D CNN, a pretrained "
                                 "image backbone, NSynth", choices=METHODS)
    representation: str = setting("log1p_stft", "what is optimised: log1p STFT magnitude, mel "
                                 "spectrogram in dB, or MFCC", choices=REPRESENTATIONS)
    sr: int = setting(22050, "processing sample rate in Hz; both inputs are resampled to it and "
                            "the output is written at it")
    n_fft: int = setting(2048, "FFT size of the STFT (frequency bins = n_fft/2 + 1)")
    hop_length: int = setting(512, "STFT hop in samples")
    n_mels: int = setting(128, "mel bands (mel_db and mfcc representations)")
    n_mfcc: int = setting(40, "MFCC coefficients kept (mfcc representation)")
    filters: str = setting("4096", "random networks: filters per layer, comma-separated for "
                                  "several layers (e.g. 512,512)")
    kernel_size: str = setting("3", "random networks: kernel width in frames per layer (cnn2d: "
                                   "height in channels, e.g. 3 means (3, 1))")
    activation: str = setting("relu", "random-cnn nonlinearity", choices=("relu", "leaky_relu",
                                                                         "none"))
    pooling: str = setting("max", "vgg19 pooling (Gatys used avg)", choices=("max", "avg"))
    content_layers: str = setting("", "comma-separated taps for the content loss (empty: the "
                                     "network's default)")
    style_layers: str = setting("", "comma-separated taps for the style loss (empty: default)")
    style_layer_weights: str = setting("", "comma-separated weight per style layer (empty: 1 "
                                          "each)")
    style_loss: str = setting("gram", "style statistic: Gram matrices, or L2 on the activations "
                                     "themselves", choices=("gram", "l2"))
    gram_norm: str = setting("frames", "Gram normaliser, see tfstyle.optimisation.losses",
                            choices=("frames", "frames_channels", "gatys"))
    reduction: str = setting("mean", "mean or sum of squared errors in the losses",
                            choices=("mean", "sum"))
    content_weight: float = setting(1.0, "weight of the content loss; raise it to keep more of "
                                        "the content")
    style_weight: float = setting(30.0, "weight of the style loss; raise it for more of the "
                                       "style's timbre")
    autocorr_row_weight: float = setting(0.0, "weight of the autocorrelation loss along time "
                                             "(rhythm), on the representation")
    autocorr_col_weight: float = setting(0.0, "weight of the autocorrelation loss along "
                                             "frequency (harmonic spacing)")
    tv_weight: float = setting(0.0, "weight of the total-variation smoothness loss")
    optimizer: str = setting("adam", "adam, or lbfgs (SciPy L-BFGS-B)", choices=OPTIMIZERS)
    steps: int = setting(300, "most optimisation steps per window (L-BFGS: iterations; "
                             "harmonic: fitting steps, or adaptation steps from the prior, 0 "
                             "for none); the run stops earlier once it has converged (--tol)")
    tol: float = setting(5e-3, "convergence tolerance: stop when the total loss improved by "
                              "less than this fraction over the last --tol-window steps (0: "
                              "always run --steps)")
    tol_window: int = setting(20, "steps over which the improvement is measured for --tol")
    learning_rate: float = setting(0.03, "Adam learning rate (in representation units)")
    init: str = setting("content", "start point of the optimisation", choices=INITS)
    init_noise: float = setting(0.1, "standard deviation of the content+noise start, relative "
                                    "to the content representation's")
    clip_max: float = setting(0.0, "upper bound of the representation (0: none); alishdipani "
                                  "clamps log1p magnitudes to 1")
    chunk_frames: int = setting(0, "frames per optimisation window for long content (0: auto "
                                  "by network)")
    weights: str = setting("", "pretrained weights file or folder for vgg19, resnet50, vit "
                              "(empty: Keras cache)")
    random_weights: bool = setting(False, "run a pretrained backbone with seeded random weights "
                                         "instead (offline)")
    seed: int = setting(0, "seed of random networks, noise and the random phase")
    precision: str = setting("auto", "random-cnn: format of the network's matrix products: "
                                     "auto (bfloat16 on a CPU that multiplies it natively, "
                                     "AVX512-BF16 or AMX, about twice as fast there; float32 "
                                     "elsewhere and on GPUs), float32 or bfloat16; the "
                                     "spectrogram and the losses stay float32",
                             choices=PRECISIONS)
    transpose: str = setting("auto", "harmonic: semitones to move the content's pitch by, or "
                                    "'auto': whole octaves, only when the content's median "
                                    "pitch is more than an octave outside the style's range, "
                                    "and the style's tuning (within 50 cents)")
    start: str = setting("prior", "harmonic: start from the shipped timbre prior (the style's "
                                  "embedding, then at most --steps of adaptation; the prior's "
                                  "own harmonics, units and reverb), or fit the synthesiser "
                                  "on the style from scratch", choices=STARTS)
    adapt: str = setting("head", "harmonic, from the prior: what the adaptation steps move: "
                                 "head (the decoder's output layers and the reverb, reading "
                                 "features computed once: fast) or decoder (the style's "
                                 "embedding too, through the GRU at every step)",
                         choices=("head", "decoder"))
    loudness: str = setting("quantile", "harmonic: how the content's loudness becomes the "
                                        "style's: quantile (note decays and the loudness "
                                        "distribution matched to the style's), offset (the "
                                        "content's dynamics kept, its level moved onto the "
                                        "style's) or learned (the contour the timbre prior's "
                                        "loudness mapping gives the content's notes for the "
                                        "style's embedding, at the style's level: the "
                                        "harmonic preset's; with --start scratch, offset "
                                        "unless given)",
                            choices=("quantile", "offset", "learned"))
    harmonics: int = setting(60, "harmonic: number of harmonics of the oscillator bank")
    noise_bands: int = setting(65, "harmonic: bands of the filtered-noise magnitude response")
    units: int = setting(64, "harmonic: width of the decoder's layers and GRU")
    reverb_seconds: float = setting(0.1, "harmonic: length of the learned reverb impulse "
                                         "response (0: none)")
    gl_iters: int = setting(64, "Griffin-Lim iterations for the phase")
    gl_init: str = setting("content", "Griffin-Lim initial phase: the content's, random or zeros",
                          choices=GL_INITS)
    vocoder: str = setting("", "optimisation methods on a spectral representation: what "
                               "turns the result into sound instead of Griffin-Lim: wavenet "
                               "(the vocoder shipped for --sr: 22050 and 16000) or a vocoder "
                               "run ('tfstyle fit --model vocoder', trained at --sr) (empty or "
                               "griffin-lim: Griffin-Lim)")

    @property
    def uses_vocoder(self):
        """Whether `vocoder` names one (empty and griffin-lim name Griffin-Lim)."""
        return self.vocoder not in ("", "griffin-lim")

    def validate(self):
        """Raises TfstyleError naming the first invalid value."""
        for name in ("sr", "n_fft", "hop_length", "n_mels", "n_mfcc"):
            if int(getattr(self, name)) < 1:
                raise TfstyleError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.hop_length > self.n_fft:
            raise TfstyleError(f"hop_length ({self.hop_length}) must not exceed n_fft "
                               f"({self.n_fft})")
        for name in ("filters", "kernel_size"):
            try:
                values = [int(v) for v in str(getattr(self, name)).split(",")]
            except ValueError:
                values = [0]
            if min(values) < 1:
                raise TfstyleError(f"{name} must be positive integers separated by commas, "
                                   f"got {getattr(self, name)!r}")
        for name in ("steps", "gl_iters", "chunk_frames", "tol_window", "harmonics",
                     "noise_bands", "units"):
            if int(getattr(self, name)) < 0:
                raise TfstyleError(f"{name} must be zero or more, got {getattr(self, name)}")
        if str(self.transpose).strip().lower() != "auto":
            try:
                float(self.transpose)
            except ValueError:
                raise TfstyleError(f"transpose must be 'auto' or a number of semitones, got "
                                   f"{self.transpose!r}") from None
        if self.method == "harmonic" and (self.harmonics < 1 or self.noise_bands < 2
                                          or self.units < 1):
            raise TfstyleError("harmonics and units must be at least 1 and noise_bands at "
                               "least 2")
        if self.tol_window < 1:
            raise TfstyleError(f"tol_window must be at least 1, got {self.tol_window}")
        if not self.learning_rate > 0:
            raise TfstyleError(f"learning_rate must be positive, got {self.learning_rate}")
        for name in ("content_weight", "style_weight", "autocorr_row_weight",
                     "autocorr_col_weight", "tv_weight", "clip_max", "init_noise", "tol",
                     "reverb_seconds"):
            if not getattr(self, name) >= 0:
                raise TfstyleError(f"{name} must be zero or more, got {getattr(self, name)}")
        check_choices(self)
        if self.uses_vocoder and (self.method == "harmonic" or self.representation == "waveform"):
            raise TfstyleError("--vocoder applies to the optimisation methods on a spectral "
                               "representation: the harmonic method and waveform transfer "
                               "make their own audio")
        if self.method != "harmonic" and \
                (self.method == "nsynth") != (self.representation == "waveform"):
            raise TfstyleError("the nsynth method works on the waveform representation, and "
                               "only it does: use --method nsynth --representation waveform "
                               "(or --preset boemer2019)")
        if self.representation == "mfcc" and self.n_mfcc > self.n_mels:
            raise TfstyleError(f"n_mfcc ({self.n_mfcc}) must not exceed n_mels ({self.n_mels})")
        return self

    def resolve(self, overrides=None, sr=None):
        """A copy with `overrides` (field: value) applied and `sr` set, validated."""
        unknown = set(overrides or {}) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TfstyleError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        config = dataclasses.replace(self, **(overrides or {}))
        if sr is not None:
            config.sr = int(sr)
        return config.validate()

    def kernel_frames(self):
        if self.method == "harmonic":
            return 1
        if self.method != "random-cnn":
            return 1
        kernels = [int(k) for k in str(self.kernel_size).split(",")]
        layers = len(str(self.filters).split(","))
        kernels = kernels * layers if len(kernels) == 1 else kernels
        return sum(k - 1 for k in kernels) + 1

    def min_samples(self):
        """Shortest clip that gives at least one network output frame and one STFT frame."""
        if self.method == "nsynth":
            return int(np.ceil(512 * self.sr / NSYNTH_SR))  # one encoding frame
        if self.method == "harmonic":
            return 4 * self.hop_length  # a few frames to fit on and to render
        return max(self.n_fft, (self.kernel_frames() - 1) * self.hop_length + 1)
