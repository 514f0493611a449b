"""The front end against librosa: framing, magnitudes, mel, dB, MFCC, inverses, mu-law."""
import librosa
import numpy as np
import pytest

from conftest import tone
from tfstyle import spectral

SR = 22050


@pytest.fixture(scope="module")
def signal():
    t = np.arange(SR * 2) / SR
    chirp = np.sin(2 * np.pi * (100 + 1500 * t) * t)
    noise = np.random.default_rng(0).standard_normal(len(t))
    return (0.5 * chirp + 0.05 * noise).astype(np.float32)


@pytest.mark.parametrize("n_fft,hop,win,pad_mode", [
    (2048, 512, None, "constant"), (1024, 256, 800, "constant"), (512, 128, None, "reflect"),
    (1152, 192, None, "reflect")])
def test_stft_magnitude_matches_librosa(signal, n_fft, hop, win, pad_mode):
    ours = np.abs(spectral.stft(signal, n_fft, hop, win, pad_mode=pad_mode).numpy()).T
    ref = np.abs(librosa.stft(signal, n_fft=n_fft, hop_length=hop, win_length=win,
                              pad_mode=pad_mode))
    assert ours.shape == ref.shape
    assert ours.shape[1] == spectral.num_frames(len(signal), n_fft, hop)
    assert np.max(np.abs(ours - ref)) <= 1e-4 * ref.max()


def test_stft_is_batched_and_uncentred_framing(signal):
    batch = np.stack([signal, 0.5 * signal])
    out = spectral.stft(batch, 512, 128).numpy()
    assert out.shape == (2, spectral.num_frames(len(signal), 512, 128), 257)
    np.testing.assert_allclose(out[1], 0.5 * out[0], atol=1e-4)
    raw = spectral.stft(signal, 512, 128, center=False)
    ref = librosa.stft(signal, n_fft=512, hop_length=128, center=False)
    assert raw.shape[0] == ref.shape[1] == spectral.num_frames(len(signal), 512, 128, center=False)


@pytest.mark.parametrize("n_fft,hop,win", [(2048, 512, None), (1024, 256, 800)])
def test_istft_inverts_stft_and_matches_librosa(signal, n_fft, hop, win):
    spec = spectral.stft(signal, n_fft, hop, win)
    ours = spectral.istft(spec, hop, win, n_fft, length=len(signal)).numpy()
    np.testing.assert_allclose(ours, signal, atol=1e-5)
    ref = librosa.istft(spec.numpy().T, hop_length=hop, win_length=win, n_fft=n_fft)
    unspecified = spectral.istft(spec, hop, win, n_fft).numpy()
    assert unspecified.shape == ref.shape
    np.testing.assert_allclose(unspecified, ref, atol=1e-5)


def test_fix_length_pads_and_trims():
    y = np.arange(10, dtype=np.float32)
    assert spectral.fix_length(y, 4).numpy().tolist() == [0, 1, 2, 3]
    assert spectral.fix_length(y, 12).numpy().tolist()[-3:] == [9, 0, 0]


@pytest.mark.parametrize("htk,norm", [(False, "slaney"), (True, None)])
def test_mel_db_matches_librosa(signal, htk, norm):
    kwargs = dict(sr=SR, n_fft=1024, hop_length=256, n_mels=80, fmin=30.0, fmax=8000.0,
                  htk=htk, norm=norm)
    ours = spectral.power_to_db(spectral.melspectrogram(signal, **kwargs)).numpy().T
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=signal, **kwargs), top_db=80.0)
    above_floor = ref > ref.max() - 80.0 + 1e-3
    assert np.max(np.abs(ours - ref)[above_floor]) < 0.01
    assert np.max(np.abs(ours - ref)) < 0.01


def test_db_conversions_match_librosa():
    S = np.abs(np.random.default_rng(1).standard_normal((30, 40))).astype(np.float32) * 3
    np.testing.assert_allclose(spectral.power_to_db(S, ref=2.0, top_db=40).numpy(),
                               librosa.power_to_db(S, ref=2.0, top_db=40), atol=1e-3)
    np.testing.assert_allclose(spectral.amplitude_to_db(S).numpy(),
                               librosa.amplitude_to_db(S), atol=1e-3)
    np.testing.assert_allclose(spectral.db_to_power(spectral.power_to_db(S, top_db=None)),
                               np.maximum(S, 1e-10), rtol=1e-4)
    np.testing.assert_allclose(spectral.db_to_amplitude(librosa.amplitude_to_db(S, top_db=None)),
                               S, rtol=1e-4, atol=1e-5)


