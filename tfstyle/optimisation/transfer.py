"""Optimisation style transfer (`tfstyle transfer --method random-cnn` and the other feature
networks; `tfstyle.dispatch` chooses it or harmonic transfer).

A representation of the output (log1p STFT, mel dB or MFCC) is the variable. It is moved by Adam
or L-BFGS so that a frozen feature network sees activations close to the content's (content
loss) and statistics close to the style's (Gram or L2 style loss), optionally with
autocorrelation and total-variation terms on the representation itself. The representation is
turned back into a linear magnitude and Griffin-Lim, started from the content's phase, makes
audio of the content's exact length.

Long content is optimised in windows with an overlap of at least the network's receptive field,
crossfaded in the representation, so memory stays bounded whatever the length.
"""
import time

import numpy as np

from tfstyle import audio, presets
from tfstyle.errors import TfstyleError
from tfstyle.optimise import (Convergence, TransferResult, converged, progress_bar,
                              summarise)
# The settings live in their own module so that `presets` can build on them.
from tfstyle.transfer_config import AUTO_CHUNK, NSYNTH_SR, TransferConfig

def run(content, style, sr=None, config=None, progress=False, **overrides):
    """Optimisation transfer (a TransferConfig whose method is a feature network; "auto" is
    taken as random-cnn's recipe): returns a TransferResult (waveform, losses at start and
    end, time). `tfstyle.transfer` (`tfstyle.dispatch`) is the entry point that chooses
    between this and harmonic transfer."""
    if config is None:
        config = presets.config(**overrides)  # a bare method= gets that method's recipe
        overrides = {}
    config = config.resolve(overrides, sr)
    if config.method == "auto":
        config = presets.with_method(config, "random-cnn")
    if config.method == "harmonic":
        raise TfstyleError("this runs optimisation transfer; harmonic transfer is "
                           "tfstyle.transfer(..., method='harmonic') (tfstyle.dispatch)")
    content, style = audio.as_waveforms(content, style, config.sr, config.min_samples())
    return Optimisation(content, style, config).run(progress)


def _names(text):
    return [n.strip() for n in str(text).split(",") if n.strip()]


