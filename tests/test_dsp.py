"""The DSP core (tfstyle.dsp) against NumPy, librosa and hand-computed values."""
import os

import librosa
import numpy as np
import pytest

from tfstyle import dsp, metrics

SR = 22050
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def sine(freq, seconds=1.0, amp=0.5, sr=SR):
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def cents(a, b):
    return 1200 * np.abs(np.log2(np.asarray(a) / np.asarray(b)))


# Pitch -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("freq", [82.4, 220.0, 440.0, 1046.5])
def test_yin_finds_the_pitch_of_sines_like_librosa(freq):
    y = sine(freq)
    f0, periodicity = (t.numpy()[0] for t in dsp.yin(y[None], SR, hop_length=256))
    ref = librosa.yin(y, fmin=50, fmax=2000, sr=SR, frame_length=2048, hop_length=256,
                      trough_threshold=0.15)
    assert f0.shape == ref.shape == (1 + len(y) // 256,)
    inner = slice(8, -8)   # frames whose window lies inside the tone
    # Parabolic interpolation of d' itself: within a few cents, at least as close as librosa's.
    assert np.median(cents(f0[inner], freq)) < 3
    assert np.median(cents(f0[inner], freq)) <= np.median(cents(ref[inner], freq)) + 0.5
    assert periodicity[inner].min() > 0.9


def test_yin_calls_silence_and_noise_aperiodic():
    silence = np.zeros(SR, np.float32)
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, SR).astype(np.float32)
    _, p_silence = dsp.yin(silence[None], SR)
    _, p_noise = dsp.yin(noise[None], SR)
    assert np.all(p_silence.numpy() == 0.0)
    assert np.median(p_noise.numpy()) < 0.5


def test_yin_tracks_a_rendered_melody_like_pyin():
    y, _ = librosa.load(os.path.join(EXAMPLES, "piano_melody.wav"), sr=SR)
    f0, periodicity = (t.numpy()[0] for t in dsp.yin(y[None], SR, hop_length=512))
    ref, voiced, _ = librosa.pyin(y, fmin=50, fmax=2000, sr=SR, frame_length=2048,
                                  hop_length=512)
    ours = periodicity >= 0.8
    both = ours & voiced
    assert both.sum() > 0.5 * voiced.sum()
    assert np.median(cents(f0[both], ref[both])) < 10
    assert np.mean(ours == voiced) > 0.75


def test_yin_batches_and_runs_in_a_tf_function():
    import tensorflow as tf

    y = np.stack([sine(220.0), sine(330.0)])
    f0 = tf.function(lambda x: dsp.yin(x, SR)[0])(tf.constant(y)).numpy()
    assert f0.shape[0] == 2
    assert np.median(cents(f0[1, 4:-4], 330.0)) < 3


# Loudness --------------------------------------------------------------------------------------

def test_loudness_is_a_weighted_power_in_db():
    quiet = dsp.loudness(sine(1000.0, amp=0.5)[None], SR).numpy()[0][4:-4]
    half = dsp.loudness(sine(1000.0, amp=0.25)[None], SR).numpy()[0][4:-4]
    # A-weighting is 0 dB at 1 kHz; a sine of amplitude 0.5 has mean square 1/8.
    np.testing.assert_allclose(quiet, 10 * np.log10(0.125), atol=0.05)
    np.testing.assert_allclose(quiet - half, 20 * np.log10(2), atol=0.01)
    low = dsp.loudness(sine(100.0, amp=0.5)[None], SR).numpy()[0][4:-4]
    assert np.median(quiet - low) == pytest.approx(19.1, abs=0.3)   # A(100 Hz) = -19.1 dB


def test_loudness_matches_the_numpy_measure():
    y, _ = librosa.load(os.path.join(EXAMPLES, "violin_phrase.wav"), sr=SR)
    ours = dsp.loudness(y[None], SR).numpy()[0]
    ref = metrics.loudness(y, SR)
    sounding = ref > ref.max() - 60
    np.testing.assert_allclose(ours[sounding], ref[sounding], atol=0.01)


# Synthesis -------------------------------------------------------------------------------------

def test_upsample_interpolates_linearly_between_frame_centres():
    frames = np.array([[[0.0], [4.0], [2.0]]], np.float32)
    out = dsp.upsample(frames, 4).numpy()[0, :, 0]
    np.testing.assert_allclose(out, [0, 1, 2, 3, 4, 3.5, 3, 2.5, 2, 2, 2, 2])