def test_power_to_db_floors_per_example_not_per_batch():
    loud = np.full((1, 4, 4), 1.0, np.float32)
    quiet = np.full((1, 4, 4), 1e-6, np.float32)
    quiet[0, 0, 0] = 1e-5
    out = spectral.power_to_db(np.concatenate([loud, quiet]), top_db=5.0).numpy()
    assert out[1].min() == pytest.approx(-55.0, abs=1e-3)  # its own peak (-50 dB) minus 5


def test_mfcc_matches_librosa_and_inverts(signal):
    ours = spectral.mfcc(signal, sr=SR, n_mfcc=20, n_fft=2048, hop_length=512).numpy().T
    ref = librosa.feature.mfcc(y=signal, sr=SR, n_mfcc=20, n_fft=2048, hop_length=512)
    assert np.max(np.abs(ours - ref)) < 1e-3 * np.abs(ref).max()
    mel_db = spectral.power_to_db(spectral.melspectrogram(signal, sr=SR, n_mels=40))
    full = spectral.mfcc(S=mel_db, n_mfcc=40)
    np.testing.assert_allclose(spectral.mfcc_to_mel_db(full, n_mels=40), mel_db, atol=1e-3)
    with pytest.raises(ValueError):
        spectral.mfcc_to_mel_db(full, n_mels=20)


def test_mel_to_linear_recovers_spectral_envelope():
    y = tone(1.0, SR, freqs=(300.0, 2000.0))
    S = spectral.magnitude(spectral.stft(y, 1024, 256))
    M = spectral.melspectrogram(S=S, sr=SR, n_fft=1024, n_mels=128, power=1.0)
    back = spectral.mel_to_linear(M, sr=SR, n_fft=1024).numpy()
    assert back.shape == S.shape and back.min() >= 0
    fb = spectral.mel_filterbank(SR, 1024, 128)
    # Projecting the estimate again gives (nearly) the same mel spectrogram.
    np.testing.assert_allclose(back @ fb, M.numpy(), atol=2e-2 * M.numpy().max())
    ref = librosa.feature.inverse.mel_to_stft(M.numpy().T, sr=SR, n_fft=1024, power=1.0)
    peaks = np.argmax(back.mean(0)), np.argmax(ref.mean(1))
    assert abs(int(peaks[0]) - int(peaks[1])) <= 2


def test_mel_filterbank_variants():
    slaney = spectral.mel_filterbank(16000, 1152, 192)
    htk = spectral.mel_filterbank(16000, 1152, 192, htk=True, norm=None)
    assert slaney.shape == htk.shape == (577, 192)
    assert htk.max() == pytest.approx(1.0, abs=1e-3)
    np.testing.assert_allclose(htk.T, librosa.filters.mel(sr=16000, n_fft=1152, n_mels=192,
                                                          htk=True, norm=None), atol=1e-7)


def test_mu_law_matches_librosa_and_round_trips():
    x = np.linspace(-1, 1, 1001).astype(np.float32)
    np.testing.assert_allclose(spectral.mu_law_encode(x), librosa.mu_compress(x, quantize=False),
                               atol=1e-6)
    codes = spectral.mu_law_encode(x, quantize=True).numpy()
    assert codes.min() == 0 and codes.max() == 255
    np.testing.assert_allclose(spectral.mu_law_decode(spectral.mu_law_encode(x)), x, atol=1e-5)
    # Decoded codes are within half a quantisation step of x in the companded domain.
    step_error = spectral.mu_law_encode(spectral.mu_law_decode(codes)) - spectral.mu_law_encode(x)
    assert np.max(np.abs(step_error.numpy())) <= 1.0 / 255 + 1e-6


def test_log1p_round_trip(signal):
    spec = spectral.stft(signal, 512, 128)
    np.testing.assert_allclose(spectral.inverse_log1p(spectral.log1p_magnitude(spec)),
                               np.abs(spec.numpy()), rtol=1e-4, atol=1e-5)


def test_invalid_framing_is_rejected():
    with pytest.raises(ValueError, match="win_length"):
        spectral.stft(np.zeros(4096, np.float32), n_fft=512, win_length=1024)


def test_builtin_istft_matches_istft(signal):
    spec = spectral.stft(signal, 512, 128)
    import tensorflow as tf
    real = spectral.istft_real(tf.math.real(spec), tf.math.imag(spec), 128, 512, len(signal))
    np.testing.assert_allclose(real, spectral.istft(spec, 128, n_fft=512, length=len(signal)),
                               atol=1e-5)
