"""Spectral losses: the multi-scale spectral loss (DDSP: magnitude and log-magnitude L1 at several
FFT sizes) and the multi-resolution STFT loss (Parallel WaveGAN: spectral convergence and
log-magnitude L1 at three resolutions)."""
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


# Parallel WaveGAN's resolutions: (n_fft, win_length, hop_length).
RESOLUTIONS = ((512, 240, 50), (1024, 600, 120), (2048, 1200, 240))


def multi_resolution_stft_loss(target, output, resolutions=RESOLUTIONS, eps=1e-7):
    """Parallel WaveGAN's multi-resolution STFT loss: the mean over resolutions of spectral
    convergence ‖|S_t| − |S_o|‖_F / ‖|S_t|‖_F and of the log-magnitude L1
    mean |log |S_t| − log |S_o||. The norms are over the whole batch, as Parallel WaveGAN
    takes them: per example, a silent target would divide by nearly nothing.

    Args:
        target, output: float waveforms [batch, samples].
    Returns:
        (total, spectral convergence, log magnitude): scalar float32 tensors.
    """
    convergence, log_magnitude = 0.0, 0.0
    for n_fft, win_length, hop in resolutions:
        a = spectral.magnitude(spectral.stft(target, n_fft, hop, win_length))
        b = spectral.magnitude(spectral.stft(output, n_fft, hop, win_length))
        norm = lambda x: tf.sqrt(tf.reduce_sum(tf.square(x)))
        convergence += norm(a - b) / (norm(a) + eps)
        log_magnitude += tf.reduce_mean(tf.abs(tf.math.log(a + eps) - tf.math.log(b + eps)))
    n = float(len(resolutions))
    return (convergence + log_magnitude) / n, convergence / n, log_magnitude / n
