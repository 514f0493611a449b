"""The multi-scale spectral loss (DDSP): magnitude and log-magnitude L1 at several FFT sizes."""
import tensorflow as tf

from tfstyle import spectral

FFT_SIZES = (2048, 1024, 512, 256, 128, 64)


def multiscale_spectral_loss(target, output, fft_sizes=FFT_SIZES, overlap=0.75, mag_weight=1.0,
                             log_weight=1.0, eps=1e-5):
    """Σ over FFT sizes of mean |S_t − S_o| (the loud parts) and mean |log S_t − log S_o| (the
    quiet ones, and the spectral envelope), on STFT magnitudes with `overlap`.

    Args:
        target, output: float waveforms [batch, samples].
    Returns:
        scalar float32.
    """
    total = 0.0
    for n_fft in fft_sizes:
        hop = max(1, int(n_fft * (1.0 - overlap)))
        a = spectral.magnitude(spectral.stft(target, n_fft=n_fft, hop_length=hop))
        b = spectral.magnitude(spectral.stft(output, n_fft=n_fft, hop_length=hop))
        if mag_weight:
            total += mag_weight * tf.reduce_mean(tf.abs(a - b))
        if log_weight:
            total += log_weight * tf.reduce_mean(tf.abs(tf.math.log(a + eps) -
                                                        tf.math.log(b + eps)))
    return total
