"""The on-graph audio front end: every spectral convention of tfstyle lives here.

Conventions (shared by style transfer, MelGAN-VC, export and the data pipelines):

- Waveforms are float tensors shaped [..., samples].
- Spectrograms are shaped [..., frames, bins]: time first, frequency last, the layout of
  `tf.signal` and of a Conv1D that treats frequency bins as channels. librosa uses the
  transpose ([bins, frames]); the parity tests transpose accordingly.
- Framing matches librosa 0.11 exactly: `center=True` pads n_fft // 2 on both sides with zeros
  (librosa's default `pad_mode="constant"`), the window is a periodic Hann of `win_length`
  centred inside `n_fft`, and a signal of N samples gives 1 + N // hop_length frames.
- Parameter names are librosa's: sr, n_fft, hop_length, win_length, n_mels, fmin, fmax.

Mel filterbanks come from librosa itself (as constants), because TF's own
`linear_to_mel_weight_matrix` is an unnormalised HTK bank that differs from Slaney's by up to
58 dB. Nothing in this module imports training code.
"""
import functools

import numpy as np
import tensorflow as tf


def _resolve(n_fft, hop_length, win_length):
    win_length = n_fft if win_length is None else int(win_length)
    hop_length = win_length // 4 if hop_length is None else int(hop_length)
    if win_length > n_fft:
        raise ValueError(f"win_length ({win_length}) must not exceed n_fft ({n_fft})")
    if hop_length < 1:
        raise ValueError(f"hop_length must be positive, got {hop_length}")
    return int(n_fft), hop_length, win_length


@functools.lru_cache(maxsize=32)
def _window(n_fft, win_length):
    """Periodic Hann of win_length, zero-padded to n_fft and centred (librosa's pad_center)."""
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(win_length) / win_length)
    left = (n_fft - win_length) // 2
    return np.pad(w, (left, n_fft - win_length - left)).astype(np.float32)


