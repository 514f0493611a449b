"""Decoder outputs → audio: harmonic bank + filtered noise, through a learned reverb."""
import keras
import numpy as np
import tensorflow as tf

from tfstyle import dsp


@keras.saving.register_keras_serializable(package="tfstyle")
class HarmonicNoiseSynth(keras.layers.Layer):
    """Renders one block of controls; owns the learned reverb impulse response.

    call(outputs, f0_hz, voiced, gate) with decoder `outputs`, f0 [b, frames] in Hz, voiced
    [b, frames] (0/1: the harmonics sound only there, so unvoiced frames are noise, never a
    held drone) and gate [b, frames] (0/1: silence) → audio [b, frames * hop_length].
    The reverb adds a convolution with the learned impulse response to the dry signal; it
    starts at zero, so a dry style leaves it dry.
    """

    def __init__(self, sr=22050, hop_length=256, reverb_taps=2048, **kwargs):
        super().__init__(**kwargs)
        self.sr, self.hop_length, self.reverb_taps = int(sr), int(hop_length), int(reverb_taps)
        self.impulse_response = self.add_weight(
            shape=(max(1, self.reverb_taps),), initializer="zeros", name="impulse_response",
            trainable=self.reverb_taps > 0)

    def harmonic_amplitudes(self, outputs, f0_hz, voiced, gate):
        """[b, f, K] per-harmonic amplitudes: the distribution masked above Nyquist and
        normalised, times the overall amplitude, the voicing and the gate."""
        distribution = outputs["harmonic_distribution"]
        k = tf.range(1, int(distribution.shape[-1]) + 1, dtype=tf.float32)
        below = tf.cast(f0_hz[..., None] * k < self.sr / 2, tf.float32)
        distribution = distribution * below
        distribution /= tf.reduce_sum(distribution, axis=-1, keepdims=True) + 1e-7
        return outputs["amplitude"] * distribution * (voiced * gate)[..., None]

    def dry(self, outputs, f0_hz, voiced, gate, initial_phase=None, seed=(0, 0),
            n_samples=None):
        """(dry audio [b, n_samples (default frames * hop)], phase [b] at sample n_samples)."""
        amplitudes = self.harmonic_amplitudes(outputs, f0_hz, voiced, gate)
        harmonic, phase = dsp.harmonic_synth(f0_hz, amplitudes, self.sr, self.hop_length,
                                             n_samples=n_samples, initial_phase=initial_phase)
        noise = dsp.filtered_noise(outputs["noise_magnitudes"] * gate[..., None],
                                   self.hop_length, n_samples=n_samples, seed=seed)
        return harmonic + noise, phase

    def wet(self, dry, full=False):
        if self.reverb_taps <= 0:
            return dry
        wet = dsp.fft_convolve(dry, self.impulse_response[None], full=full)
        if full:
            dry = tf.pad(dry, [[0, 0], [0, self.reverb_taps - 1]])
        return dry + wet

    def call(self, outputs, f0_hz, voiced, gate):
        return self.wet(self.dry(outputs, f0_hz, voiced, gate)[0])

    def get_config(self):
        return {**super().get_config(), "sr": self.sr, "hop_length": self.hop_length,
                "reverb_taps": self.reverb_taps}


def render(decoder, synth, inputs, f0_hz, voiced, gate, n_samples, block_frames=512):
    """Audio of a whole clip, block by block so memory does not grow with its length.

    The decoder runs over all frames at once (its state must flow through the whole clip;
    frames are cheap), the synthesiser over blocks of `block_frames`, carrying the oscillator
    phase and the reverb tail from block to block, with a fresh noise seed per block.

    Args:
        inputs: the decoder's inputs, each [1, frames, 1].
        f0_hz, voiced, gate: [frames] float arrays.
    Returns:
        float32 [n_samples].
    """
    outputs = decoder(inputs, training=False)
    frames = len(f0_hz)
    hop = synth.hop_length
    out = np.zeros(frames * hop + max(0, synth.reverb_taps - 1), np.float32)
    phase = tf.zeros([1])
    for index, start in enumerate(range(0, frames, block_frames)):
        stop = min(start + block_frames, frames)
        # One frame of look-ahead: the block's last hop ramps toward the next block's first
        # frame, exactly as it would in one piece.
        ahead = min(stop + 1, frames)
        block = {k: v[:, start:ahead] for k, v in outputs.items()}
        controls = [tf.constant(np.asarray(a[start:ahead], np.float32)[None])
                    for a in (f0_hz, voiced, gate)]
        dry, phase = synth.dry(block, *controls, initial_phase=phase, seed=(index, 1),
                               n_samples=(stop - start) * hop)
        wet = synth.wet(dry, full=True).numpy()[0]
        out[start * hop:start * hop + len(wet)] += wet
    return out[:n_samples]
