"""Which transfer method runs: `tfstyle transfer`, `tfstyle.transfer` and the web page come
here, and the methods below know nothing of each other.

- `harmonic` (`tfstyle.harmonic.one_shot`): a synthesiser driven by the content's own pitch
  and loudness. It plays one melody line, with the timbre it learns from one.
- optimisation transfer (`tfstyle.optimisation`): anything else: chords, drums, speech,
  mixtures, noise.

`method="auto"` (the default) analyses the head of both clips and takes the harmonic method
when both are single melodic lines: CHOICE_SHARE or more of their sounding frames have one
clear pitch (`performance.clear_pitch_share`), and the style has at least half a second of it
to learn from. Otherwise the random-cnn recipe runs. `Choice.line` says which and why.
"""
import dataclasses

import numpy as np

from tfstyle import audio, presets
from tfstyle.errors import TfstyleError

AUTO = "auto"
# The choice reads at most this much of each clip: a melody shows itself well within it, and
# the whole of a long content is analysed again only by the method that needs it.
CHOICE_SECONDS = 60.0
# The harmonic method learns the timbre from the style's pitched frames: fewer than this many
# seconds of them is too little to fit on.
MIN_STYLE_PITCHED_SECONDS = 0.5
# The harmonic method is chosen when at least this share of both clips' sounding frames has
# one clear pitch. Measured: 0.84-1.00 on every development and held-out melody of piano,
# guitar, violin, cello, flute, clarinet, saxophone and trumpet (bench/pairs.py), 0.49 on the
# bundled speech; the content warning of the harmonic method itself stays at 0.5.
CHOICE_SHARE = 0.65
# What the optimisation branch of the automatic choice runs.
FALLBACK = "random-cnn"


@dataclasses.dataclass
class Choice:
    method: str
    reason: str

    def line(self):
        other = FALLBACK if self.method == "harmonic" else "harmonic"
        return f"method: {self.method} ({self.reason}); --method {other} forces the other"


def choose(content, style, sr):
    """The Choice for a content and a style waveform (or their first CHOICE_SECONDS)."""
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic.performance import clear_pitch_share

    hop = presets.HARMONIC["hop_length"]
    head = int(CHOICE_SECONDS * sr)
    shares = {}
    for what, y in (("style", style), ("content", content)):
        controls = ctl.analyse(np.asarray(y[:head], np.float32), sr, hop)
        pitched = controls.voiced.sum() * hop / sr
        if what == "style" and pitched < MIN_STYLE_PITCHED_SECONDS:
            return Choice(FALLBACK, f"the style has {pitched:.1f} s of pitched sound, too "
                                    "little to learn an instrument from: noise, drums, "
                                    "silence or unpitched speech")
        shares[what] = clear_pitch_share(controls)
        if shares[what] < CHOICE_SHARE:
            return Choice(FALLBACK, f"only {100 * shares[what]:.0f}% of the {what}'s sounding "
                                    "frames have one clear pitch: chords, drums, speech or "
                                    "noise")
    return Choice("harmonic", f"content and style are single melodic lines: "
                              f"{100 * shares['content']:.0f}% and "
                              f"{100 * shares['style']:.0f}% of their sounding frames have "
                              "one clear pitch")


def transfer(content, style, sr=None, config=None, progress=False, **overrides):
    """Renders the content of one clip with the timbre of another; returns the waveform.

    Args:
        content: path of an audio file, or a float waveform at `sr`.
        style: same, for the style; or a list of them, used together (joined end to end).
        sr: sample rate of array inputs and of the output (default `config.sr`, 22050).
        config: a TransferConfig (e.g. `presets.config("ulyanov2016")`); keyword `overrides`
            replace single fields (e.g. `transfer(c, s, steps=100, style_weight=3.0)`).
            Its method "auto" (the default) chooses harmonic or optimisation transfer
            (`choose`); the result's `warnings` say which was chosen and why.
        progress: show a progress bar with ETA on stderr.

    Returns:
        float32 waveform [samples] at `sr`, as long as the content. `run` takes the same
        arguments and also returns the losses and timing.
    """
    import warnings

    result = run(content, style, sr, config, progress, **overrides)
    for line in result.warnings:
        warnings.warn(line, stacklevel=2)
    return result.audio