class Optimisation:
    """One transfer: builds representation, network and targets, optimises window by window."""

    TERMS = ("content", "style", "autocorr_row", "autocorr_col", "tv")

    def __init__(self, content, style, config, invert=None):
        """`invert`: (linear magnitude [frames, bins], length) → waveform at the working
        rate; by default Griffin-Lim (`griffin_lim`), a vocoder where `tfstyle.dispatch`
        makes one of config.vocoder."""
        import tensorflow as tf

        from tfstyle.optimisation import features, precision
        from tfstyle.optimisation.representations import Representation

        if config.vocoder and invert is None:
            raise TfstyleError("a vocoder is applied by tfstyle.transfer (tfstyle.dispatch), "
                               "which loads it")
        self.config, self.content, self.invert = config, content, invert or self.griffin_lim
        # Waveform transfer runs at the encoder's rate; spectral methods at the user's.
        self.work_sr = NSYNTH_SR if config.method == "nsynth" else config.sr
        content, style = (audio.resample(x, config.sr, self.work_sr) for x in (content, style))
        self.rep = Representation(config.representation, self.work_sr, config.n_fft,
                                  config.hop_length, config.n_mels, config.n_mfcc)
        self.content_stft = self.rep.stft(content[None]) if self.rep.is_spectral else None
        if self.rep.is_spectral:
            self.content_rep = self.rep.encode(stft_matrix=self.content_stft)[0]
        else:
            self.content_rep = self.rep.encode(content[None])[0]
        self.style_rep = self.rep.encode(style[None])[0]
        self.work_length = len(content)
        lo = float(tf.reduce_min(self.content_rep))
        hi = float(tf.reduce_max(self.content_rep))
        self.matmul_dtype = precision.resolve(config.precision) \
            if config.method == "random-cnn" else "float32"
        self.net = features.build(config.method, self.rep.channels, config.filters,
                                  config.kernel_size, config.activation, config.seed,
                                  config.weights, config.random_weights, config.pooling,
                                  image_range=(lo, hi), matmul_dtype=self.matmul_dtype)
        self.content_layers = _names(config.content_layers) or self.net.content_layers
        self.style_layers = _names(config.style_layers) or self.net.style_layers
        self.net.check_layers(self.content_layers + self.style_layers)
        weights = [float(w) for w in _names(config.style_layer_weights)] or \
            [1.0] * len(self.style_layers)
        if len(weights) != len(self.style_layers):
            raise TfstyleError(f"{len(weights)} style layer weights for "
                               f"{len(self.style_layers)} style layers")
        self.layer_weights = weights
        # Measured on CPU (bench/transfer_speed.py, bench/nsynth_speed.py): XLA speeds up the
        # random CNN's step now that its convolution is matrix products (TapConv1D: 73 ms
        # against 92-105 ms on 2 cores, the losses alike; with the convolution op it was
        # slower) and the NSynth encoder's many small dilated convolutions. Not in bfloat16:
        # XLA's CPU product took 28.6 ms for the default forward against oneDNN's 15 ms.
        self.jit_compile = config.method == "nsynth" or (
            config.method == "random-cnn" and self.matmul_dtype == "float32")
        self.chunk = config.chunk_frames or self.net.native_frames or AUTO_CHUNK[config.method]
        self._style_maps = None

    # Windows ---------------------------------------------------------------------------------

    def windows(self, frames, equal=True):
        """(start, stop) frame ranges covering [0, frames) with crossfade overlaps. With
        `equal` (the content's) every window has the same length, as short as covers the
        clip with as many windows as `chunk` needs, so the compiled step serves them all
        and no frames are optimised twice beyond the overlaps."""
        if frames <= self.chunk:
            return [(0, frames)]
        # The overlap always covers the receptive field; windows grow if they must.
        overlap = max(self.net.receptive_field, self.chunk // 8)
        chunk = max(self.chunk, 2 * overlap)
        if chunk >= frames:
            return [(0, frames)]
        starts = list(range(0, frames - overlap, chunk - overlap))
        if not equal:
            return [(s, min(s + chunk, frames)) for s in starts]
        # n windows of `length` overlap by at least `overlap`: n·length − (n−1)·overlap ≥
        # frames, and the floor'd starts step by at most length − overlap.
        n = len(starts)
        length = -(-(frames + (n - 1) * overlap) // n)
        starts = [i * (frames - length) // (n - 1) for i in range(n)]
        return [(s, s + length) for s in starts]

    def style_maps(self):
        """Style activations, computed once, window by window for a long style clip (each
        frame counted once in the Gram: the windows' receptive-field overlaps are cut)."""
        if self._style_maps is None:
            maps = {name: [] for name in self.style_layers}
            for start, stop in self.windows(int(self.style_rep.shape[0]), equal=False):
                taps = self.net(self.style_rep[None, start:stop], self.style_layers)
                for name in self.style_layers:
                    maps[name].append(taps[name])
            self._style_maps = maps
        return self._style_maps

    # Losses ----------------------------------------------------------------------------------

    def objective(self, frames):
        """The loss of a window of `frames` frames (`Objective`)."""
        return Objective(self, frames)

    def weights(self):
        c = self.config
        return np.array([c.content_weight, c.style_weight, c.autocorr_row_weight,
                         c.autocorr_col_weight, c.tv_weight], np.float32)

    # Optimisation ----------------------------------------------------------------------------

    def initial(self, content_rep, window):
        import tensorflow as tf

        cfg = self.config
        scale = float(tf.math.reduce_std(self.content_rep)) + 1e-6
        noise = tf.random.stateless_normal(tf.shape(content_rep), [cfg.seed, window])
        if cfg.init == "content":
            x = content_rep
        elif cfg.init == "content+noise":
            x = content_rep + cfg.init_noise * scale * noise
        else:
            x = 1e-3 * scale * noise
        return self.project(x)

    def project(self, x):
        import tensorflow as tf

        if self.rep.lower_bound is not None:
            x = tf.maximum(x, self.rep.lower_bound)
        upper = self.upper_bound()
        return x if upper is None else tf.minimum(x, upper)

    def upper_bound(self):
        bounds = [b for b in (self.rep.upper_bound, self.config.clip_max or None) if b]
        return min(bounds) if bounds else None

    def run(self, progress):
        start_time = time.perf_counter()
        cfg = self.config
        frames = int(self.content_rep.shape[0])
        windows = self.windows(frames)
        objective = self.objective(windows[0][1] - windows[0][0])
        optimise = (AdamLoop if cfg.optimizer == "adam" else LBFGS)(self, objective)
        timings = {"setup": time.perf_counter() - start_time}
        bar = progress_bar(cfg.steps * len(windows), progress)
        pieces, initial_terms, final_terms = [], np.zeros(5), np.zeros(5)
        taken, reasons = 0, []
        for index, (start, stop) in enumerate(windows):
            window_rep = self.content_rep[start:stop]
            objective.set_window(window_rep)
            stopper = Convergence(cfg.tol, cfg.tol_window, cfg.steps)
            x, first, last = optimise(self.initial(window_rep, index), bar, stopper)
            # A window that stopped early takes its unused steps off the bar's total, so the bar
            # ends where the run did and the ETA counts only what is left.
            bar.total -= cfg.steps - stopper.steps
            bar.refresh()
            taken += stopper.steps
            reasons.append(stopper.reason)
            share = (stop - start) / frames
            initial_terms += share * first
            final_terms += share * last
            pieces.append(x)
        bar.close()
        timings.update(optimise.timings)
        timings["optimisation"] = time.perf_counter() - start_time - timings["setup"]
        inversion_start = time.perf_counter()
        result_rep = _crossfade(pieces, windows, frames)
        if self.rep.is_spectral:
            y = np.asarray(self.invert(self.rep.to_magnitude(result_rep[None])[0],
                                       self.work_length), np.float32)
        else:
            y = self.rep.to_waveform(result_rep[None])[0].numpy()
        y = audio.resample(y, self.work_sr, cfg.sr)
        y = np.pad(y, (0, max(0, len(self.content) - len(y))))[: len(self.content)]
        if not np.all(np.isfinite(y)):
            raise TfstyleError("the optimisation diverged (non-finite output); lower "
                               "--learning-rate or the loss weights")
        y = audio.match_level(y, self.content)
        timings["inversion"] = time.perf_counter() - inversion_start
        return TransferResult(audio=y, sr=cfg.sr, losses=self._named(final_terms),
                              initial_losses=self._named(initial_terms),
                              seconds=time.perf_counter() - start_time,
                              representation=result_rep.numpy(), steps=taken,
                              max_steps=cfg.steps * len(windows),
                              stop_reason=summarise(reasons), timings=timings,
                              precision="" if self.matmul_dtype == "float32"
                              else self.matmul_dtype)

    def griffin_lim(self, magnitude, length):
        """The default inversion: Griffin-Lim from the configured initial phase."""
        from tfstyle import phase

        cfg = self.config
        init = self.content_stft[0] if cfg.gl_init == "content" else cfg.gl_init
        return phase.griffin_lim(magnitude, n_iter=cfg.gl_iters, hop_length=cfg.hop_length,
                                 n_fft=cfg.n_fft, length=length, init=init,
                                 seed=cfg.seed).numpy()

    def _named(self, terms):
        weighted = terms * self.weights()
        named = {name: float(v) for name, v, w in zip(self.TERMS, weighted, self.weights())
                 if w or name in ("content", "style")}
        named["total"] = float(weighted.sum())
        return named


class Objective:
    """The loss terms of one window of `frames` frames as a function of the representation
    `x` alone: the content's activations for the window live in variables (`set_window`
    fills them), so one traced step serves every window of a long clip; the style's
    statistics are fixed when it is built."""

    def __init__(self, opt, frames):
        import tensorflow as tf

        from tfstyle.optimisation import losses

        cfg = opt.config
        self.opt, self.frames = opt, frames
        self.layers = sorted(set(opt.content_layers) | set(opt.style_layers))
        probe = opt.net(opt.content_rep[None, :frames], self.layers)
        self.targets = {n: tf.Variable(probe[n], trainable=False, name=f"target_{n}")
                        for n in opt.content_layers}
        style_maps = opt.style_maps()
        self.style_terms = []
        for name, weight in zip(opt.style_layers, opt.layer_weights):
            if cfg.style_loss == "gram":
                positions = int(np.prod(probe[name].shape[:-1]))
                self.style_terms.append((weight, losses.GramStyleLoss(
                    style_maps[name], positions, cfg.gram_norm, cfg.reduction)))
            else:
                aligned = opt.net(losses.align_frames(opt.style_rep, frames)[None], [name])
                self.style_terms.append((weight, lambda f, s=aligned[name]: losses.l2_style_loss(
                    f, s, cfg.reduction)))
        self.style_rep = opt.style_rep
        self._content_maps = tf.function(
            lambda rep: opt.net(rep[None], opt.content_layers), autograph=False)

    def set_window(self, window_rep):
        """The content's activations of this window become the targets."""
        for name, value in self._content_maps(window_rep).items():
            self.targets[name].assign(value)

    def __call__(self, x):
        """The five terms [content, style, autocorr_row, autocorr_col, tv] at `x`."""
        import tensorflow as tf

        from tfstyle.optimisation import losses

        cfg, opt = self.opt.config, self.opt
        taps = opt.net(x[None], self.layers)
        content = tf.add_n([losses.content_loss(taps[n], self.targets[n], cfg.reduction)
                            for n in opt.content_layers])
        style = tf.add_n([w * fn(taps[n]) for (w, fn), n in zip(self.style_terms,
                                                                 opt.style_layers)])
        zero = tf.constant(0.0)
        row = losses.autocorrelation_loss(x, self.style_rep, -2) \
            if cfg.autocorr_row_weight else zero
        col = losses.autocorrelation_loss(x, self.style_rep, -1) \
            if cfg.autocorr_col_weight else zero
        tv = losses.total_variation(x) if cfg.tv_weight else zero
        return tf.stack([content, style, row, col, tv])


# Steps per call of the compiled loop: the progress bar moves this often, and Python runs
# nothing in between.
REPORT_EVERY = 10


class AdamLoop:
    """Adam on the representation, the steps and the convergence rule (`Convergence`) in one
    compiled loop: a call runs up to REPORT_EVERY steps and stops early where the rule says
    so. The variable, the optimizer and the traced functions are made once and reset for
    each window, so a long clip traces once."""

    def __init__(self, opt, objective):
        import keras
        import tensorflow as tf

        cfg = opt.config
        self.opt, self.objective = opt, objective
        self.x = tf.Variable(tf.zeros([objective.frames, opt.rep.channels]),
                             name="representation")
        self.optimizer = keras.optimizers.Adam(cfg.learning_rate)
        self.optimizer.build([self.x])
        # Every step's weighted total, for the convergence rule.
        self.history = tf.Variable(tf.zeros([max(cfg.steps, 1)]), trainable=False)
        self.count = tf.Variable(0, trainable=False)
        self.timings = {}
        weights = tf.constant(opt.weights())
        tol, window = float(cfg.tol), int(cfg.tol_window)
        x, history, count = self.x, self.history, self.count

        @tf.function(jit_compile=opt.jit_compile, autograph=False)
        def step():
            with tf.GradientTape() as tape:
                values = objective(x)
                total = tf.reduce_sum(weights * values)
            self.optimizer.apply([tape.gradient(total, x)], [x])
            x.assign(opt.project(x))
            return values, total

        @tf.function(autograph=False)
        def advance(limit):
            """Up to `limit` steps: (steps run, stopped by the rule, the last step's terms)."""
            def body(i, stop, last):
                values, total = step()
                n = count.read_value()
                history.scatter_nd_update([[n]], [total])
                count.assign_add(1)
                before = history[tf.maximum(n - window, 0)]
                stop = (tol > 0) & (n >= window) & converged(before, total, tol)
                return i + 1, stop | ~tf.math.is_finite(total), values

            return tf.while_loop(lambda i, stop, _: (i < limit) & ~stop, body,
                                 [tf.constant(0), tf.constant(False), tf.zeros([5])])

        self.step, self.advance = step, advance
        self.evaluate = tf.function(objective, autograph=False)

    def reset(self, x0):
        import tensorflow as tf

        self.x.assign(x0)
        for variable in self.optimizer.variables:
            if "learning_rate" not in variable.path:   # iterations and moments
                variable.assign(tf.zeros_like(variable))
        self.count.assign(0)

    def __call__(self, x0, bar, stopper):
        """Optimises from x0 until the rule or the step limit stops it; returns (x, terms at
        the start, terms at the end). `stopper` ends with the steps taken and the reason."""
        import tensorflow as tf

        self.reset(x0)
        # The start's terms by the same function as the end's (the compiled step's own
        # first values differ from it in the last bits).
        first = self.evaluate(self.x).numpy()
        weights = self.opt.weights()
        while stopper.steps < stopper.max_steps:
            start = time.perf_counter()
            ran, stopped, values = (
                v.numpy() for v in self.advance(min(REPORT_EVERY,
                                                    stopper.max_steps - stopper.steps)))
            # The first call also traces: its time is kept apart.
            key = "steps" if "first call" in self.timings else "first call"
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - start
            stopper.record(self.history.numpy()[stopper.steps:stopper.steps + int(ran)])
            bar.set_postfix(loss=f"{float(np.dot(values, weights)):.4g}", refresh=False)
            bar.update(int(ran))
            if stopped:
                stopper.stopped(np.isfinite(np.dot(values, weights)))
                break
        return tf.constant(self.x.numpy()), first, self.evaluate(self.x).numpy()


class LBFGS:
    """SciPy's L-BFGS-B fed by a traced value-and-gradient (float64 at the boundary); SciPy
    calls back after every step, so this loop runs in Python."""

    def __init__(self, opt, objective):
        import tensorflow as tf

        self.opt, self.objective, self.timings = opt, objective, {}
        weights = tf.constant(opt.weights())
        shape = [objective.frames, opt.rep.channels]

        @tf.function(autograph=False)
        def value_and_grad(flat):
            x = tf.reshape(flat, shape)
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(weights * objective(x))
            return total, tf.reshape(tape.gradient(total, x), [-1])

        self.value_and_grad = value_and_grad
        self.evaluate = tf.function(objective, autograph=False)

    def __call__(self, x0, bar, stopper):
        import scipy.optimize
        import tensorflow as tf

        cfg, opt = self.opt.config, self.opt
        shape = x0.shape

        def fun(flat):
            total, grad = self.value_and_grad(tf.constant(flat, tf.float32))
            return float(total), grad.numpy().astype(np.float64)

        lower, upper = opt.rep.lower_bound, opt.upper_bound()
        bounds = None if lower is None and upper is None \
            else [(lower, upper)] * int(np.prod(shape))
        first = self.evaluate(x0).numpy()

        def callback(intermediate_result):
            bar.set_postfix(loss=f"{intermediate_result.fun:.4g}", refresh=False)
            bar.update(1)
            if stopper.update(intermediate_result.fun):
                raise StopIteration  # SciPy ends the run and returns the current point

        if cfg.steps:
            res = scipy.optimize.minimize(
                fun, np.asarray(x0, np.float64).ravel(), jac=True, method="L-BFGS-B",
                bounds=bounds, callback=callback,
                options={"maxiter": cfg.steps, "maxfun": cfg.steps * 2})
            x = tf.reshape(tf.constant(res.x, tf.float32), shape)
            if stopper.reason == "max steps" and res.status == 0:
                stopper.reason = "converged"  # SciPy's own gradient or function tolerance
        else:
            x = tf.convert_to_tensor(x0)
        return x, first, self.evaluate(x).numpy()


def _crossfade(pieces, windows, frames):
    """Joins optimised windows, ramping linearly across each overlap."""
    import tensorflow as tf

    if len(pieces) == 1:
        return pieces[0]
    total = np.zeros((frames, int(pieces[0].shape[-1])), np.float32)
    weight = np.zeros((frames, 1), np.float32)
    for i, (piece, (start, stop)) in enumerate(zip(pieces, windows)):
        ramp = np.ones(stop - start, np.float32)
        if i > 0:
            overlap = windows[i - 1][1] - start
            ramp[:overlap] = np.linspace(0, 1, overlap + 2, dtype=np.float32)[1:-1]
        if i < len(pieces) - 1:
            overlap = stop - windows[i + 1][0]
            ramp[-overlap:] = np.minimum(ramp[-overlap:], np.linspace(
                1, 0, overlap + 2, dtype=np.float32)[1:-1])
        total[start:stop] += ramp[:, None] * np.asarray(piece)
        weight[start:stop] += ramp[:, None]
    return tf.constant(total / np.maximum(weight, 1e-6))
