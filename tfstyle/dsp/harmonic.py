"""The harmonic oscillator bank: sinusoids at k·f0 with per-frame amplitudes."""
import tensorflow as tf


def upsample(frames, hop_length, n_samples=None):
    """Linear interpolation of per-frame controls to samples.

    Frame t sits at sample t * hop_length (the analysis frames' centres); values past the last
    frame hold it.

    Args:
        frames: [batch, frames, channels].
        n_samples: output length (default frames * hop_length).
    Returns:
        [batch, n_samples, channels].
    """
    frames = tf.convert_to_tensor(frames, tf.float32)
    following = tf.concat([frames[:, 1:], frames[:, -1:]], axis=1)
    ramp = tf.range(hop_length, dtype=tf.float32)[:, None] / float(hop_length)   # [hop, 1]
    samples = frames[:, :, None] + (following - frames)[:, :, None] * ramp        # [b, f, hop, c]
    shape = tf.shape(frames)
    samples = tf.reshape(samples, [shape[0], shape[1] * hop_length, frames.shape[-1]])
    return samples if n_samples is None else samples[:, :n_samples]


def _frac(x):
    return x - tf.floor(x)


def harmonic_synth(f0, amplitudes, sr, hop_length, n_samples=None, initial_phase=None,
                   phase_dtype=tf.float64):
    """Sum of harmonics k = 1..K of f0 with the given per-frame amplitudes.

    The phase is the running sum of the instantaneous frequency, kept continuous across frames
    and, through `initial_phase` and the returned final phase, across the blocks of a long
    signal. It is accumulated in cycles and wrapped at every frame, so it stays exact to about
    a millionth of a cycle at any length. Harmonics at or above Nyquist are
    silenced sample by sample.

    Args:
        f0: [batch, frames] Hz.
        amplitudes: [batch, frames, K] linear amplitude of each harmonic.
        sr: sample rate in Hz.
        hop_length: samples per frame.
        n_samples: output length (default frames * hop_length).
        initial_phase: [batch] phase of the fundamental at the first sample, in cycles.
        phase_dtype: of the per-frame phase sum; float32 serves blocks of a few hundred
            frames (TFLite has no float64 arithmetic).
    Returns:
        (audio [batch, n_samples], final_phase [batch] in cycles at sample n_samples).
    """
    f0 = tf.convert_to_tensor(f0, tf.float32)
    amplitudes = tf.convert_to_tensor(amplitudes, tf.float32)
    n_harmonics = int(amplitudes.shape[-1])
    n_frames = tf.shape(f0)[1]
    total = n_frames * hop_length
    n_samples = total if n_samples is None else n_samples
    freq = upsample(f0[..., None], hop_length)[..., 0]                 # [b, total] Hz
    cycles = tf.reshape(freq / sr, [tf.shape(f0)[0], n_frames, hop_length])
    # Cycles before each sample within its frame (float32 is exact to ~1e-6 over one hop), and
    # the phase at each frame's start summed in float64 over frames: a float32 running sum
    # would drift by 1e-3 cycles within minutes, audible on the upper harmonics.
    within = tf.cumsum(cycles, axis=-1, exclusive=True)
    per_frame = tf.reduce_sum(tf.cast(cycles, phase_dtype), axis=-1)
    start = tf.cumsum(per_frame - tf.floor(per_frame), axis=-1, exclusive=True)
    if initial_phase is not None:
        start += tf.cast(initial_phase, phase_dtype)[:, None]
    start = tf.cast(start - tf.floor(start), tf.float32)
    phase = tf.reshape(_frac(start[..., None] + within), [tf.shape(f0)[0], total])
    # The phase carried to the next block: the one sample n_samples would start with.
    final = _frac(phase[:, n_samples - 1] + freq[:, n_samples - 1] / sr)
    k = tf.range(1, n_harmonics + 1, dtype=tf.float32)
    amps = upsample(amplitudes, hop_length)                           # [b, total, K]
    amps = tf.where(freq[..., None] * k < sr / 2, amps, 0.0)
    harmonics = tf.sin(2.0 * 3.141592653589793 * _frac(phase[..., None] * k))
    audio = tf.reduce_sum(amps * harmonics, axis=-1)
    return audio[:, :n_samples], final
