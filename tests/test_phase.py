"""Griffin-Lim: converges at least as well as librosa's, and honours its initial phase."""
import librosa
import numpy as np
import pytest

from conftest import melody
from tfstyle import phase, spectral

SR = 16000
N_FFT, HOP = 512, 128


@pytest.fixture(scope="module")
def clip():
    return melody([262, 330, 392, 523, 392, 330], sr=SR)


def test_matches_or_beats_librosa(clip):
    S = np.abs(librosa.stft(clip, n_fft=N_FFT, hop_length=HOP))
    kw = dict(n_iter=32, hop_length=HOP, n_fft=N_FFT, momentum=0.99, length=len(clip))
    ref = librosa.griffinlim(S, init=None, **kw)
    ours = phase.griffin_lim(S.T, init="zeros", **kw).numpy()
    sc_ref = phase.spectral_convergence(S.T, ref, N_FFT, HOP)
    sc_ours = phase.spectral_convergence(S.T, ours, N_FFT, HOP)
    assert ours.shape == clip.shape
    assert sc_ours <= sc_ref * 1.01
    assert sc_ours < 0.3


def test_converges_with_iterations_and_random_init_is_seeded(clip):
    S = np.abs(spectral.stft(clip, N_FFT, HOP).numpy())
    sc = [phase.spectral_convergence(
        S, phase.griffin_lim(S, n_iter=n, hop_length=HOP, length=len(clip)), N_FFT, HOP)
        for n in (0, 8, 32)]
    assert sc[0] > sc[1] > sc[2]
    a = phase.griffin_lim(S, n_iter=4, hop_length=HOP, seed=3).numpy()
    b = phase.griffin_lim(S, n_iter=4, hop_length=HOP, seed=3).numpy()
    c = phase.griffin_lim(S, n_iter=4, hop_length=HOP, seed=4).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_true_phase_init_reconstructs_the_signal(clip):
    spec = spectral.stft(clip, N_FFT, HOP)
    y = phase.griffin_lim(np.abs(spec.numpy()), n_iter=0, hop_length=HOP, init=spec,
                          length=len(clip)).numpy()
    np.testing.assert_allclose(y, clip, atol=1e-4)
    y2 = phase.griffin_lim(np.abs(spec.numpy()), n_iter=0, hop_length=HOP,
                           init=np.angle(spec.numpy()), length=len(clip)).numpy()
    np.testing.assert_allclose(y2, clip, atol=1e-4)


def test_bad_init_is_rejected(clip):
    S = np.abs(spectral.stft(clip, N_FFT, HOP).numpy())
    with pytest.raises(ValueError, match="init"):
        phase.griffin_lim(S, init="content")
    with pytest.raises(ValueError, match="shape"):
        phase.griffin_lim(S, init=np.zeros((3, 3)))


def test_builtin_griffin_lim_matches_the_tf_function_one(clip):
    S = np.abs(spectral.stft(clip, N_FFT, HOP).numpy())
    start = np.random.default_rng(0).uniform(0, 2 * np.pi, S.shape).astype(np.float32)
    ours = phase.griffin_lim_builtin(S, start, 6, HOP, N_FFT, len(clip)).numpy()
    ref = phase.griffin_lim(S, 6, HOP, n_fft=N_FFT, length=len(clip), init=start).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_calls_of_any_rank_one_after_another(clip):
    """The traced loop is shared: magnitudes of other ranks in turn, for the same output
    length (which would relax its trace to an unknown rank), each give their waveform."""
    S = np.abs(spectral.stft(clip, N_FFT, HOP).numpy())
    for magnitude in (S[None], S, S[None, None], S[None], S):
        y = phase.griffin_lim(magnitude, n_iter=2, hop_length=HOP, length=len(clip)).numpy()
        assert y.shape == magnitude.shape[:-2] + clip.shape
