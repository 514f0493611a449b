"""Losses of optimisation style transfer.

Feature maps are [..., positions, C]: [frames, C] for 1-D networks, [height, frames, C] for
images; Gram statistics flatten every axis but the channels.

Gram normalisers (`norm`), the one constant the published systems all choose differently:

| norm            | G                  | loss                          | used by                      |
|-----------------|--------------------|-------------------------------|------------------------------|
| frames          | FᵀF / M            | reduce((G_x − G_s)²)          | tfstyle default; Ulyanov, Mital |
| frames_channels | FᵀF / (M·C)        | reduce((G_x − G_s)²)          | alishdipani                  |
| gatys           | FᵀF / M            | Σ(G_x − G_s)² / (4·C²), fixed | Gatys; padster (÷ 4N²M²)     |

M is the number of positions of that map, so clips of different lengths compare fairly
(Gatys' ÷4N²M² on unnormalised Grams equals the `gatys` row when the lengths match). `reduce`
is the mean over the C² entries (`reduction="mean"`, the default) or their sum ("sum", as the
published recipes write it).
"""
import numpy as np
import tensorflow as tf

GRAM_NORMS = ("frames", "frames_channels", "gatys")
REDUCTIONS = ("mean", "sum")


def _reduce(x, reduction):
    return tf.reduce_mean(x) if reduction == "mean" else tf.reduce_sum(x)


def _flatten(features):
    features = tf.convert_to_tensor(features, tf.float32)
    return tf.reshape(features, [-1, features.shape[-1]])


def content_loss(features, target, reduction="mean"):
    """Mean (or sum) of squared differences of activations of the same shape."""
    return _reduce(tf.square(features - target), reduction)


def gram(features):
    """G = FᵀF / M for features [..., M positions, C]: a C×C matrix."""
    f = _flatten(features)
    return tf.matmul(f, f, transpose_a=True) / tf.cast(tf.shape(f)[0], tf.float32)


class GramStyleLoss:
    """Gram distance to fixed style statistics, computed the cheaper way.

    ‖FᵀF/Mx − SᵀS/Ms‖² expands into ‖FFᵀ‖²/Mx² − 2‖FSᵀ‖²/(Mx·Ms) + ‖SSᵀ‖²/Ms², which needs
    only Mx×Mx and Mx×Ms products. When the clips are shorter than there are channels (5 s of
    audio is ~215 frames against 4096 filters) that costs O(Mx·(Mx + Ms)·C) instead of the
    O(Mx·C²) of forming C×C Grams. A style in chunks S₁…S_K (a long clip taken window by
    window) pools the same way: its Gram is ΣSₖᵀSₖ/Ms, so the cross term is Σ‖FSₖᵀ‖². The form
    is chosen from the static shapes when the loss is built, per map: the deep layers of a
    2-D network have few positions and many channels, the first ones the opposite.

    Args:
        style_features: [..., Ms, C] style activations, or a list of such maps (chunks of a long
            style clip: their Grams are pooled, weighted by positions).
        content_positions: Mx, positions of the maps this loss will see (None: Gram form).
        norm, reduction: see the module table.
    """

    def __init__(self, style_features, content_positions=None, norm="frames", reduction="mean"):
        if norm not in GRAM_NORMS:
            raise ValueError(f"norm must be one of {GRAM_NORMS}, got {norm!r}")
        chunks = style_features if isinstance(style_features, (list, tuple)) \
            else [style_features]
        chunks = [_flatten(c) for c in chunks]
        ms = sum(int(c.shape[0]) for c in chunks)
        c = int(chunks[0].shape[-1])
        mx = content_positions
        self.channels, self.norm, self.reduction = c, norm, reduction
        self.use_frames_form = mx is not None and frames_form_is_cheaper(mx, ms, c)
        self._ms = float(ms)
        if self.use_frames_form:
            self._style = tf.concat(chunks, axis=0)
            # ‖ΣSₖᵀSₖ‖², once, in whichever order is cheaper.
            if ms < c:
                self._style_energy = tf.reduce_sum(
                    tf.square(tf.matmul(self._style, self._style, transpose_b=True)))
            else:
                self._style_energy = tf.reduce_sum(tf.square(
                    tf.matmul(self._style, self._style, transpose_a=True)))
        else:
            self._gram = tf.add_n([tf.matmul(s, s, transpose_a=True) for s in chunks]) / ms

    def _scale(self):
        c = float(self.channels)
        if self.norm == "gatys":
            return 1.0 / (4.0 * c * c)
        mean = 1.0 / (c * c) if self.reduction == "mean" else 1.0
        # A Gram divided by C gives squared differences divided by C².
        return mean / (c * c) ** (self.norm == "frames_channels")

    def __call__(self, features):
        f = _flatten(features)
        if not self.use_frames_form:
            return tf.reduce_sum(tf.square(gram(f) - self._gram)) * self._scale()
        mx = tf.cast(tf.shape(f)[0], tf.float32)
        own = tf.reduce_sum(tf.square(tf.matmul(f, f, transpose_b=True)))
        cross = tf.reduce_sum(tf.square(tf.matmul(f, self._style, transpose_b=True)))
        return (own / mx ** 2 - 2.0 * cross / (mx * self._ms)
                + self._style_energy / self._ms ** 2) * self._scale()


