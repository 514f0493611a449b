"""The vocoder's output brought back onto its mel, band by band (`MelCorrection`).

A trained vocoder's phase is far better than Griffin-Lim's (its multi-resolution STFT
distance is half), but its band levels drift from the mel it was given by a dB or two, which is
what the mel distance sees. Griffin-Lim keeps the mel's levels and loses the phase. The
correction keeps the vocoder's phase and fine structure and moves each band's level onto the
mel's: the output's STFT at the front end's own n_fft and hop, its mel measured as the front
end measures it, each band's gain (the mel's level over the output's, capped), spread over the
band's bins, and an inverse STFT. Each pass moves the levels nearer, since the inverse STFT of a
modified spectrum is not exactly that spectrum.

On the held-out clips of bench/train_vocoder.py (docs/benchmarks.md), 4 passes took the 16 kHz
vocoder's mel distance from 1.78 / 1.74 / 2.01 dB to 0.95 / 1.01 / 1.05 (Griffin-Lim-200:
2.00 / 1.49 / 2.13), with its MR-STFT distance a little lower too.

The STFT and its inverse are matrix products with fixed bases and overlap-add is pads and adds
(as `generator.ISTFTHead`), so the vocoder's TFLite export stays builtin-only.
"""
import math

import numpy as np
from keras import ops

from tfstyle import spectral
from tfstyle.converters.melgan_vc import frontend
from tfstyle.converters.vocoder.framing import overlap_add

# The cap per pass, chosen on training clips as the passes were (`VocoderConfig.correction`):
# 12 dB or more measured the same or a little worse.
MAX_GAIN_DB = 6.0


class MelCorrection:
    """(waveform [batch, frames · hop], normalised mel [batch, frames, n_mels]) → waveform whose
    mel, at the front end's n_fft and hop, is nearer the given one; `passes` times.

    A band whose level is at the mel's floor in that frame (the quietest band of the frame:
    the normalised mel clips at 80 dB below the clip's peak, which a block of it cannot know)
    is not raised above it, nor is any band lowered below the mel's ceiling; every gain is
    capped at ±`max_gain_db` per pass. Frame by frame, so blocks of a long mel give what the
    whole mel gives wherever they have `reach` frames of context per pass."""

    def __init__(self, front_end, hop_length, passes, max_gain_db=MAX_GAIN_DB):
        self.front_end = frontend.settings(front_end)
        n, self.hop, self.passes = self.front_end.n_fft, hop_length, passes
        self.n_fft, self.max_gain_db = n, max_gain_db
        window = spectral._window(n, n).astype(np.float64)
        # Windowed frame → [real parts, imaginary parts].
        self.analysis = (np.concatenate(spectral._real_dft(n), 1)
                         * window[:, None]).astype(np.float32)
        # [real, imaginary] → the frame's samples, windowed again for overlap-add.
        self.synthesis = (np.concatenate(spectral._real_idft(n)) * window).astype(np.float32)
        bank = frontend.mel_bank(self.front_end)
        # The front end's mel power: |X|² over Σw², summed by the bank.
        self.bank = (bank / np.sum(window ** 2)).astype(np.float32)
        # A band's gain reaches each bin in proportion to the bin's weight in it.
        self.spread = (bank / np.maximum(bank.sum(1, keepdims=True), 1e-12)).T.astype(
            np.float32)
        self.window_power = (window ** 2).astype(np.float32)
        # Frames reach this many hops of samples, and so of mel frames, either side.
        self.span = math.ceil(n / hop_length)
        # Overlap-add places frames of a whole number of hops, from sample -n_fft/2.
        self.width = max(self.span, math.ceil(n / 2 / hop_length) + 1)

    @property
    def reach(self):
        """Mel frames either side that one output sample depends on, over all passes."""
        return self.passes * self.span

    def _place(self, frames):
        """[batch, frames, n_fft] placed every hop from sample -n_fft/2, summed → [batch,
        frames · hop], by pads and adds."""
        frames = ops.pad(frames, ((0, 0), (0, 0), (0, self.width * self.hop - self.n_fft)))
        audio = overlap_add(frames, self.hop, self.width)
        count = ops.shape(frames)[1]
        return audio[:, self.n_fft // 2:self.n_fft // 2 + count * self.hop]

    def __call__(self, audio, mel):
        count = ops.shape(mel)[1]
        target = frontend.denormalize_db(mel, self.front_end)
        floor = ops.min(target, axis=-1, keepdims=True)
        # Frame f of the centred STFT covers samples f·hop - n_fft/2 ... + n_fft/2.
        index = (ops.arange(count, dtype="int32")[:, None] * self.hop
                 + ops.arange(self.n_fft, dtype="int32")[None, :])
        envelope = self._place(ops.broadcast_to(
            ops.convert_to_tensor(self.window_power), (1, count, self.n_fft)))
        envelope = ops.maximum(envelope, 1e-8)
        half = self.n_fft // 2
        analysis, synthesis, bank, spread = (ops.convert_to_tensor(m) for m in (
            self.analysis, self.synthesis, self.bank, self.spread))
        for _ in range(self.passes):
            # Zeros beyond the ends (the front end reflects): only the outermost frames
            # differ, and a block's ends lie in its context.
            padded = ops.pad(audio, ((0, 0), (half, half)))
            spectrum = ops.matmul(ops.take(padded, index, axis=1), analysis)
            real, imag = ops.split(spectrum, 2, axis=-1)
            power = ops.matmul(real * real + imag * imag, bank)
            level = 10.0 * ops.log(ops.maximum(power, 1e-10)) / math.log(10.0)
            gain = ops.clip(target - ops.clip(level, floor, self.front_end.ref_level_db),
                            -self.max_gain_db, self.max_gain_db)
            scale = ops.exp(ops.matmul(gain, spread) * (math.log(10.0) / 20.0))
            frames = ops.matmul(ops.concatenate([real * scale, imag * scale], -1), synthesis)
            audio = self._place(frames) / envelope
        return audio
