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
from tfstyle.optimise import Convergence, TransferResult, progress_bar, summarise
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
        raise TfstyleError("style_transfer runs optimisation transfer; harmonic transfer is "
                           "tfstyle.transfer(..., method='harmonic') (tfstyle.dispatch)")
    content, style = audio.as_waveforms(content, style, config.sr, config.min_samples())
    return Optimisation(content, style, config).run(progress)


def _names(text):
    return [n.strip() for n in str(text).split(",") if n.strip()]


class Optimisation:
    """One transfer: builds representation, network and targets, optimises window by window."""

    TERMS = ("content", "style", "autocorr_row", "autocorr_col", "tv")

    def __init__(self, content, style, config):
        import tensorflow as tf

        from tfstyle import features
        from tfstyle.representations import Representation

        self.config, self.content = config, content
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
        self.net = features.build(config.method, self.rep.channels, config.filters,
                                  config.kernel_size, config.activation, config.seed,
                                  config.weights, config.random_weights, config.pooling,
                                  image_range=(lo, hi))
        self.content_layers = _names(config.content_layers) or self.net.content_layers
        self.style_layers = _names(config.style_layers) or self.net.style_layers
        self.net.check_layers(self.content_layers + self.style_layers)
        weights = [float(w) for w in _names(config.style_layer_weights)] or \
            [1.0] * len(self.style_layers)
        if len(weights) != len(self.style_layers):
            raise TfstyleError(f"{len(weights)} style layer weights for "
                               f"{len(self.style_layers)} style layers")
        self.layer_weights = weights
        # Measured on CPU (bench/transfer_speed.py, bench/nsynth_speed.py): XLA slows the
        # random-CNN step (large matmuls already run at oneDNN speed) but speeds up the
        # NSynth encoder's many small dilated convolutions.
        self.jit_compile = config.method == "nsynth"
        self.chunk = config.chunk_frames or self.net.native_frames or AUTO_CHUNK[config.method]
        self._style_maps = None

    # Windows ---------------------------------------------------------------------------------

    def windows(self, frames):
        """(start, stop) frame ranges covering [0, frames) with crossfade overlaps."""
        if frames <= self.chunk:
            return [(0, frames)]
        # The overlap always covers the receptive field; windows grow if they must.
        overlap = max(self.net.receptive_field, self.chunk // 8)
        chunk = max(self.chunk, 2 * overlap)
        starts = list(range(0, frames - overlap, chunk - overlap))
        return [(s, min(s + chunk, frames)) for s in starts]

    def style_maps(self):
        """Style activations, computed once, window by window for a long style clip."""
        if self._style_maps is None:
            maps = {name: [] for name in self.style_layers}
            for start, stop in self.windows(int(self.style_rep.shape[0])):
                taps = self.net(self.style_rep[None, start:stop], self.style_layers)
                for name in self.style_layers:
                    maps[name].append(taps[name])
            self._style_maps = maps
        return self._style_maps

    # Losses ----------------------------------------------------------------------------------

    def loss_fn(self, content_rep):
        """Returns f(x) → stacked weighted-ready loss terms for one window of the content."""
        import tensorflow as tf

        from tfstyle import losses

        cfg = self.config
        frames = int(content_rep.shape[0])
        layers = sorted(set(self.content_layers) | set(self.style_layers))
        targets = self.net(content_rep[None], layers)
        style_maps = self.style_maps()
        style_terms = []
        for name, weight in zip(self.style_layers, self.layer_weights):
            if cfg.style_loss == "gram":
                positions = int(np.prod(targets[name].shape[:-1]))
                style_terms.append((weight, losses.GramStyleLoss(
                    style_maps[name], positions, cfg.gram_norm, cfg.reduction)))
            else:
                aligned = self.net(losses.align_frames(self.style_rep, frames)[None], [name])
                style_terms.append((weight, lambda f, s=aligned[name]: losses.l2_style_loss(
                    f, s, cfg.reduction)))
        style_rep = self.style_rep

        def terms(x):
            taps = self.net(x[None], layers)
            content = tf.add_n([losses.content_loss(taps[n], targets[n], cfg.reduction)
                                for n in self.content_layers])
            style = tf.add_n([w * fn(taps[n]) for (w, fn), n in zip(style_terms,
                                                                     self.style_layers)])
            zero = tf.constant(0.0)
            row = losses.autocorrelation_loss(x, style_rep, -2) \
                if cfg.autocorr_row_weight else zero
            col = losses.autocorrelation_loss(x, style_rep, -1) \
                if cfg.autocorr_col_weight else zero
            tv = losses.total_variation(x) if cfg.tv_weight else zero
            return tf.stack([content, style, row, col, tv])

        return terms

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
        from tfstyle import phase

        start_time = time.perf_counter()
        cfg = self.config
        frames = int(self.content_rep.shape[0])
        windows = self.windows(frames)
        bar = progress_bar(cfg.steps * len(windows), progress)
        pieces, initial_terms, final_terms = [], np.zeros(5), np.zeros(5)
        taken, reasons = 0, []
        for index, (start, stop) in enumerate(windows):
            window_rep = self.content_rep[start:stop]
            terms = self.loss_fn(window_rep)
            x0 = self.initial(window_rep, index)
            optimise = _adam if cfg.optimizer == "adam" else _lbfgs
            stopper = Convergence(cfg.tol, cfg.tol_window, cfg.steps)
            x, first, last = optimise(self, terms, x0, bar, stopper)
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
        result_rep = _crossfade(pieces, windows, frames)
        if self.rep.is_spectral:
            magnitude = self.rep.to_magnitude(result_rep[None])
            init = self.content_stft if cfg.gl_init == "content" else cfg.gl_init
            y = phase.griffin_lim(magnitude, n_iter=cfg.gl_iters, hop_length=cfg.hop_length,
                                  n_fft=cfg.n_fft, length=self.work_length, init=init,
                                  seed=cfg.seed)[0].numpy()
        else:
            y = self.rep.to_waveform(result_rep[None])[0].numpy()
        y = audio.resample(y, self.work_sr, cfg.sr)
        y = np.pad(y, (0, max(0, len(self.content) - len(y))))[: len(self.content)]
        if not np.all(np.isfinite(y)):
            raise TfstyleError("the optimisation diverged (non-finite output); lower "
                               "--learning-rate or the loss weights")
        y = audio.match_level(y, self.content)
        return TransferResult(audio=y, sr=cfg.sr, losses=self._named(final_terms),
                              initial_losses=self._named(initial_terms),
                              seconds=time.perf_counter() - start_time,
                              representation=result_rep.numpy(), steps=taken,
                              max_steps=cfg.steps * len(windows),
                              stop_reason=summarise(reasons))

    def _named(self, terms):
        weighted = terms * self.weights()
        named = {name: float(v) for name, v, w in zip(self.TERMS, weighted, self.weights())
                 if w or name in ("content", "style")}
        named["total"] = float(weighted.sum())
        return named


def _adam(opt, terms, x0, bar, stopper):
    import keras
    import tensorflow as tf

    cfg = opt.config
    x = tf.Variable(x0, name="representation")
    optimizer = keras.optimizers.Adam(cfg.learning_rate)
    optimizer.build([x])
    weights = tf.constant(opt.weights())

    @tf.function(jit_compile=opt.jit_compile)
    def step():
        with tf.GradientTape() as tape:
            values = terms(x)
            total = tf.reduce_sum(weights * values)
        optimizer.apply([tape.gradient(total, x)], [x])
        x.assign(opt.project(x))
        return values

    first = terms(x).numpy()
    for _ in range(cfg.steps):
        values = step().numpy()
        total = float(np.dot(values, opt.weights()))
        bar.set_postfix(loss=f"{total:.4g}", refresh=False)
        bar.update(1)
        if stopper.update(total):
            break
    return tf.convert_to_tensor(x), first, terms(x).numpy()


def _lbfgs(opt, terms, x0, bar, stopper):
    """SciPy's L-BFGS-B fed by a tf.function value-and-gradient (float64 at the boundary)."""
    import scipy.optimize
    import tensorflow as tf

    cfg = opt.config
    shape = x0.shape
    weights = tf.constant(opt.weights())

    @tf.function
    def value_and_grad(flat):
        x = tf.reshape(flat, shape)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(weights * terms(x))
        return total, tf.reshape(tape.gradient(total, x), [-1])

    def fun(flat):
        total, grad = value_and_grad(tf.constant(flat, tf.float32))
        return float(total), grad.numpy().astype(np.float64)

    lower, upper = opt.rep.lower_bound, opt.upper_bound()
    bounds = None if lower is None and upper is None else [(lower, upper)] * int(np.prod(shape))
    first = terms(x0).numpy()

    def callback(intermediate_result):
        bar.set_postfix(loss=f"{intermediate_result.fun:.4g}", refresh=False)
        bar.update(1)
        if stopper.update(intermediate_result.fun):
            raise StopIteration  # SciPy ends the run and returns the current point

    if cfg.steps:
        res = scipy.optimize.minimize(
            fun, np.asarray(x0, np.float64).ravel(), jac=True, method="L-BFGS-B", bounds=bounds,
            callback=callback, options={"maxiter": cfg.steps, "maxfun": cfg.steps * 2})
        x = tf.reshape(tf.constant(res.x, tf.float32), shape)
        if stopper.reason == "max steps" and res.status == 0:
            stopper.reason = "converged"  # SciPy's own gradient or function tolerance
    else:
        x = tf.convert_to_tensor(x0)
    return x, first, terms(x).numpy()


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
