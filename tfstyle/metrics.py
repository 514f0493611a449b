"""Objective measures of a style-transfer result (NumPy/librosa, run offline on finished audio).

- `chroma_correlation(output, content)`: Pearson correlation of the two 12-bin chromagrams
  (frame by frame, over the content's length). Higher is better; 1 means the same pitch-class
  content over time, around 0 means unrelated. Measures whether the melody or words survived.
- `mfcc_correlation(output, content)`: Pearson correlation of the MFCC trajectories (coefficients
  1-13, each normalised over time). Higher is better. Tracks the spectral-envelope sequence that
  makes words intelligible, where chroma (a pitch measure) says little about speech.
- `longterm_mel_distance(a, b)`: RMS difference in dB between the time-averaged log-mel spectra of
  two clips, after removing their mean level difference (so a gain change is not a timbre
  change). Lower is closer; measures where the overall timbre (spectral envelope) sits.
"""
import numpy as np


def chroma_correlation(output, content, sr, n_fft=2048, hop_length=512):
    import librosa

    n = min(len(output), len(content))
    a = librosa.feature.chroma_stft(y=output[:n], sr=sr, n_fft=n_fft, hop_length=hop_length)
    b = librosa.feature.chroma_stft(y=content[:n], sr=sr, n_fft=n_fft, hop_length=hop_length)
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def mfcc_correlation(output, content, sr, n_fft=2048, hop_length=512, n_mfcc=14):
    import librosa

    n = min(len(output), len(content))
    a, b = (librosa.feature.mfcc(y=y[:n], sr=sr, n_mfcc=n_mfcc, n_fft=n_fft,
                                 hop_length=hop_length)[1:] for y in (output, content))
    a = (a - a.mean(axis=1, keepdims=True)).ravel()
    b = (b - b.mean(axis=1, keepdims=True)).ravel()
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def longterm_mel_spectrum(y, sr, n_fft=2048, hop_length=512, n_mels=64):
    """Time-averaged mel power spectrum in dB, [n_mels]."""
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length,
                                         n_mels=n_mels)
    return 10.0 * np.log10(mel.mean(axis=1) + 1e-10)


def longterm_mel_distance(a, b, sr, **kwargs):
    diff = longterm_mel_spectrum(a, sr, **kwargs) - longterm_mel_spectrum(b, sr, **kwargs)
    return float(np.sqrt(np.mean(np.square(diff - diff.mean()))))
