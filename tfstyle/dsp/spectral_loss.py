"""Spectral losses: the multi-scale spectral loss (DDSP: magnitude and log-magnitude L1 at several
FFT sizes), the multi-resolution STFT loss (Parallel WaveGAN: spectral convergence and
log-magnitude L1 at three resolutions) and the benchmarks' log-mel distance
(`tfstyle.metrics.mel_distance`) on the graph."""
import tensorflow as tf

from tfstyle import metrics, spectral

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


def log_mel_distance(target, output, sr, n_fft=metrics.N_FFT, hop_length=metrics.HOP_LENGTH,
                     n_mels=metrics.N_MELS, top_db=metrics.TOP_DB):
    """`tfstyle.metrics.mel_distance` on graph, per example, averaged over the batch: the RMS
    difference in dB of librosa-convention log-mel power spectrograms (each floored `top_db`
    below its own peak), after removing the difference's mean (a gain is not an error).

    The defaults are the metric's. Its 2048-point frames and 64 bands weigh what the
    multi-resolution STFT loss and a fine mel's L1 barely see: the few low bands where a
    vocoder's overlapping frames do not add up, and the levels 20-60 dB under the peak.

    Args:
        target, output: float waveforms [batch, samples].
    Returns:
        scalar float32.
    """
    def log_mel(y):
        return spectral.power_to_db(spectral.melspectrogram(y, sr=sr, n_fft=n_fft,
                                                            hop_length=hop_length,
                                                            n_mels=n_mels), top_db=top_db)

    diff = log_mel(output) - log_mel(target)
    diff -= tf.reduce_mean(diff, axis=[-2, -1], keepdims=True)
    # The small constant keeps the square root's gradient finite where output = target.
    return tf.reduce_mean(tf.sqrt(tf.reduce_mean(tf.square(diff), axis=[-2, -1]) + 1e-6))
