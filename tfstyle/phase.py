"""Phase reconstruction: fast Griffin-Lim (Perraudin et al. 2013) on the tfstyle front end.

TensorFlow has no Griffin-Lim, so this is the one piece of DSP written by hand. The loop runs
inside one `tf.function` (a `tf.while_loop`), which makes it several times faster than librosa's
NumPy version on the same magnitudes; `bench/griffin_lim.py` measures both side by side.
"""
import numpy as np
import tensorflow as tf

from tfstyle import spectral

INITS = ("random", "zeros")


def spectral_convergence(magnitude, y, n_fft, hop_length=None, win_length=None, center=True):
    """‖S − |STFT(y)|‖_F / ‖S‖_F: how well waveform y realises the target magnitude S (lower is
    better; 0 is a perfect match)."""
    rebuilt = tf.abs(spectral.stft(y, n_fft, hop_length, win_length, center))
    magnitude = tf.convert_to_tensor(magnitude, tf.float32)
    return float(tf.norm(magnitude - rebuilt) / tf.maximum(tf.norm(magnitude), 1e-12))


def griffin_lim(magnitude, n_iter=32, hop_length=None, win_length=None, n_fft=None,
                center=True, length=None, momentum=0.99, init="random", seed=0):
    """Recovers a waveform whose STFT magnitude approximates `magnitude`.

    Args:
        magnitude: non-negative [..., frames, bins] STFT magnitude (tfstyle layout).
        n_iter: number of iterations; 0 returns the inverse STFT of the initial estimate.
        hop_length, win_length, n_fft, center: the STFT that produced `magnitude`.
        length: output length in samples (default: what the frame count implies).
        momentum: the "fast" Griffin-Lim momentum (0 is the classic algorithm; librosa's default
            0.99 converges much faster).
        init: "random" (uniform phase, seeded), "zeros", or an array/tensor of initial phase in
            radians, or a complex STFT whose phase is used (e.g. the content's).
        seed: seed of the random initial phase.

    Returns:
        float32 waveform [..., samples].
    """
    magnitude = tf.convert_to_tensor(magnitude, tf.float32)
    n_fft = 2 * (magnitude.shape[-1] - 1) if n_fft is None else int(n_fft)
    n_fft, hop_length, win_length = spectral._resolve(n_fft, hop_length, win_length)
    if length is None:
        length = (magnitude.shape[-2] - 1) * hop_length if center else \
            (magnitude.shape[-2] - 1) * hop_length + n_fft
    if momentum < 0:
        raise ValueError(f"momentum must be non-negative, got {momentum}")
    angles = _initial_angles(magnitude, init, seed)
    # The traced loop always sees [batch, frames, bins]: with `reduce_retracing`, calls of
    # different ranks would otherwise relax its trace to an unknown rank, which the STFT's
    # padding cannot take.
    lead = magnitude.shape[:-2]
    flat = lambda x: tf.reshape(x, [-1, *x.shape[-2:]])
    y = _griffin_lim(flat(magnitude), flat(angles), tf.constant(int(n_iter)),
                     tf.constant(momentum / (1.0 + momentum), tf.float32),
                     n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                     center=center, length=int(length))
    return tf.reshape(y, [*lead, int(length)])


def _initial_angles(magnitude, init, seed):
    """Unit-modulus complex initial phase, same shape as magnitude."""
    if isinstance(init, str):
        if init == "zeros":
            return tf.ones_like(magnitude, tf.complex64)
        if init == "random":
            phase = tf.random.stateless_uniform(tf.shape(magnitude), [seed, 0],
                                                0.0, 2 * np.pi)
            return tf.exp(tf.complex(tf.zeros_like(phase), phase))
        raise ValueError(f"init must be one of {INITS} or a phase array, got {init!r}")
    init = tf.convert_to_tensor(init)
    if init.dtype.is_complex:
        init = tf.math.angle(init)
    if init.shape != magnitude.shape:
        raise ValueError(f"initial phase shape {init.shape} does not match the magnitude "
                         f"shape {magnitude.shape}")
    init = tf.cast(init, tf.float32)
    return tf.exp(tf.complex(tf.zeros_like(init), init))


# Autograph off: the loop is an explicit tf.while_loop, and converting the front end's Python
# took most of the 0.8 s a first call spent tracing.
@tf.function(reduce_retracing=True, autograph=False)
def _griffin_lim(magnitude, angles, n_iter, alpha, n_fft, hop_length, win_length, center,
                 length):
    mag = tf.cast(magnitude, tf.complex64)
    eps = tf.constant(1e-16, tf.float32)
    alpha = tf.cast(alpha, tf.complex64)

    def body(i, angles, previous):
        y = spectral.istft(mag * angles, hop_length, win_length, n_fft, center, length)
        rebuilt = spectral.stft(y, n_fft, hop_length, win_length, center)
        angles = rebuilt - alpha * previous
        return i + 1, angles / tf.cast(tf.abs(angles) + eps, tf.complex64), rebuilt

    _, angles, _ = tf.while_loop(lambda i, *_: i < n_iter, body,
                                 [tf.constant(0), angles, tf.zeros_like(angles)])
    return spectral.istft(mag * angles, hop_length, win_length, n_fft, center, length)


def griffin_lim_builtin(magnitude, phase, n_iter, hop_length, n_fft, length, momentum=0.99,
                        pad_mode="constant"):
    """Fast Griffin-Lim in real arithmetic, unrolled: every op is a TFLite builtin (RFFT2D, real
    DFT matmuls, overlap-add, ATAN2), for on-device waveform models. `magnitude` [frames, bins]
    and the initial `phase` (radians, same shape) need static shapes."""
    alpha = momentum / (1.0 + momentum)

    def project(c, s):
        y = spectral.istft_real(magnitude * c, magnitude * s, hop_length, n_fft, length)
        z = spectral.stft(y, n_fft, hop_length, pad_mode=pad_mode)
        return tf.math.real(z), tf.math.imag(z)

    c, s = tf.cos(phase), tf.sin(phase)
    prev_re, prev_im = tf.zeros_like(c), tf.zeros_like(s)
    for _ in range(n_iter):
        re, im = project(c, s)
        angle = tf.atan2(im - alpha * prev_im, re - alpha * prev_re)
        prev_re, prev_im = re, im
        c, s = tf.cos(angle), tf.sin(angle)
    return spectral.istft_real(magnitude * c, magnitude * s, hop_length, n_fft, length)
