"""One-shot harmonic transfer: fit the decoder and reverb on the style clip(s), then render the
content's pitch and loudness through them (`tfstyle transfer --method harmonic`).

Fitting sees random windows of the style's frames, so a long style, or several clips joined,
costs no more per step than a short one. Rendering runs the synthesiser block by block.
"""
import time

import numpy as np

from tfstyle.errors import TfstyleError
from tfstyle.harmonic import controls as ctl
from tfstyle.harmonic.performance import (check_pitched, decoder_inputs, gate,
                                          monophony_warning, perform, render_blocks)
from tfstyle.optimise import Convergence, TransferResult, progress_bar

# Frames per fitting window (64 × 256 samples ≈ 0.74 s at 22.05 kHz) and windows per step.
WINDOW_FRAMES = 64
BATCH = 4


class Model:
    """The decoder, the synthesiser and the step that fits them: from scratch, or from the
    timbre prior (`prior.Prior`), conditioned on the style's embedding and adapted to it."""

    def __init__(self, config, prior=None, style_audio=None, copy=True):
        self.config, self.prior, self.timbre = config, prior, None
        if prior is not None:
            import tensorflow as tf

            self.decoder, self.synth = prior.decoder, prior.synth
            if copy:   # adapting to one style leaves the prior as it was for the next
                self.decoder = type(prior.decoder).from_config(prior.decoder.get_config())
                self.decoder.set_weights(prior.decoder.get_weights())
                self.synth = type(prior.synth).from_config(prior.synth.get_config())
                self.synth.set_weights(prior.synth.get_weights())
            self.timbre = tf.Variable(prior.embed([style_audio])[None], name="timbre")
            return
        from tfstyle.harmonic.decoder import HarmonicDecoder
        from tfstyle.harmonic.synthesizer import HarmonicNoiseSynth

        self.decoder = HarmonicDecoder(config.harmonics, config.noise_bands, config.units,
                                       config.units, seed=config.seed)
        self.synth = HarmonicNoiseSynth(config.sr, config.hop_length,
                                        int(config.reverb_seconds * config.sr))

    def variables(self):
        """What the fit moves: everything from scratch; from the prior, the embedding, the
        decoder's output layers and the reverb (its GRU and input layers, which read pitch
        and loudness the same way for every instrument, stay as the prior learned them)."""
        if self.prior is None:
            return self.decoder.trainable_variables + self.synth.trainable_variables
        adapted = [v for layer in self.decoder.output_layers()
                   for v in layer.trainable_variables]
        timbre = [self.timbre] if self.config.adapt == "decoder" else []
        return timbre + adapted + self.synth.trainable_variables

    def condition(self, rows):
        import tensorflow as tf

        return {} if self.timbre is None else {"timbre": tf.tile(self.timbre, [rows, 1])}

    def fit(self, style_audio, style, bar):
        """Adam on the multi-scale spectral loss over random windows of the style."""
        import keras
        import tensorflow as tf

        from tfstyle import dsp

        cfg, hop = self.config, self.config.hop_length
        frames = len(style)
        window = min(WINDOW_FRAMES, frames - 1)
        inputs = decoder_inputs(style)
        arrays = {**inputs, "f0": style.f0, "voiced": style.voiced.astype(np.float32),
                  "gate": gate(style)}
        audio = np.pad(style_audio, (0, max(0, frames * hop - len(style_audio))))
        # Windows start where something sounds.
        sounding = np.flatnonzero(arrays["gate"][:frames - window] > 0) \
            if frames > window else np.array([0])
        starts_pool = sounding if len(sounding) else np.arange(max(1, frames - window))
        rng = np.random.default_rng(cfg.seed)
        variables = self.variables()
        optimizer = keras.optimizers.Adam(cfg.learning_rate)
        optimizer.build(variables)
        state = tf.constant(self.decoder.initial_state(BATCH))   # each window starts afresh
        head_only = self.prior is not None and cfg.adapt == "head"
        if head_only:
            # Nothing before the output layers moves: what they read is computed once, over
            # the whole style, and each step runs only the output layers and the synthesiser.
            hidden = self.decoder.trunk_outputs(
                {k: tf.constant(v[None]) for k, v in inputs.items()}
                | {"state": tf.constant(self.decoder.initial_state(1)),
                   "timbre": self.timbre})
            arrays["hidden"] = hidden.numpy()[0]

        def loss_of(f0_scaled, loudness_scaled, hidden, f0, voiced, gate_, target):
            if head_only:
                outputs = self.decoder.outputs_from_trunk(hidden)
            else:
                outputs = self.decoder({"f0_scaled": f0_scaled,
                                        "loudness_scaled": loudness_scaled, "state": state,
                                        **self.condition(BATCH)}, training=True)
            out = self.synth(outputs, f0, voiced, gate_)
            return dsp.multiscale_spectral_loss(target, out[:, :tf.shape(target)[1]])

        @tf.function(reduce_retracing=True, autograph=False)
        def step(*batch):
            with tf.GradientTape() as tape:
                loss = loss_of(*batch)
            optimizer.apply(tape.gradient(loss, variables), variables)
            return loss

        def draw():
            starts = rng.choice(starts_pool, size=BATCH)
            batch = {k: np.stack([v[s:s + window] for s in starts]) for k, v in arrays.items()}
            target = np.stack([audio[s * hop:(s + window) * hop] for s in starts])
            return (batch["f0_scaled"], batch["loudness_scaled"], batch.get("hidden"),
                    batch["f0"], batch["voiced"], batch["gate"], target)

        stopper = Convergence(cfg.tol, cfg.tol_window, cfg.steps)
        first = loss = None
        for _ in range(cfg.steps):
            loss = float(step(*draw()))
            first = loss if first is None else first
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            bar.update(1)
            # Windows differ from step to step, so the rule watches a smoothed loss: the mean
            # of this step's and the last four smoothed values.
            recent = stopper.history[-4:] + [loss]
            if stopper.update(float(np.mean(recent))):
                break
        if loss is None:   # no steps: the loss of the start, on one batch
            first = loss = float(tf.function(loss_of)(*draw()))
        bar.total = stopper.steps    # the bar ends where the fit stopped
        bar.refresh()
        return stopper, first, loss


