"""Objective measures of a style-transfer or conversion result (NumPy/librosa, on finished audio).

Each measure compares the output with one of three signals: the *content* (what should be kept:
melody, words, dynamics), the *style* (whose timbre was asked for) or a *reference* (the true
answer, where one exists, such as the same melody played on the target instrument).

| measure | against | unit | better | what it says |
|---|---|---|---|---|
| `mel_distance` | reference | dB | lower | RMS difference of the frame-by-frame log-mel spectrograms after removing the overall level offset: a gain change is not a timbre error |
| `spectral_convergence` | reference | ratio | lower | ‖S_ref − S_out‖ / ‖S_ref‖ of STFT magnitudes, as used for phase reconstructions (same level assumed; 0 is perfect) |
| `chroma_correlation` | content | [-1, 1] | higher | Pearson correlation of the chromagrams: the pitch classes over time survived |
| `f0_agreement` | content | [0, 1] | higher | share of the content's voiced frames (pYIN) where the output is voiced within 50 cents |
| `loudness_difference` | content | dB | lower | mean absolute difference of the A-weighted loudness contours over the content's active frames |
| `style_distance` | style | ratio | lower | relative Frobenius distance between Gram matrices of a fixed random CNN (seed 0) over level-normalised log1p spectrograms |
| `mfcc_correlation` | content | [-1, 1] | higher | correlation of MFCC trajectories: the sequence of spectral envelopes (words) survived |
| `longterm_mel_distance` | style | dB | lower | RMS difference of the time-averaged log-mel spectra after removing the level offset |

Signals are compared over the shorter one's length. Measures against the reference assume the
two are aligned in time (as the pairs of `timbre_pairs` are).
"""
import dataclasses

import numpy as np

# Analysis settings shared by every measure (librosa's defaults at 22.05 kHz).
N_FFT = 2048
HOP_LENGTH = 512
N_MELS = 64
TOP_DB = 80.0           # log spectra are floored this far below their peak
F0_TOLERANCE_CENTS = 50.0
ACTIVE_DB = 40.0        # loudness frames this far below the content's peak count as silence


@dataclasses.dataclass(frozen=True)
class Measure:
    against: str        # "content", "style" or "reference"
    unit: str
    better: str         # "lower" or "higher"
    what: str


MEASURES = {
    "mel_distance": Measure("reference", "dB", "lower",
                            "frame-wise log-mel distance, level offset removed"),
    "spectral_convergence": Measure("reference", "ratio", "lower",
                                    "STFT magnitude error relative to the reference"),
    "chroma_correlation": Measure("content", "corr", "higher", "pitch classes over time kept"),
    "f0_agreement": Measure("content", "share", "higher",
                            "voiced frames whose f0 is within 50 cents"),
    "loudness_difference": Measure("content", "dB", "lower",
                                   "mean |difference| of A-weighted loudness contours"),
    "style_distance": Measure("style", "ratio", "lower",
                              "Gram distance under a fixed random CNN"),
    "mfcc_correlation": Measure("content", "corr", "higher", "MFCC trajectories kept"),
    "longterm_mel_distance": Measure("style", "dB", "lower",
                                     "time-averaged log-mel distance, level offset removed"),
}


def _pair(a, b):
    n = min(len(a), len(b))
    return np.asarray(a[:n], np.float32), np.asarray(b[:n], np.float32)


def _correlation(a, b):
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def log_mel(y, sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS):
    """Log-mel power spectrogram in dB [n_mels, frames], floored TOP_DB below its peak."""
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                         n_mels=n_mels)
    return librosa.power_to_db(mel, ref=np.max, top_db=TOP_DB)


def offset_free_rms(diff):
    """RMS of a dB difference after removing its mean: the part no gain change can explain."""
    diff = np.asarray(diff, np.float64)
    return float(np.sqrt(np.mean(np.square(diff - diff.mean()))))


def mel_distance(output, reference, sr, **kwargs):
    output, reference = _pair(output, reference)
    return offset_free_rms(log_mel(output, sr, **kwargs) - log_mel(reference, sr, **kwargs))


def spectral_convergence(output, reference, n_fft=N_FFT, hop_length=HOP_LENGTH):
    import librosa

    output, reference = _pair(output, reference)
    s_out = np.abs(librosa.stft(output, n_fft=n_fft, hop_length=hop_length))
    s_ref = np.abs(librosa.stft(reference, n_fft=n_fft, hop_length=hop_length))
    return float(np.linalg.norm(s_ref - s_out) / max(np.linalg.norm(s_ref), 1e-12))


def chroma_correlation(output, content, sr, n_fft=N_FFT, hop_length=HOP_LENGTH,
                       active_db=None):
    """Over every frame, or with `active_db` over the frames where the content sounds (its
    loudness within that many dB of its peak). librosa scales each frame's chroma to a peak
    of 1, so a rest's faint noise or decay counts as much as a note: on melodies with rests
    even the true rendering on another instrument scores low over every frame."""
    import librosa

    output, content = _pair(output, content)
    a, b = (librosa.feature.chroma_stft(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length)
            for y in (output, content))
    if active_db is not None:
        level = loudness(content, sr, n_fft=n_fft, hop_length=hop_length)
        active = level >= level.max() - active_db
        if active.sum() >= 2:
            a, b = a[:, active], b[:, active]
    return _correlation(a, b)


