"""Optimisation style transfer with a random 1-D CNN (`tfstyle transfer`, `tfstyle.transfer`).

The output's log1p STFT magnitude is the variable. It starts from the content and is moved by
Adam so that the random CNN's activations stay close to the content's (content loss) while
their Gram statistics approach the style's (style loss). Griffin-Lim, started from the content's
phase, turns the result back into audio with the content's exact length.
"""
import dataclasses
import sys
import time

import numpy as np

from tfstyle.errors import TfstyleError

INITS = ("content", "content+noise", "noise")
GL_INITS = ("content", "random", "zeros")


def _field(default, help, choices=None):
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


@dataclasses.dataclass
class TransferConfig:
    """Every setting of a transfer. Defaults keep the content's melody or words recognisable while
    moving the timbre toward the style (measured by `bench/transfer_quality.py`)."""

    sr: int = _field(22050, "processing sample rate in Hz; both inputs are resampled to it and "
                            "the output is written at it")
    n_fft: int = _field(2048, "FFT size of the STFT (frequency bins = n_fft/2 + 1)")
    hop_length: int = _field(512, "STFT hop in samples")
    filters: int = _field(4096, "number of random filters in the convolution (more = richer "
                                "style statistics, slower)")
    kernel_size: int = _field(3, "convolution width in STFT frames (Ulyanov used 11)")
    activation: str = _field("relu", "nonlinearity after the convolution: relu, leaky_relu or "
                                     "none", choices=("relu", "leaky_relu", "none"))
    steps: int = _field(300, "Adam optimisation steps")
    learning_rate: float = _field(0.03, "Adam learning rate (on log1p magnitudes)")
    content_weight: float = _field(1.0, "weight of the content loss; raise it to keep more of "
                                        "the content")
    style_weight: float = _field(30.0, "weight of the Gram style loss; raise it for more of the "
                                       "style's timbre")
    init: str = _field("content", "start point of the optimisation", choices=INITS)
    seed: int = _field(0, "seed of the random network, the noise and the random phase")
    gl_iters: int = _field(64, "Griffin-Lim iterations for the phase")
    gl_init: str = _field("content", "Griffin-Lim initial phase: the content's, random or zeros",
                          choices=GL_INITS)

    def validate(self):
        """Raises TfstyleError naming the first invalid value."""
        positive = ("sr", "n_fft", "hop_length", "filters", "kernel_size")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise TfstyleError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.hop_length > self.n_fft:
            raise TfstyleError(f"hop_length ({self.hop_length}) must not exceed n_fft "
                               f"({self.n_fft})")
        for name in ("steps", "gl_iters"):
            if int(getattr(self, name)) < 0:
                raise TfstyleError(f"{name} must be zero or more, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise TfstyleError(f"learning_rate must be positive, got {self.learning_rate}")
        for name in ("content_weight", "style_weight"):
            if not getattr(self, name) >= 0:
                raise TfstyleError(f"{name} must be zero or more, got {getattr(self, name)}")
        for field in dataclasses.fields(self):
            choices = field.metadata["choices"]
            if choices and getattr(self, field.name) not in choices:
                raise TfstyleError(f"{field.name} must be one of {', '.join(choices)}, "
                                   f"got {getattr(self, field.name)!r}")
        return self

    def min_samples(self):
        """Shortest clip that gives at least one output frame of the conv (and one STFT frame)."""
        return max(self.n_fft, (self.kernel_size - 1) * self.hop_length + 1)


@dataclasses.dataclass
class TransferResult:
    """What `transfer` returns: the waveform at `sr` plus what a user wants to see about the run."""

    audio: np.ndarray
    sr: int
    losses: dict           # content, style and weighted total at the end
    initial_losses: dict   # the same at the start point
    seconds: float


def transfer(content, style, sr=None, config=None, progress=False, **overrides):
    """Renders the content of one clip with the timbre of another; returns the waveform.

    Args:
        content: path of an audio file, or a float waveform at `sr`.
        style: same, for the style.
        sr: sample rate of array inputs and of the output (default `config.sr`, 22050).
        config: a TransferConfig; keyword `overrides` replace single fields
            (e.g. `transfer(c, s, steps=100, style_weight=3.0)`).
        progress: show a progress bar with ETA on stderr.

    Returns:
        float32 waveform [samples] at `sr`, as long as the content. `run` takes the same
        arguments and also returns the losses and timing.
    """
    return run(content, style, sr, config, progress, **overrides).audio


def run(content, style, sr=None, config=None, progress=False, **overrides):
    """Like `transfer`, but returns a TransferResult (waveform, losses at start and end, time)."""
    config = dataclasses.replace(config or TransferConfig(), **overrides)
    if sr is not None:
        config.sr = int(sr)
    config.validate()
    content = _as_waveform(content, config, "content")
    style = _as_waveform(style, config, "style")
    return _optimise(content, style, config, progress)


def _as_waveform(x, config, what):
    if isinstance(x, (str, bytes)) or hasattr(x, "__fspath__"):
        from tfstyle import audio
        return audio.load(x, config.sr, min_samples=config.min_samples())
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise TfstyleError(f"{what}: expected a mono waveform [samples], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise TfstyleError(f"{what}: the waveform contains NaN or infinite samples")
    if len(x) < config.min_samples():
        raise TfstyleError(f"{what}: too short ({len(x)} samples); at least "
                           f"{config.min_samples()} are needed with these settings")
    return x


def _optimise(content, style, config, progress):
    import tensorflow as tf

    from tfstyle import phase, spectral
    from tfstyle.features import RandomCNN1D
    from tfstyle.losses import GramStyleLoss, content_loss

    start = time.perf_counter()
    stft_args = dict(n_fft=config.n_fft, hop_length=config.hop_length)
    content_stft = spectral.stft(content[None], **stft_args)
    content_rep = spectral.log1p_magnitude(content_stft)
    style_rep = spectral.log1p_magnitude(spectral.stft(style[None], **stft_args))

    net = RandomCNN1D(content_rep.shape[-1], filters=config.filters,
                      kernel_size=config.kernel_size, activation=config.activation,
                      seed=config.seed)
    tap = "conv1" if config.activation == "none" else f"{config.activation}1"
    content_target = net(content_rep)[tap][0]
    frames_out = content_target.shape[0]
    style_loss = GramStyleLoss(net(style_rep)[tap][0], content_frames=frames_out)

    x = tf.Variable(_initial(content_rep, config), name="spectrogram")
    optimizer = tf.keras.optimizers.Adam(config.learning_rate)
    optimizer.build([x])
    weights = tf.constant([config.content_weight, config.style_weight], tf.float32)

    def loss_terms():
        features = net(x)[tap][0]
        return tf.stack([content_loss(features, content_target), style_loss(features)])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = loss_terms()
            total = tf.reduce_sum(weights * terms)
        optimizer.apply([tape.gradient(total, x)], [x])
        # Log-magnitudes below zero would mean negative magnitudes: project back.
        x.assign(tf.nn.relu(x))
        return terms

    initial = loss_terms().numpy()
    bar = _progress_bar(config.steps, progress)
    for _ in range(config.steps):
        terms = step().numpy()
        bar.set_postfix(content=f"{terms[0]:.3g}", style=f"{terms[1]:.3g}", refresh=False)
        bar.update(1)
    bar.close()
    final = loss_terms().numpy()

    magnitude = spectral.inverse_log1p(x)
    init = content_stft if config.gl_init == "content" else config.gl_init
    y = phase.griffin_lim(magnitude, n_iter=config.gl_iters, length=len(content),
                          init=init, seed=config.seed, **stft_args)[0].numpy()
    y = match_level(y, content)
    return TransferResult(audio=y, sr=config.sr, losses=_named(final, config),
                          initial_losses=_named(initial, config),
                          seconds=time.perf_counter() - start)


def _named(terms, config):
    return {"content": float(terms[0]), "style": float(terms[1]),
            "total": float(config.content_weight * terms[0] + config.style_weight * terms[1])}


def _initial(content_rep, config):
    import tensorflow as tf

    noise = tf.random.stateless_normal(tf.shape(content_rep), [config.seed, 1], stddev=1e-3)
    if config.init == "content":
        return content_rep
    if config.init == "content+noise":
        return tf.nn.relu(content_rep + 100.0 * noise)
    return tf.abs(noise)


def match_level(y, reference, peak=10 ** (-1 / 20)):
    """Scales y to the reference's RMS level, then down if needed so its peak stays ≤ -1 dBFS."""
    rms = np.sqrt(np.mean(np.square(y))) + 1e-12
    target = np.sqrt(np.mean(np.square(reference)))
    y = y * (target / rms)
    top = np.max(np.abs(y))
    if top > peak:
        y = y * (peak / top)
    return y.astype(np.float32)


def _progress_bar(total, enabled):
    from tqdm.auto import tqdm

    # Off a terminal (logs, CI) a line every 10 s is plenty.
    interval = 0.1 if sys.stderr.isatty() else 10.0
    return tqdm(total=total, desc="optimising", unit="step", disable=not enabled,
                mininterval=interval, dynamic_ncols=True, leave=True)