def run(content, style, config, progress=False, prior=None):
    """Harmonic transfer of waveforms at config.sr; returns a TransferResult. `prior`: a
    `prior.Prior` to start from instead of the shipped one (config.start "prior")."""
    from tfstyle import audio

    level = audio.Level([content])
    result, blocks = transfer(level, style, config, progress, prior)
    start = time.perf_counter()
    result.audio = audio.match_level(np.concatenate(list(blocks)), content)
    return finish(result, start)


def run_to_file(content_blocks, style, output, config, progress=False, prior=None):
    """Harmonic transfer of content of any length, given as successive blocks (e.g. from
    `audio.stream`), into the file `output` (written atomically): analysis, rendering and
    writing go block by block, so memory does not grow with the content's length.
    Returns a TransferResult whose `audio` is None."""
    from tfstyle import audio

    level = audio.Level(content_blocks)
    result, rendered = transfer(level, style, config, progress, prior)
    start = time.perf_counter()
    audio.save_blocks(output, rendered, config.sr, lambda: level.rms)
    return finish(result, start)


def finish(result, synthesis_start):
    """The rendering is lazy: its time is that of consuming it, from `synthesis_start`."""
    result.timings["synthesis"] = time.perf_counter() - synthesis_start
    result.seconds = sum(result.timings.values())
    return result


NO_PRIOR_DYNAMICS = ("--loudness learned needs the timbre prior's loudness mapping, and "
                     "this prior has none (bench/train_prior.py --dynamics fits one); use "
                     "--loudness offset")


def load_prior(config):
    """The shipped timbre prior, checked against the transfer's rate and hop."""
    from tfstyle.harmonic.prior import Prior

    prior = Prior.load()
    if (prior.config.sr, prior.config.hop_length) != (config.sr, config.hop_length):
        raise TfstyleError(f"the timbre prior works at {prior.config.sr} Hz with hop "
                           f"{prior.config.hop_length}; use those, or --start scratch with "
                           "--loudness offset or quantile")
    return prior


def transfer(level, style, config, progress, prior=None):
    """Analysis, checks and fit; returns (TransferResult without audio, the rendering as a
    lazy iterator of blocks)."""
    start_time = time.perf_counter()
    hop = config.hop_length
    content_controls = ctl.analyse(level, config.sr, hop)
    seconds = level.samples / config.sr
    check_pitched(content_controls, "content", seconds)
    style_controls = ctl.analyse(style, config.sr, hop)
    check_pitched(style_controls, "style", len(style) / config.sr)
    warning = monophony_warning(content_controls)
    timings = {"analysis": time.perf_counter() - start_time}
    # The prior starts the synthesiser, or gives the learned loudness mapping (whose
    # instrument is the style's embedding, whatever the start). One loaded here is this
    # transfer's own: adapting it needs no copy (~0.5 s).
    learned = config.loudness == "learned"
    owned = (config.start == "prior" or learned) and prior is None
    if owned:   # after the checks of the input
        prior = load_prior(config)
    if learned and prior.dynamics is None:
        raise TfstyleError(NO_PRIOR_DYNAMICS)
    model = Model(config, prior if config.start == "prior" else None, style, copy=not owned)
    bar = progress_bar(config.steps, progress,
                       desc="adapting the prior" if model.prior else "fitting the style")
    stopper, first, last = model.fit(style, style_controls, bar)
    bar.close()
    timings["fit"] = time.perf_counter() - start_time - timings["analysis"]
    timbre = None if model.timbre is None else model.timbre.numpy()[0]
    dynamics = None
    if learned:
        dynamics = prior.dynamics.runner(prior.embed([style]) if timbre is None else timbre)
    played, gates, semitones = perform(content_controls, style_controls, hop / config.sr,
                                       config.transpose, config.loudness, dynamics)
    result = TransferResult(audio=None, sr=config.sr, losses={"spectral": last, "total": last},
                            initial_losses={"spectral": first, "total": first}, seconds=0.0,
                            steps=stopper.steps, max_steps=config.steps,
                            stop_reason=stopper.reason, transpose=semitones,
                            warnings=[warning] if warning else [], timings=timings,
                            samples=level.samples)
    return result, render_blocks(model.decoder, model.synth, played, gates, level.samples,
                                 timbre)
