"""Loudness: A-weighted power per frame in dB (DDSP's control signal), on the graph."""
import functools

import numpy as np
import tensorflow as tf

from tfstyle import spectral


@functools.lru_cache(maxsize=8)
def a_weighting(sr, n_fft):
    """IEC 61672 A-weighting as power gains for the rfft bins of n_fft (0 at 0 Hz)."""
    f = np.fft.rfftfreq(n_fft, 1.0 / sr)
    f2 = f ** 2
    with np.errstate(divide="ignore"):
        ra = (12194.0 ** 2 * f2 ** 2) / ((f2 + 20.6 ** 2) * (f2 + 12194.0 ** 2)
                                         * np.sqrt((f2 + 107.7 ** 2) * (f2 + 737.9 ** 2)))
        gain_db = 20 * np.log10(ra) + 2.0
    return np.nan_to_num(10 ** (gain_db / 10), nan=0.0).astype(np.float32)


def loudness(y, sr, n_fft=2048, hop_length=512, amin=1e-12, center=True):
    """A-weighted mean-square level of each STFT frame in dB relative to full scale.

    A full-scale 1 kHz sine reads about -3 dB (its mean square is 1/2); each halving of the
    amplitude takes 6.02 dB off. Frames follow `spectral.stft` (librosa's centring).

    Args:
        y: float waveform [..., samples].
    Returns:
        [..., frames] float32 dB.
    """
    power = tf.square(spectral.magnitude(spectral.stft(y, n_fft=n_fft, hop_length=hop_length,
                                                       center=center)))
    window_energy = float(np.sum(np.hanning(n_fft + 1)[:-1] ** 2))
    # Parseval over the one-sided spectrum: the windowed frame's mean square, A-weighted.
    weighted = tf.reduce_sum(power * a_weighting(sr, n_fft), axis=-1)
    return 10.0 * tf.math.log(weighted * (2.0 / (n_fft * window_energy)) + amin) / np.log(10.0)