def run(content, style, sr=None, config=None, progress=False, say=None, prior=None,
        **overrides):
    """Like `transfer`, but returns a TransferResult (waveform, losses at start and end,
    time). The automatic choice's line goes to `say` (a callable), or else first among the
    result's `warnings`. `prior`: a `harmonic.prior.Prior` for the harmonic method's start
    "prior" instead of the shipped one."""
    if config is None:
        config = presets.config(**overrides)   # a bare method= gets that method's recipe
        overrides = {}
    config = config.resolve(overrides, sr)
    content, style = audio.as_waveforms(content, style, config.sr, config.min_samples())
    config, choice = _resolve(config, content, style, say)
    if config.method == "harmonic":
        from tfstyle.harmonic import one_shot
        result = one_shot.run(content, style, config, progress, prior)
    else:
        result = _optimisation(content, style, config).run(progress)
    return _noted(result, choice, say)


def check_files(config):
    """Fails fast, before TensorFlow loads, on a file the transfer of `config` reads besides
    its audio and cannot find or use: a pretrained network's weights, the vocoder run."""
    from tfstyle.optimisation.features import PRETRAINED

    if config.method in PRETRAINED and not config.random_weights:
        from tfstyle.optimisation.features.weights import resolve

        resolve(config.method, config.weights)
    _vocoder(config)


def _vocoder(config):
    """The vocoder that `config.vocoder` names (a run folder, or `wavenet`: the vocoder shipped
    for the transfer's --sr), checked without TensorFlow; None for Griffin-Lim."""
    from tfstyle.converters.api import WAVENET, shipped_vocoder, vocoder_settings

    if not config.uses_vocoder:
        return None
    source = config.vocoder
    if source == WAVENET:
        source, _ = shipped_vocoder(config.sr)
        if source is None:
            raise TfstyleError(f"no vocoder ships for {config.sr} Hz: give --sr of a shipped "
                               "one (22050) or a vocoder run trained at this rate")
    vocoder_settings(source, config.sr)
    return source


def _optimisation(content, style, config):
    """The optimisation transfer of `config`, through its vocoder where it names one."""
    from tfstyle.optimisation import transfer as optimisation

    invert = None
    source = _vocoder(config)
    if source:
        from tfstyle.converters.api import load_vocoder
        from tfstyle.converters.vocoder.synthesis import vocode_magnitude

        vocoder = load_vocoder(source)
        invert = lambda magnitude, length: vocode_magnitude(
            vocoder.generator, vocoder.config, magnitude, config.n_fft, config.hop_length,
            length)
    return optimisation.Optimisation(content, style, config, invert)


def run_to_file(content_path, style, output, config, progress=False, say=None):
    """The content of the file `content_path` with the timbre of the waveform `style`
    (config.sr), written atomically to `output`: streamed block by block by the harmonic
    method, whatever the content's length; windowed by the optimisation. Returns the
    TransferResult (its `audio` None when streamed)."""
    config, choice, head = config.validate(), None, None
    if config.method == AUTO:
        head = audio.load(content_path, config.sr, min_samples=config.min_samples(),
                          max_seconds=CHOICE_SECONDS)
        config, choice = _resolve(config, head, style, say)
    if config.method == "harmonic":
        from tfstyle.harmonic import one_shot
        content, _ = audio.stream(content_path, config.sr, min_samples=config.min_samples())
        result = one_shot.run_to_file(content(), style, output, config, progress)
    else:
        # A content shorter than the choice's head was read whole already.
        whole = head is not None and len(head) < int(CHOICE_SECONDS * config.sr)
        content = head if whole else audio.load(content_path, config.sr,
                                                min_samples=config.min_samples())
        result = _optimisation(content, style, config).run(progress)
        audio.save(output, result.audio, result.sr)
    return _noted(result, choice, say)


def _resolve(config, content, style, say):
    if config.method != AUTO:
        return config, None
    choice = choose(content, style, config.sr)
    if choice.method == "harmonic" and config.uses_vocoder:
        # The synthesiser makes its own audio: a vocoder asked for the optimisation's result
        # has nothing to do.
        choice.reason += "; --vocoder unused, the synthesiser makes its own audio"
        config = dataclasses.replace(config, vocoder="")
    if say:
        say(choice.line())
    return presets.with_method(config, choice.method), choice


def _noted(result, choice, say):
    if choice and not say:
        result.warnings.insert(0, choice.line())
    return result