def mfcc_correlation(output, content, sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mfcc=14):
    import librosa

    output, content = _pair(output, content)
    a, b = (librosa.feature.mfcc(y=y, sr=sr, n_mfcc=n_mfcc, n_fft=n_fft,
                                 hop_length=hop_length)[1:] for y in (output, content))
    return _correlation(a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True))


def f0(y, sr, fmin=50.0, fmax=2000.0, hop_length=HOP_LENGTH):
    """pYIN f0 in Hz per frame, NaN where unvoiced."""
    import librosa

    frame_length = max(2048, int(2 ** np.ceil(np.log2(4 * sr / fmin))))
    f, voiced, _ = librosa.pyin(y, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length,
                                hop_length=hop_length)
    return np.where(voiced, f, np.nan)


def f0_agreement_from(f_out, f_content, tolerance_cents=F0_TOLERANCE_CENTS):
    """Share of frames voiced in the content where the output is voiced and within tolerance."""
    f_out, f_content = _pair(f_out, f_content)
    voiced = ~np.isnan(f_content)
    if not voiced.any():
        return float("nan")
    with np.errstate(invalid="ignore"):
        cents = 1200 * np.abs(np.log2(f_out[voiced] / f_content[voiced]))
    return float(np.mean(np.nan_to_num(cents, nan=np.inf) <= tolerance_cents))


def f0_agreement(output, content, sr, **kwargs):
    output, content = _pair(output, content)
    return f0_agreement_from(f0(output, sr, **kwargs), f0(content, sr, **kwargs))


def loudness(y, sr, n_fft=N_FFT, hop_length=HOP_LENGTH):
    """A-weighted short-term loudness in dB per frame (relative to full scale)."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length)) ** 2
    with np.errstate(divide="ignore"):   # the A-weighting of 0 Hz is -inf dB, i.e. weight 0
        weights = librosa.db_to_power(librosa.A_weighting(librosa.fft_frequencies(
            sr=sr, n_fft=n_fft)))
    # Parseval: the windowed frame's mean-square value, A-weighted.
    window_energy = np.sum(np.hanning(n_fft + 1)[:-1] ** 2)
    frame_power = (weights[:, None] * power).sum(axis=0) * 2 / (n_fft * window_energy)
    return 10 * np.log10(frame_power + 1e-12)


def loudness_difference_from(l_out, l_content, active_db=ACTIVE_DB):
    l_out, l_content = _pair(l_out, l_content)
    active = l_content >= l_content.max() - active_db
    return float(np.mean(np.abs(l_out[active] - l_content[active])))


def loudness_difference(output, content, sr, **kwargs):
    output, content = _pair(output, content)
    return loudness_difference_from(loudness(output, sr, **kwargs), loudness(content, sr, **kwargs))


def _random_cnn(channels, filters=512, kernel=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((kernel * channels, filters)).astype(np.float32) * np.sqrt(
        2.0 / (kernel * channels))


def gram(y, sr, n_fft=N_FFT, hop_length=HOP_LENGTH, filters=512, kernel=3):
    """Gram matrix [filters, filters] of a fixed random ReLU Conv1D (bins as channels, seed 0)
    over the log1p magnitude of the RMS-normalised signal, divided by the number of frames."""
    import librosa

    y = y / max(float(np.sqrt(np.mean(np.square(y)))), 1e-8) * 0.1
    x = np.log1p(np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))).T   # [T, C]
    frames = np.lib.stride_tricks.sliding_window_view(
        np.pad(x, ((kernel // 2, kernel // 2), (0, 0))), kernel, axis=0)           # [T, C, k]
    columns = frames.transpose(0, 2, 1).reshape(len(x), -1)                       # [T, k·C]
    features = np.maximum(columns @ _random_cnn(x.shape[1], filters, kernel), 0.0)
    return features.T @ features / len(x)


def style_distance(output, style, sr, **kwargs):
    g_out, g_style = gram(output, sr, **kwargs), gram(style, sr, **kwargs)
    return float(np.linalg.norm(g_out - g_style) / max(np.linalg.norm(g_style), 1e-12))


def longterm_mel_spectrum(y, sr, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS):
    """Time-averaged mel power spectrum in dB, [n_mels]."""
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                         n_mels=n_mels)
    return 10.0 * np.log10(mel.mean(axis=1) + 1e-10)


def longterm_mel_distance(a, b, sr, **kwargs):
    return offset_free_rms(longterm_mel_spectrum(a, sr, **kwargs) -
                           longterm_mel_spectrum(b, sr, **kwargs))


def evaluate(output, sr, content=None, style=None, reference=None, only=None):
    """Every measure the given signals allow, as {name: value}; `only` limits the names."""
    given = {"content": content, "style": style, "reference": reference}
    functions = {
        "mel_distance": lambda o, r: mel_distance(o, r, sr),
        "spectral_convergence": spectral_convergence,
        "chroma_correlation": lambda o, c: chroma_correlation(o, c, sr),
        "f0_agreement": lambda o, c: f0_agreement(o, c, sr),
        "loudness_difference": lambda o, c: loudness_difference(o, c, sr),
        "style_distance": lambda o, s: style_distance(o, s, sr),
        "mfcc_correlation": lambda o, c: mfcc_correlation(o, c, sr),
        "longterm_mel_distance": lambda o, s: longterm_mel_distance(o, s, sr),
    }
    out = {}
    for name, measure in MEASURES.items():
        other = given[measure.against]
        if other is not None and (only is None or name in only):
            out[name] = functions[name](output, other)
    return out
