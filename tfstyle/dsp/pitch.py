"""Fundamental frequency by YIN (de Cheveigné & Kawahara 2002), on the graph.

Every step is a TensorFlow op that TFLite has as a builtin (frame, RFFT, real/imag parts,
matmul, cumulative sums, gathers), so an exported model can take a waveform in: the lags of
the cross-correlation are an inverse real DFT evaluated by matmul for the lags YIN needs
only, not `irfft` (a Flex op). Framing follows `librosa.yin`: frame t is centred on sample
t * hop_length and a signal of N samples gives 1 + N // hop_length frames.
"""
import functools

import numpy as np
import tensorflow as tf


def _periods(sr, fmin, fmax, frame_length, win_length):
    min_period = max(1, int(np.floor(sr / fmax)))
    max_period = min(int(np.ceil(sr / fmin)), frame_length - win_length - 1)
    if max_period <= min_period + 1:
        raise ValueError(f"fmin {fmin} / fmax {fmax} leave no lags to search with frame_length "
                         f"{frame_length} at sr {sr}")
    return min_period, max_period


@functools.lru_cache(maxsize=8)
def _lag_basis(frame_length, max_period):
    """[bins, lags] cosine and sine terms of the inverse real DFT at lags 0..max_period."""
    bins = np.arange(frame_length // 2 + 1)[:, None]
    weight = np.where((bins == 0) | (2 * bins == frame_length), 1.0, 2.0) / frame_length
    angle = 2 * np.pi * bins * np.arange(max_period + 1)[None, :] / frame_length
    return ((weight * np.cos(angle)).astype(np.float32),
            (weight * np.sin(angle)).astype(np.float32))


def cumulative_mean_normalized_difference(frames, win_length, max_period):
    """YIN's d'(τ) for τ = 0..max_period of each frame [..., frame_length] → [..., lags]."""
    frame_length = int(frames.shape[-1])
    window = frames[..., :win_length]
    # r(τ) = Σ_{j<W} x[j]·x[j+τ]: a cross-correlation, as conj(FFT(w))·FFT(x) back at few lags.
    x_f = tf.signal.rfft(frames, [frame_length])
    w_f = tf.signal.rfft(window, [frame_length])
    xr, xi, wr, wi = tf.math.real(x_f), tf.math.imag(x_f), tf.math.real(w_f), tf.math.imag(w_f)
    cos, sin = _lag_basis(frame_length, max_period)
    acf = tf.matmul(wr * xr + wi * xi, cos) - tf.matmul(wr * xi - wi * xr, sin)
    # Energies of the window and of the window shifted by τ, from a running sum of squares.
    squares = tf.pad(tf.cumsum(frames * frames, axis=-1),
                     [[0, 0]] * (frames.shape.rank - 1) + [[1, 0]])
    energy = squares[..., win_length:win_length + max_period + 1] - squares[..., :max_period + 1]
    diff = tf.maximum(energy[..., :1] + energy - 2.0 * acf, 0.0)
    lags = tf.range(1, max_period + 1, dtype=frames.dtype)
    mean = tf.cumsum(diff[..., 1:], axis=-1) / lags
    normalized = diff[..., 1:] / tf.maximum(mean, 1e-12)
    # A flat (silent) frame has no period: d' = 1 there, not 0/0.
    normalized = tf.where(mean > 1e-10 * (energy[..., :1] + 1e-12), normalized, 1.0)
    return tf.concat([tf.ones_like(diff[..., :1]), normalized], axis=-1)


def yin(y, sr, fmin=50.0, fmax=2000.0, frame_length=2048, hop_length=None, win_length=None,
        threshold=0.15, center=True):
    """f0 and periodicity per frame.

    Args:
        y: float waveform [..., samples].
        sr: sample rate in Hz.
        fmin, fmax: the f0 search range in Hz.
        frame_length: samples per analysis frame; win_length (default frame_length // 2) is
            YIN's integration window, and lags up to frame_length - win_length - 1 fit.
        hop_length: samples between frames (default frame_length // 4).
        threshold: the first lag whose d' dips below this (at a local minimum) is the period;
            without one, the global minimum is taken.
        center: frame t centred on sample t * hop_length (librosa's convention).

    Returns:
        (f0 [..., frames] in Hz, periodicity [..., frames] = 1 − d' at the chosen lag, in
        [0, 1]; near 1 for a clean periodic frame, near 0 for noise and silence).
    """
    win_length = frame_length // 2 if win_length is None else int(win_length)
    hop_length = frame_length // 4 if hop_length is None else int(hop_length)
    min_period, max_period = _periods(sr, fmin, fmax, frame_length, win_length)
    y = tf.convert_to_tensor(y, tf.float32)
    if center:
        y = tf.pad(y, [[0, 0]] * (y.shape.rank - 1) + [[frame_length // 2] * 2])
    frames = tf.signal.frame(y, frame_length, hop_length)
    cmnd = cumulative_mean_normalized_difference(frames, win_length, max_period)
    search = cmnd[..., min_period:max_period + 1]
    # Local minima (a plateau's first lag counts) below the threshold; the first one wins.
    left = tf.concat([tf.fill(tf.shape(search[..., :1]), np.inf), search[..., :-1]], -1)
    right = tf.concat([search[..., 1:], tf.fill(tf.shape(search[..., :1]), np.inf)], -1)
    trough = (search < left) & (search <= right) & (search < threshold)
    first = tf.argmax(tf.cast(trough, tf.int32), axis=-1, output_type=tf.int32)
    lag = tf.where(tf.reduce_any(trough, -1), first,
                   tf.argmin(search, axis=-1, output_type=tf.int32))
    # Parabolic interpolation through the chosen lag and its neighbours.
    n = int(search.shape[-1])

    def at(i):
        return tf.gather(search, tf.clip_by_value(i, 0, n - 1), batch_dims=search.shape.rank - 1)

    a, b, c = at(lag - 1), at(lag), at(lag + 1)
    curvature = a - 2.0 * b + c
    inside = (lag > 0) & (lag < n - 1) & (tf.abs(curvature) > 1e-9)
    shift = tf.where(inside, tf.clip_by_value(0.5 * (a - c) / tf.where(inside, curvature, 1.0),
                                              -1.0, 1.0), 0.0)
    period = tf.cast(lag + min_period, tf.float32) + shift
    f0 = sr / period
    periodicity = 1.0 - tf.clip_by_value(b, 0.0, 1.0)
    return f0, periodicity
