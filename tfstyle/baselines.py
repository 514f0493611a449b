"""Baselines that any neural method must beat (NumPy/librosa; no training, no optimisation).

- `identity(content)`: the content unchanged. It keeps pitch and dynamics perfectly and moves
  nothing toward the style, so it bounds from below how much a method changes the timbre.
- `envelope_match(content, style, sr)`: an equaliser. The content's long-term spectrum, smoothed
  over a third of an octave, is scaled bin by bin to the style's, with the content's phase kept.
  It captures everything a fixed filter can (the "colour" of an instrument) and nothing that
  varies in time (attacks, decays, vibrato), so a method that beats it has learnt more than EQ.

Both return float32 waveforms of the content's length at the content's level.
"""
import numpy as np

from tfstyle import audio

BASELINES = ("identity", "envelope")


def identity(content, style=None, sr=None):
    del style, sr
    return np.asarray(content, np.float32).copy()


def smooth_octaves(power, fraction=1 / 3):
    """Mean of each bin's neighbourhood spanning `fraction` of an octave around it (bin 0 alone).

    Cumulative sums make it O(bins) for any width."""
    bins = np.arange(len(power))
    half = 2 ** (fraction / 2)
    low = np.clip(np.floor(bins / half), 0, len(power) - 1).astype(int)
    high = np.clip(np.ceil(bins * half), 0, len(power) - 1).astype(int)
    low[0] = high[0] = 0
    cumulative = np.concatenate([[0.0], np.cumsum(power, dtype=np.float64)])
    return (cumulative[high + 1] - cumulative[low]) / (high - low + 1)


def envelope_match(content, style, sr=None, n_fft=2048, hop_length=512, fraction=1 / 3,
                   max_gain_db=40.0):
    """The content filtered so its smoothed long-term spectrum becomes the style's."""
    import librosa

    del sr
    content = np.asarray(content, np.float32)
    spectrum = librosa.stft(content, n_fft=n_fft, hop_length=hop_length)
    style_power = np.abs(librosa.stft(np.asarray(style, np.float32), n_fft=n_fft,
                                      hop_length=hop_length)) ** 2
    floor = 1e-12
    target = smooth_octaves(style_power.mean(axis=1), fraction) + floor
    source = smooth_octaves((np.abs(spectrum) ** 2).mean(axis=1), fraction) + floor
    gain_db = 10 * np.log10(target / source)
    # Only the shape matters (levels are matched below); limit it where either side is empty.
    gain_db = np.clip(gain_db - np.median(gain_db), -max_gain_db, max_gain_db)
    filtered = librosa.istft(spectrum * librosa.db_to_amplitude(gain_db)[:, None],
                             hop_length=hop_length, length=len(content))
    return audio.match_level(filtered, content)


def run(name, content, style, sr):
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    return {"identity": identity, "envelope": envelope_match}[name](content, style, sr)


def scores(sr, content, style, **others):
    """{baseline: measures} of every baseline made from `content` and `style`, each measured
    by `tfstyle.metrics.evaluate` against the content, the style and `others` (a reference),
    as the output it stands beside is."""
    from tfstyle import metrics

    return {name: metrics.evaluate(run(name, content, style, sr), sr, content=content,
                                   style=style, **others)
            for name in BASELINES}