def frames_form_is_cheaper(mx, ms, c):
    """Whether the frames form's multiply-adds per evaluation, FFᵀ and FSᵀ (Mx²·C + Mx·Ms·C),
    are fewer than forming the Gram and comparing it (Mx·C² + C²)."""
    return mx * mx * c + mx * ms * c < mx * c * c + c * c


def align_frames(x, frames, axis=-2):
    """Crops or tiles x along its time axis to exactly `frames` (style aligned to the output,
    as Ulyanov crops the style to the content's shape)."""
    x = tf.convert_to_tensor(x, tf.float32)
    n = x.shape[axis]
    reps = -(-frames // n)
    if reps > 1:
        multiples = [1] * x.shape.rank
        multiples[axis] = reps
        x = tf.tile(x, multiples)
    index = [slice(None)] * x.shape.rank
    index[axis] = slice(0, frames)
    return x[tuple(index)]


def l2_style_loss(features, style_features, reduction="mean"):
    """Squared difference of the activations themselves, the style map aligned in time."""
    aligned = align_frames(style_features, features.shape[-2])
    return _reduce(tf.square(features - aligned), reduction)


def autocorrelation(x, axis):
    """Full linear autocorrelation along `axis` (lags −(L−1)..L−1, length 2L−1) via FFT, equal
    to `np.correlate(v, v, "full")` for each 1-D slice v."""
    x = tf.convert_to_tensor(x, tf.float32)
    perm = list(range(x.shape.rank))
    axis = axis % x.shape.rank
    perm[axis], perm[-1] = perm[-1], perm[axis]
    v = tf.transpose(x, perm)
    length = v.shape[-1]
    n = 1 << (2 * length - 1).bit_length()
    spectrum = tf.signal.rfft(v, [n])
    power = tf.abs(spectrum) ** 2
    # tf.complex, not tf.cast: its gradient takes the real part without a lossy-cast warning.
    r = tf.signal.irfft(tf.complex(power, tf.zeros_like(power)), [n])
    full = tf.concat([tf.reverse(r[..., 1:length], [-1]), r[..., :length]], axis=-1)
    return tf.transpose(full, perm)


def autocorrelation_loss(rep, style_rep, axis):
    """Σ(ac(x) − ac(s))² / (C·H·W) on the input-level representation [frames, channels]
    (padster's row/column losses; here C = 1). axis=-2 correlates along time in every channel
    ("rows": rhythm and periodicity), axis=-1 along frequency in every frame ("columns":
    harmonic spacing). The style is aligned to the output's length first."""
    aligned = align_frames(style_rep, rep.shape[-2])
    diff = autocorrelation(rep, axis) - autocorrelation(aligned, axis)
    return tf.reduce_sum(tf.square(diff)) / float(np.prod(rep.shape))


def total_variation(rep):
    """Σ((Δtime)² + (Δfrequency)²)^1.25 over a [frames, channels] representation."""
    rep = tf.convert_to_tensor(rep, tf.float32)
    a = tf.square(rep[:-1, :-1] - rep[1:, :-1])
    b = tf.square(rep[:-1, :-1] - rep[:-1, 1:])
    return tf.reduce_sum(tf.pow(a + b + 1e-12, 1.25))