def test_harmonic_synth_is_a_sum_of_sines_silenced_above_nyquist():
    frames, hop = 50, 256
    n = frames * hop
    t = np.arange(n) / SR
    f0 = np.full((1, frames), 4000.0, np.float32)
    amps = np.zeros((1, frames, 3), np.float32)
    amps[..., 0], amps[..., 1], amps[..., 2] = 0.5, 0.25, 0.125   # 4, 8 and 12 kHz
    y, phase = dsp.harmonic_synth(f0, amps, SR, hop)
    expected = 0.5 * np.sin(2 * np.pi * 4000 * t) + 0.25 * np.sin(2 * np.pi * 8000 * t)
    np.testing.assert_allclose(y.numpy()[0], expected, atol=2e-3)
    assert phase.numpy()[0] == pytest.approx((4000 * n / SR) % 1, abs=1e-3)


def test_harmonic_phase_is_continuous_across_blocks_and_exact_over_minutes():
    frames, hop = 600, 256
    rng = np.random.default_rng(0)
    f0 = np.repeat(rng.uniform(200, 900, frames // 50), 50)[None].astype(np.float32)
    amps = np.ones((1, frames, 8), np.float32) / 8
    whole, _ = dsp.harmonic_synth(f0, amps, SR, hop)
    # A block is rendered with one frame of look-ahead (its last hop ramps toward the next
    # block's first frame) and hands its phase on: the blocks join into the same signal.
    first, phase = dsp.harmonic_synth(f0[:, :301], amps[:, :301], SR, hop, n_samples=300 * hop)
    second, _ = dsp.harmonic_synth(f0[:, 300:], amps[:, 300:], SR, hop, initial_phase=phase)
    joined = np.concatenate([first.numpy()[0], second.numpy()[0]])
    np.testing.assert_allclose(joined, whole.numpy()[0], atol=2e-3)
    # 3 minutes of a 1 kHz tone: the 8th harmonic's phase does not drift (float64 reference
    # at the float32 step of 1000/22050 cycles per sample, which is what the graph adds up).
    minutes = 3 * 60 * SR // hop
    f0 = np.full((1, minutes), 1000.0, np.float32)
    amps = np.zeros((1, minutes, 8), np.float32)
    amps[..., 7] = 1.0
    y, _ = dsp.harmonic_synth(f0, amps, SR, hop)
    tail = np.arange(minutes * hop - 2000, minutes * hop)
    step = np.float64(np.float32(1000.0) / np.float32(SR))
    np.testing.assert_allclose(y.numpy()[0][tail], np.sin(2 * np.pi * 8 * ((tail * step) % 1)),
                               atol=5e-3)


def test_filtered_noise_with_a_flat_response_is_the_noise_and_a_lowpass_filters_it():
    frames, hop = 40, 256
    noise = np.random.default_rng(1).uniform(-1, 1, (1, frames * hop)).astype(np.float32)
    flat = dsp.filtered_noise(np.ones((1, frames, 65), np.float32), hop, noise=noise)
    np.testing.assert_allclose(flat.numpy(), noise, atol=1e-5)
    lowpass = np.zeros((1, frames, 65), np.float32)
    lowpass[..., :16] = 1.0                    # bands up to a quarter of Nyquist
    out = dsp.filtered_noise(lowpass, hop, noise=noise).numpy()[0]
    spectrum = np.abs(np.fft.rfft(out)) ** 2
    cut = len(spectrum) // 4
    assert spectrum[cut + cut // 4:].sum() < 0.01 * spectrum[:cut].sum()
    fresh = dsp.filtered_noise(np.ones((2, frames, 65), np.float32), hop, seed=(3, 4)).numpy()
    assert fresh.shape == (2, frames * hop) and not np.allclose(fresh[0], fresh[1])


def test_fft_convolve_matches_numpy():
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((2, 1000)), rng.standard_normal((1, 77))
    full = dsp.fft_convolve(x, h, full=True).numpy()
    for i in range(2):
        np.testing.assert_allclose(full[i], np.convolve(x[i], h[0]), atol=1e-4)
    np.testing.assert_allclose(dsp.fft_convolve(x, h).numpy(), full[:, :1000], atol=1e-6)


def test_multiscale_spectral_loss_against_numpy():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((1, 4096)).astype(np.float32)
    b = 0.5 * a
    assert float(dsp.multiscale_spectral_loss(a, a)) == pytest.approx(0.0, abs=1e-6)
    expected = 0.0
    for n_fft in (1024, 256):
        sa = np.abs(librosa.stft(a[0], n_fft=n_fft, hop_length=n_fft // 4))
        sb = np.abs(librosa.stft(b[0], n_fft=n_fft, hop_length=n_fft // 4))
        expected += np.mean(np.abs(sa - sb)) + np.mean(np.abs(np.log(sa + 1e-5) -
                                                              np.log(sb + 1e-5)))
    got = float(dsp.multiscale_spectral_loss(a, b, fft_sizes=(1024, 256)))
    assert got == pytest.approx(expected, rel=1e-3)
    assert float(dsp.multiscale_spectral_loss(a, 0.9 * a)) < float(
        dsp.multiscale_spectral_loss(a, b))
