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
        self.built = True   # its one weight exists from the start, whatever the input shape

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
            n_samples=None, noise=None):
        """(dry audio [b, n_samples (default frames * hop)], phase [b] at sample n_samples);
        `noise` ([b, frames * hop], uniform in [-1, 1]) replaces the seeded white noise."""
        amplitudes = self.harmonic_amplitudes(outputs, f0_hz, voiced, gate)
        harmonic, phase = dsp.harmonic_synth(f0_hz, amplitudes, self.sr, self.hop_length,
                                             n_samples=n_samples, initial_phase=initial_phase)
        noise = dsp.filtered_noise(outputs["noise_magnitudes"] * gate[..., None],
                                   self.hop_length, n_samples=n_samples, seed=seed,
                                   noise=noise)
        return harmonic + noise, phase

    def wet(self, dry, full=False):
        if self.reverb_taps <= 0:
            return dry
        wet = dsp.fft_convolve(dry, self.impulse_response[None], full=full)
        if full:
            dry = tf.pad(dry, [[0, 0], [0, self.reverb_taps - 1]])
        return dry + wet

    def block_function(self):
        """The graph that renders one block, carrying phase (built once per synthesiser, so
        every block of every clip reuses it)."""
        if getattr(self, "_block", None) is None:
            @tf.function(reduce_retracing=True, autograph=False)
            def block(outputs, f0, voiced, gate, phase, seed, n_samples):
                dry, phase = self.dry(outputs, f0, voiced, gate, initial_phase=phase,
                                      seed=seed, n_samples=n_samples)
                return self.wet(dry, full=True), phase

            self._block = block
        return self._block

    def call(self, outputs, f0_hz, voiced, gate, noise=None):
        return self.wet(self.dry(outputs, f0_hz, voiced, gate, noise=noise)[0])

    def get_config(self):
        return {**super().get_config(), "sr": self.sr, "hop_length": self.hop_length,
                "reverb_taps": self.reverb_taps}


def render_blocks(decoder, synth, inputs, f0_hz, voiced, gate, n_samples, block_frames=256):
    """Audio of a whole clip as successive float32 blocks (n_samples in all), so memory does
    not grow with its length.

    Decoder and synthesiser both run `block_frames` at a time: the decoder carries its GRU
    state, the synthesiser the oscillator phase and the reverb tail from block to block, with
    a fresh noise seed per block; each block's last hop ramps toward the next block's first
    frame, exactly as it would in one piece.

    Args:
        inputs: the decoder's inputs f0_scaled and loudness_scaled, each [1, frames, 1], and
            a conditioned decoder's timbre embedding.
        f0_hz, voiced, gate: [frames] float arrays.
        n_samples: at most frames * hop_length (a clip of n samples has 1 + n // hop frames).
    """
    frames = len(f0_hz)
    hop = synth.hop_length
    # Each block's last hop needs the next block's first frame: blocks are decoded one ahead.
    decoded = decoder.decode_blocks(inputs["f0_scaled"], inputs["loudness_scaled"],
                                    block_frames, timbre=inputs.get("timbre"))
    current, tail = next(decoded), np.zeros(max(0, synth.reverb_taps - 1), np.float32)

    synthesise = synth.block_function()
    phase = tf.zeros([1])
    for index, start in enumerate(range(0, frames, block_frames)):
        stop = min(start + block_frames, frames)
        following = next(decoded, None)
        block = {k: v for k, v in current.items() if k != "state"}
        if following is not None:
            block = {k: tf.concat([v, following[k][:, :1]], axis=1) for k, v in block.items()}
        # Every block goes in at block_frames + 1 frames, the last one padded with its last
        # frame (what the synthesiser holds past a block's end anyway), so that one graph
        # serves them all.
        size = block_frames + 1
        rows = np.minimum(np.arange(size), int(block["amplitude"].shape[1]) - 1)
        block = {k: tf.gather(v, rows, axis=1) for k, v in block.items()}
        at = np.minimum(np.arange(start, start + size), min(stop + 1, frames) - 1)
        controls = [tf.constant(np.asarray(a, np.float32)[at][None])
                    for a in (f0_hz, voiced, gate)]
        wet, phase = synthesise(block, *controls, phase, tf.constant([index, 1]),
                                tf.constant((stop - start) * hop))
        wet = wet.numpy()[0]
        wet[:len(tail)] += tail
        done = min((stop - start) * hop, n_samples - start * hop)
        if done > 0:
            yield wet[:done]
        tail = wet[(stop - start) * hop:]
        current = following


def render(decoder, synth, inputs, f0_hz, voiced, gate, n_samples, block_frames=256):
    """`render_blocks` joined: float32 [n_samples]."""
    return np.concatenate(list(render_blocks(decoder, synth, inputs, f0_hz, voiced, gate,
                                             n_samples, block_frames)))
