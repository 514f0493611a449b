"""What the style-transfer optimiser works on: a spectrogram-like [1, frames, channels] tensor
computed from audio by the front end, with its way back to a linear STFT magnitude.

- log1p_stft: log(1 + |STFT|), channels = n_fft/2 + 1 bins (Ulyanov; alishdipani).
- mel_db: mel power spectrogram in dB (librosa's Slaney bank), channels = n_mels.
- mfcc: orthonormal DCT-II of mel_db, channels = n_mfcc.
- waveform: the continuous mu-law companded waveform, one channel, one "frame" per sample
  (for the NSynth encoder, which works on audio rather than spectrograms).

Back to audio: expm1 for log1p_stft; mel_db → power → non-negative mel inversion → magnitude;
mfcc → inverse DCT (missing coefficients as zeros) → as mel_db. Griffin-Lim does the rest;
a waveform representation needs no phase and is decoded from mu-law directly.
"""
import tensorflow as tf

from tfstyle import spectral

KINDS = ("log1p_stft", "mel_db", "mfcc", "waveform")


class Representation:
    """One representation with fixed front-end settings.

    Args:
        kind: one of KINDS.
        sr, n_fft, hop_length: STFT settings (librosa names and framing).
        n_mels: mel bands for mel_db and mfcc.
        n_mfcc: coefficients kept for mfcc.
    """

    def __init__(self, kind, sr, n_fft, hop_length, n_mels=128, n_mfcc=40):
        if kind not in KINDS:
            raise ValueError(f"representation must be one of {KINDS}, got {kind!r}")
        self.kind, self.sr, self.n_fft, self.hop_length = kind, sr, n_fft, hop_length
        self.n_mels, self.n_mfcc = n_mels, n_mfcc
        # Magnitudes are non-negative, so log1p magnitudes are too; dB and MFCC are unbounded;
        # companded audio lives in [-1, 1].
        self.lower_bound = {"log1p_stft": 0.0, "waveform": -1.0}.get(kind)
        self.upper_bound = 1.0 if kind == "waveform" else None
        self.is_spectral = kind != "waveform"

    @property
    def channels(self):
        return {"log1p_stft": self.n_fft // 2 + 1, "mel_db": self.n_mels,
                "mfcc": self.n_mfcc, "waveform": 1}[self.kind]

    def stft(self, y):
        return spectral.stft(y, self.n_fft, self.hop_length)

    def encode(self, y=None, stft_matrix=None):
        """Waveform [..., samples] (or its STFT) → [..., frames, channels]."""
        if self.kind == "waveform":
            return spectral.mu_law_encode(y)[..., None]
        stft_matrix = self.stft(y) if stft_matrix is None else stft_matrix
        if self.kind == "log1p_stft":
            return spectral.log1p_magnitude(stft_matrix)
        mel_db = spectral.power_to_db(spectral.melspectrogram(
            S=spectral.magnitude(stft_matrix, 2.0), sr=self.sr, n_fft=self.n_fft,
            n_mels=self.n_mels), top_db=None)
        if self.kind == "mel_db":
            return mel_db
        return spectral.mfcc(S=mel_db, n_mfcc=self.n_mfcc)

    def to_waveform(self, rep):
        """waveform representation [..., samples, 1] → audio [..., samples]."""
        return spectral.mu_law_decode(rep[..., 0])

    def to_magnitude(self, rep):
        """[..., frames, channels] → linear STFT magnitude [..., frames, bins]."""
        if self.kind == "log1p_stft":
            return spectral.inverse_log1p(rep)
        mel_db = rep if self.kind == "mel_db" else spectral.mfcc_to_mel_db(rep, self.n_mels)
        power = spectral.mel_to_linear(spectral.db_to_power(mel_db), sr=self.sr,
                                       n_fft=self.n_fft, n_mels=self.n_mels)
        return tf.sqrt(power)
