"""Representations encode on the front end and come back to a usable linear magnitude."""
import numpy as np
import pytest

from conftest import melody
from tfstyle import spectral
from tfstyle.optimisation.representations import Representation

SR = 16000


@pytest.mark.parametrize("kind,channels,tolerance", [
    ("log1p_stft", 257, 1e-4), ("mel_db", 64, 0.35), ("mfcc", 64, 0.35)])
def test_round_trip_to_magnitude(kind, channels, tolerance):
    y = melody([262, 330, 392, 523], sr=SR)
    rep = Representation(kind, SR, 512, 128, n_mels=64, n_mfcc=64)
    encoded = rep.encode(y[None])
    assert encoded.shape[-1] == rep.channels == channels
    magnitude = rep.to_magnitude(encoded).numpy()[0]
    truth = np.abs(spectral.stft(y, 512, 128).numpy())
    assert magnitude.shape == truth.shape and magnitude.min() >= 0
    # Relative error of the spectral envelope (mel smoothing loses fine structure).
    fb = spectral.mel_filterbank(SR, 512, 64)
    env = lambda m: (m ** 2) @ fb
    error = np.linalg.norm(env(magnitude) - env(truth)) / np.linalg.norm(env(truth))
    assert error < tolerance


def test_mfcc_with_fewer_coefficients_is_smooth_but_valid():
    y = melody([262, 330], sr=SR)
    rep = Representation("mfcc", SR, 512, 128, n_mels=64, n_mfcc=20)
    magnitude = rep.to_magnitude(rep.encode(y[None])).numpy()
    assert magnitude.shape[-1] == 257 and np.all(np.isfinite(magnitude))
