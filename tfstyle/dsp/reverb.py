"""Convolution with an impulse response by FFT (the learned reverb of the decoder)."""
import tensorflow as tf


def fft_convolve(audio, impulse_response, full=False):
    """Linear convolution of audio [batch, samples] with impulse_response [batch or 1, taps].

    Returns [batch, samples] (the tail cut), or [batch, samples + taps - 1] with `full=True`
    so that a long signal's blocks can carry the tail into the next block.
    """
    audio = tf.convert_to_tensor(audio, tf.float32)
    impulse_response = tf.convert_to_tensor(impulse_response, tf.float32)
    n = tf.shape(audio)[-1]
    taps = tf.shape(impulse_response)[-1]
    length = n + taps - 1
    size = tf.cast(2 ** tf.math.ceil(tf.math.log(tf.cast(length, tf.float32)) / tf.math.log(2.0)),
                   tf.int32)
    spectrum = tf.signal.rfft(audio, [size]) * tf.signal.rfft(impulse_response, [size])
    out = tf.signal.irfft(spectrum, [size])
    return out[..., :length] if full else out[..., :n]
