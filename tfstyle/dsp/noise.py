"""Filtered noise: white noise shaped frame by frame by a magnitude response."""
import numpy as np
import tensorflow as tf


def _impulse_responses(magnitudes):
    """Zero-phase frequency sampling → centred, Hann-windowed linear-phase FIRs."""
    n_bands = int(magnitudes.shape[-1])
    ir = tf.signal.irfft(tf.complex(magnitudes, tf.zeros_like(magnitudes)))   # [..., 2(n-1)]
    size = 2 * (n_bands - 1)
    ir = tf.roll(ir, shift=size // 2, axis=-1)
    return ir * tf.signal.hann_window(size, periodic=True)


def filtered_noise(magnitudes, hop_length, n_samples=None, seed=(0, 0), noise=None):
    """Uniform noise in [-1, 1], each hop of it filtered by its frame's magnitude response.

    Args:
        magnitudes: [batch, frames, bands] linear gains at bands evenly spaced from 0 Hz to
            Nyquist (bands = 65 gives 128-tap filters).
        hop_length: samples per frame.
        n_samples: output length (default frames * hop_length).
        seed: stateless seed of the noise (a long signal's blocks pass different seeds).
        noise: [batch, frames * hop_length] to filter instead of fresh noise.
    Returns:
        [batch, n_samples]: the filters are centred, so frame t's colour is heard around
        sample t * hop_length, like the harmonic part's amplitudes.
    """
    magnitudes = tf.convert_to_tensor(magnitudes, tf.float32)
    shape = tf.shape(magnitudes)
    batch, n_frames = shape[0], shape[1]
    ir = _impulse_responses(magnitudes)                                   # [b, f, taps]
    taps = int(ir.shape[-1])
    if noise is None:
        noise = tf.random.stateless_uniform([batch, n_frames * hop_length], seed, -1.0, 1.0)
    segments = tf.reshape(noise, [batch, n_frames, hop_length])
    fft_size = int(2 ** np.ceil(np.log2(hop_length + taps - 1)))
    filtered = tf.signal.irfft(tf.signal.rfft(segments, [fft_size]) *
                               tf.signal.rfft(ir, [fft_size]), [fft_size])
    out = tf.signal.overlap_and_add(filtered[..., :hop_length + taps - 1], hop_length)
    n_samples = n_frames * hop_length if n_samples is None else n_samples
    return out[:, taps // 2:taps // 2 + n_samples]