def num_frames(n_samples, n_fft=2048, hop_length=None, win_length=None, center=True):
    """How many STFT frames `stft` returns for a signal of n_samples."""
    n_fft, hop_length, _ = _resolve(n_fft, hop_length, win_length)
    if center:
        return 1 + n_samples // hop_length
    return max(0, 1 + (n_samples - n_fft) // hop_length)


def stft(y, n_fft=2048, hop_length=None, win_length=None, center=True, pad_mode="constant"):
    """Short-time Fourier transform, framed exactly as `librosa.stft`.

    Args:
        y: float waveform, [..., samples].
        n_fft: FFT size; bins = n_fft // 2 + 1.
        hop_length: samples between frames (default win_length // 4).
        win_length: Hann window length, centred in n_fft (default n_fft).
        center: pad n_fft // 2 on both sides so frame t is centred on sample t * hop_length.
        pad_mode: "constant" (zeros, librosa >= 0.10 default) or "reflect".

    Returns:
        complex64 tensor [..., frames, n_fft // 2 + 1].
    """
    n_fft, hop_length, win_length = _resolve(n_fft, hop_length, win_length)
    y = tf.convert_to_tensor(y, tf.float32)
    if center:
        pad = [[0, 0]] * (y.shape.rank - 1) + [[n_fft // 2, n_fft // 2]]
        mode = {"constant": "CONSTANT", "reflect": "REFLECT"}[pad_mode]
        y = tf.pad(y, pad, mode=mode)
    frames = tf.signal.frame(y, n_fft, hop_length) * _window(n_fft, win_length)
    return tf.signal.rfft(frames, [n_fft])


def istft(stft_matrix, hop_length=None, win_length=None, n_fft=None, center=True, length=None):
    """Inverse STFT by weighted overlap-add, matching `librosa.istft`.

    Each frame is windowed again and the sum is divided by the summed squared window where it
    is non-negligible, so `istft(stft(y))` reconstructs y (up to float error) including the
    edges, where fewer frames overlap.

    Args:
        stft_matrix: complex [..., frames, bins].
        hop_length, win_length, n_fft, center: as for `stft` (n_fft defaults to 2 * (bins - 1)).
        length: if given, the output is trimmed or zero-padded to exactly this many samples.

    Returns:
        float32 waveform [..., samples].
    """
    stft_matrix = tf.convert_to_tensor(stft_matrix)
    n_fft = 2 * (stft_matrix.shape[-1] - 1) if n_fft is None else n_fft
    n_fft, hop_length, win_length = _resolve(n_fft, hop_length, win_length)
    window = _window(n_fft, win_length)
    frames = tf.signal.irfft(stft_matrix, [n_fft]) * window
    y = tf.signal.overlap_and_add(frames, hop_length)
    n = tf.shape(frames)[-2]
    envelope = tf.signal.overlap_and_add(
        tf.tile(tf.constant(window ** 2)[None, :], tf.stack([n, 1])), hop_length)
    tiny = np.finfo(np.float32).tiny
    y = y / tf.where(envelope > tiny, envelope, tf.ones_like(envelope))
    start = n_fft // 2 if center else 0
    y = y[..., start:]
    if length is not None:
        y = fix_length(y, length)
    elif center:
        y = y[..., : tf.shape(y)[-1] - n_fft // 2]
    return y


def _real_dft(n_fft):
    """[n_fft, bins] float64 cosine and negative sine bases so that x·C + i·x·S = rfft(x): a
    real DFT as matrix products (builtin TFLite ops); callers window and cast them."""
    angle = 2.0 * np.pi * np.arange(n_fft)[:, None] * np.arange(n_fft // 2 + 1)[None, :] / n_fft
    return np.cos(angle), -np.sin(angle)


@functools.lru_cache(maxsize=8)
def _real_idft(n_fft):
    """[bins, n_fft] cosine and sine bases so that Re·C + Im·S = irfft(Re + i·Im)."""
    k = np.arange(n_fft // 2 + 1)[:, None]
    n = np.arange(n_fft)[None, :]
    scale = np.where((k == 0) | (k == n_fft // 2), 1.0, 2.0) / n_fft
    angle = 2.0 * np.pi * k * n / n_fft
    return (scale * np.cos(angle)).astype(np.float32), (-scale * np.sin(angle)).astype(np.float32)


def istft_real(real, imag, hop_length, n_fft, length, center=True):
    """`istft` of the STFT real + i·imag [frames, bins] using only real matmuls, overlap-add and
    element-wise ops: TFLite builtins, where `irfft` needs the Flex delegate. Static shapes."""
    cos, sin = _real_idft(n_fft)
    window = _window(n_fft, n_fft)
    frames = (tf.matmul(real, cos) + tf.matmul(imag, sin)) * window
    y = tf.signal.overlap_and_add(frames, hop_length)
    envelope = tf.signal.overlap_and_add(
        tf.tile(tf.constant(window ** 2)[None], [real.shape[-2], 1]), hop_length)
    y = y / tf.where(envelope > 1e-8, envelope, tf.ones_like(envelope))
    start = n_fft // 2 if center else 0
    return y[..., start:start + length]


def fix_length(y, length):
    """Trims or zero-pads the last axis of y to exactly `length` samples."""
    y = tf.convert_to_tensor(y)[..., :length]
    short = length - tf.shape(y)[-1]
    pad = tf.concat([tf.zeros([tf.rank(y) - 1, 2], tf.int32), [[0, short]]], axis=0)
    out = tf.pad(y, pad)
    if isinstance(length, int):
        out = tf.ensure_shape(out, y.shape[:-1].concatenate([length]))
    return out


def magnitude(stft_matrix, power=1.0):
    """|STFT| ** power: power=1 gives amplitude, power=2 gives power."""
    mag = tf.abs(stft_matrix)
    return mag if power == 1.0 else mag ** power


def log1p_magnitude(stft_matrix):
    """log(1 + |STFT|), the representation of Ulyanov's random-CNN style transfer."""
    return tf.math.log1p(tf.abs(stft_matrix))


def inverse_log1p(log_magnitude):
    """Inverse of `log1p_magnitude` (clamped at zero so it is always a valid magnitude)."""
    return tf.nn.relu(tf.math.expm1(log_magnitude))


def _log10(x):
    return tf.math.log(x) / np.log(10.0).astype(np.float32)


def power_to_db(S, ref=1.0, amin=1e-10, top_db=80.0):
    """10·log10(S / ref) with librosa's floor: values below max − top_db are raised to it.

    The max is taken per example over the last two axes ([frames, bins]), not over a batch.
    """
    S = tf.convert_to_tensor(S, tf.float32)
    db = 10.0 * _log10(tf.maximum(S, amin)) - 10.0 * np.log10(max(amin, ref))
    if top_db is not None:
        if top_db < 0:
            raise ValueError(f"top_db must be non-negative, got {top_db}")
        peak = tf.reduce_max(db, axis=[-2, -1], keepdims=True)
        db = tf.maximum(db, peak - top_db)
    return db


def amplitude_to_db(S, ref=1.0, amin=1e-5, top_db=80.0):
    """20·log10(S / ref), the amplitude counterpart of `power_to_db`."""
    S = tf.convert_to_tensor(S, tf.float32)
    return power_to_db(tf.square(S), ref=ref ** 2, amin=amin ** 2, top_db=top_db)


def db_to_power(S_db, ref=1.0):
    return ref * tf.pow(10.0, 0.1 * tf.convert_to_tensor(S_db, tf.float32))


def db_to_amplitude(S_db, ref=1.0):
    return tf.sqrt(db_to_power(S_db, ref=ref ** 2))


# Filterbanks a model ships with (`remember_filterbank`): a command that needs only those
# does not import librosa (1.2 s of the README's first command, measured).
_REMEMBERED = {}


def _filterbank_key(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    return (int(sr), int(n_fft), int(n_mels), float(fmin),
            None if fmax is None else float(fmax), bool(htk), norm)


def remember_filterbank(fb, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False,
                        norm="slaney"):
    """Makes `mel_filterbank` with these arguments return `fb` (a [bins, n_mels] array that
    `mel_filterbank` built and a model stored) instead of building it."""
    _REMEMBERED[_filterbank_key(sr, n_fft, n_mels, fmin, fmax, htk, norm)] = \
        np.ascontiguousarray(fb, np.float32)


def mel_filterbank(sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney"):
    """Mel filterbank as a float32 [bins, n_mels] array, so `spectrogram @ fb` gives mel bands.

    `htk=False, norm="slaney"` is librosa's default (Slaney's scale, area-normalised triangles);
    `htk=True, norm=None` is the HTK bank with unit-peak triangles (torchaudio's default).
    """
    remembered = _REMEMBERED.get(_filterbank_key(sr, n_fft, n_mels, fmin, fmax, htk, norm))
    if remembered is not None:
        return remembered
    return _built_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)


@functools.lru_cache(maxsize=32)
def _built_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    import librosa  # deferred: imported only when a mel bank is first built

    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                             htk=htk, norm=norm, dtype=np.float32)
    return np.ascontiguousarray(fb.T)


def mel_chroma_filterbank(sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False,
                          norm="slaney", n_chroma=12):
    """[n_mels, n_chroma] float32 matrix taking a mel magnitude spectrogram to pitch classes.

    Row m is the chroma of band m's energy: the mel triangle's weights over STFT bins, scaled to
    sum to one, times librosa's chroma filterbank (`librosa.filters.chroma`). A model that only
    keeps a mel spectrogram gets a pitch-class profile from it this way; bands wider than a
    semitone (the lowest ones) spread over the classes they cover.
    """
    import librosa

    mel = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm).T      # [n_mels, bins]
    mel = mel / np.maximum(mel.sum(axis=1, keepdims=True), 1e-12)
    chroma = librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma, dtype=np.float32)
    return np.ascontiguousarray((mel @ chroma.T).astype(np.float32))


def melspectrogram(y=None, S=None, sr=22050, n_fft=2048, hop_length=None, win_length=None,
                   center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
                   fmax=None, htk=False, norm="slaney"):
    """Mel spectrogram [..., frames, n_mels], as `librosa.feature.melspectrogram`.

    Give either a waveform `y` or a magnitude spectrogram `S` ([..., frames, bins], already
    raised to `power`).
    """
    if S is None:
        S = magnitude(stft(y, n_fft, hop_length, win_length, center, pad_mode), power)
    return tf.matmul(S, mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm))


def mel_to_linear(M, sr=22050, n_fft=2048, n_mels=None, fmin=0.0, fmax=None, htk=False,
                  norm="slaney", n_iter=32):
    """Non-negative inverse of the mel projection: [..., frames, n_mels] → [..., frames, bins].

    Solves min ‖M − X·fb‖ over X ≥ 0 (what librosa's `mel_to_stft` does with NNLS) on-graph:
    the pseudo-inverse, clamped at zero, is the start point, and `n_iter` multiplicative
    (Lee–Seung) updates refine it. Only matmuls and element-wise ops, so it exports anywhere.
    """
    M = tf.nn.relu(tf.convert_to_tensor(M, tf.float32))
    n_mels = M.shape[-1] if n_mels is None else n_mels
    fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    # A small positive floor: multiplicative updates cannot move an entry away from zero.
    X = tf.nn.relu(tf.matmul(M, _pinv(sr, n_fft, n_mels, fmin, fmax, htk, norm)))
    X = X + 1e-3 * tf.reduce_mean(X, axis=-1, keepdims=True) + 1e-12
    numerator = tf.matmul(M, fb, transpose_b=True)
    gram = tf.constant(fb @ fb.T)
    for _ in range(n_iter):
        X = X * numerator / (tf.matmul(X, gram) + 1e-12)
    return X


@functools.lru_cache(maxsize=32)
def _pinv(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    return np.linalg.pinv(fb.astype(np.float64)).astype(np.float32)


def mfcc(y=None, S=None, sr=22050, n_mfcc=20, **mel_kwargs):
    """MFCCs [..., frames, n_mfcc], as `librosa.feature.mfcc` (DCT-II, orthonormal).

    Give a waveform `y` (mel keyword arguments are forwarded to `melspectrogram`) or a log-power
    mel spectrogram `S` in dB.
    """
    if S is None:
        S = power_to_db(melspectrogram(y=y, sr=sr, **mel_kwargs))
    return tf.signal.dct(S, type=2, norm="ortho")[..., :n_mfcc]


def mfcc_to_mel_db(mfccs, n_mels=128):
    """Inverse DCT of (possibly truncated) MFCCs back to a log-power mel spectrogram in dB."""
    mfccs = tf.convert_to_tensor(mfccs, tf.float32)
    missing = n_mels - mfccs.shape[-1]
    if missing < 0:
        raise ValueError(f"{mfccs.shape[-1]} coefficients do not fit into n_mels={n_mels}")
    padded = tf.pad(mfccs, [[0, 0]] * (mfccs.shape.rank - 1) + [[0, missing]])
    return tf.signal.idct(padded, type=2, norm="ortho")


def mu_law_encode(x, mu=255, quantize=False):
    """Mu-law companding of a waveform in [-1, 1].

    With quantize=False the continuous form sign(x)·ln(1 + mu|x|)/ln(1 + mu) is returned, which
    is differentiable (for waveform-domain optimisation); with quantize=True the integer codes
    0..mu of WaveNet/NSynth.
    """
    x = tf.clip_by_value(tf.convert_to_tensor(x, tf.float32), -1.0, 1.0)
    y = tf.sign(x) * tf.math.log1p(mu * tf.abs(x)) / np.log1p(mu).astype(np.float32)
    if quantize:
        return tf.cast(tf.floor((y + 1.0) / 2.0 * mu + 0.5), tf.int32)
    return y


def mu_law_decode(y, mu=255):
    """Inverse of `mu_law_encode`: accepts integer codes or the continuous form."""
    y = tf.convert_to_tensor(y)
    if y.dtype.is_integer:
        y = tf.cast(y, tf.float32) / mu * 2.0 - 1.0
    return tf.sign(y) * tf.math.expm1(tf.abs(y) * np.log1p(mu).astype(np.float32)) / mu
