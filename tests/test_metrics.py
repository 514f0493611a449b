"""Objective measures against hand-computed values, the baselines, and `tfstyle evaluate`."""
import json

import numpy as np
import pytest

from conftest import melody, tone
from tfstyle import audio, baselines, metrics
from tfstyle.cli import main

SR = 16000


def sine(freq, seconds=1.0, amp=0.5, sr=SR):
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def test_offset_free_rms_by_hand():
    # Differences 2, 2, 0, 0 dB: mean 1, deviations ±1, so RMS 1; a constant offset gives 0.
    assert metrics.offset_free_rms([[2.0, 0.0], [2.0, 0.0]]) == pytest.approx(1.0)
    assert metrics.offset_free_rms(np.full((4, 3), 7.5)) == pytest.approx(0.0)


def test_reference_measures():
    x = melody([262, 330, 392, 523], sr=SR)
    assert metrics.mel_distance(0.25 * x, x, SR) < 1e-3          # gain is not a timbre error
    assert metrics.spectral_convergence(0.5 * x, x) == pytest.approx(0.5, abs=1e-5)
    assert metrics.spectral_convergence(x, x) == pytest.approx(0.0, abs=1e-6)
    brighter = melody([262, 330, 392, 523], sr=SR, harmonics=(1.0,) * 6)
    assert metrics.mel_distance(brighter, x, SR) > 1.0


def test_f0_agreement_by_hand():
    # Content voiced in frames 0, 1, 3. Frame 0 agrees; frame 1 is 101 cents off (more than
    # 50); frame 3 is unvoiced in the output. Frame 2 is unvoiced in the content: ignored.
    content = np.array([100.0, 100.0, np.nan, 200.0])
    output = np.array([100.0, 106.0, 300.0, np.nan])
    assert metrics.f0_agreement_from(output, content) == pytest.approx(1 / 3)
    assert metrics.f0_agreement(sine(440), sine(440), SR) == pytest.approx(1.0, abs=0.05)
    assert metrics.f0_agreement(sine(444), sine(440), SR) > 0.9       # 16 cents: same note
    assert metrics.f0_agreement(sine(466.16), sine(440), SR) < 0.1    # one semitone off


def test_loudness_by_hand():
    # A 1 kHz sine of amplitude 0.5 has mean square 0.125, i.e. -9.03 dB; A-weighting is 0 dB
    # at 1 kHz. Halving the amplitude is exactly 6.02 dB quieter in every frame.
    x = sine(1000, amp=0.5)
    inner = metrics.loudness(x, SR)[3:-3]                 # away from the zero-padded edges
    np.testing.assert_allclose(inner, 10 * np.log10(0.125), atol=0.05)
    assert metrics.loudness_difference(0.5 * x, x, SR) == pytest.approx(20 * np.log10(2),
                                                                         abs=0.01)


def test_style_distance():
    x = melody([262, 330, 392], sr=SR)
    other = melody([262, 330, 392], sr=SR, harmonics=(0.1, 1.0, 0.9, 0.8))
    assert metrics.style_distance(x, x, SR) == pytest.approx(0.0, abs=1e-9)
    assert metrics.style_distance(3 * x, x, SR) < 1e-3             # level-normalised
    assert metrics.style_distance(other, x, SR) > 0.05
    # The Gram under the fixed network is symmetric and the network does not change per call.
    g = metrics.gram(x, SR)
    np.testing.assert_allclose(g, g.T, rtol=1e-5)
    np.testing.assert_array_equal(g, metrics.gram(x, SR))


def test_evaluate_reports_what_the_signals_allow():
    x = tone(1.0, SR, (220.0, 440.0))
    assert set(metrics.evaluate(x, SR, content=x)) == {
        "chroma_correlation", "f0_agreement", "loudness_difference", "mfcc_correlation"}
    every = metrics.evaluate(x, SR, content=x, style=x, reference=x)
    assert set(every) == set(metrics.MEASURES)
    assert every["chroma_correlation"] == pytest.approx(1.0)
    assert every["mel_distance"] == pytest.approx(0.0, abs=1e-6)


def test_smooth_octaves_by_hand():
    np.testing.assert_allclose(baselines.smooth_octaves(np.full(64, 3.0)), 3.0)
    impulse = np.zeros(64)
    impulse[40] = 1.0
    smooth = baselines.smooth_octaves(impulse)
    # Bin 40 averages bins floor(40/2^(1/6)) = 35 to ceil(40·2^(1/6)) = 45: 11 bins. Bin 30's
    # window ends at 34 and bin 50's starts at 44, so neither sees the impulse.
    assert smooth[40] == pytest.approx(1 / 11)
    assert smooth[30] == 0.0 and smooth[50] == 0.0


def test_baselines():
    content = melody([262, 330, 392, 440], sr=SR, harmonics=(1.0, 0.1))
    style = melody([330, 294, 262], sr=SR, harmonics=(0.2, 1.0, 0.8, 0.6))
    same = baselines.identity(content, style, SR)
    np.testing.assert_array_equal(same, content)
    eq = baselines.envelope_match(content, style, SR)
    assert eq.shape == content.shape and eq.dtype == np.float32
    before = metrics.longterm_mel_distance(content, style, SR)
    assert metrics.longterm_mel_distance(eq, style, SR) < 0.5 * before
    assert metrics.chroma_correlation(eq, content, SR) > 0.8         # the notes are untouched
    # At the content's level, unless that would put a peak above -1 dBFS.
    rms, target = np.sqrt(np.mean(eq ** 2)), np.sqrt(np.mean(content ** 2))
    assert np.max(np.abs(eq)) <= audio.PEAK + 1e-6
    assert rms == pytest.approx(target, rel=1e-3) or np.max(np.abs(eq)) == pytest.approx(
        audio.PEAK) and rms < target


def test_evaluate_cli(wav, capsys):
    content = wav("c.wav", melody([262, 330, 392, 440], sr=SR))
    out = wav("o.wav", 0.5 * melody([262, 330, 392, 440], sr=SR))
    assert main(["evaluate", out, "--content", content, "--reference", content, "--sr",
                 str(SR)]) == 0
    table = capsys.readouterr().out
    assert "loudness_difference" in table and "6.02" in table and "lower" in table
    assert main(["evaluate", out, "--content", content, "--json", "--sr", str(SR)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["metrics"]["chroma_correlation"] == pytest.approx(1.0, abs=1e-4)
    assert report["measures"]["f0_agreement"] == {"against": "content", "unit": "share",
                                                  "better": "higher"}
    assert main(["evaluate", out, "--content", content, "--style", out, "--baselines",
                 "--sr", str(SR)]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["measure", "output", "identity", "envelope"]
    identity_loudness = next(r for r in rows if r.startswith("loudness_difference")).split()[2]
    assert float(identity_loudness) == 0.0                   # the content scored against itself
    assert main(["evaluate", out, "--content", content, "--baselines"]) == 2
    assert "--baselines needs --style" in capsys.readouterr().err
    assert main(["evaluate", out, "--content", out + ".missing"]) == 2
    assert capsys.readouterr().err == f"tfstyle: error: {out}.missing: no such file\n"


def test_chroma_over_sounding_frames_ignores_what_rests_hold():
    """Two renderings of one note followed by a rest with different faint noise: over every
    frame the rest's chroma (scaled to a peak of 1 per frame) is noise against noise; over
    the content's sounding frames only the note counts. A wrong note still scores low."""
    t = np.arange(2 * SR) / SR
    note = np.sin(2 * np.pi * 440 * t) * (t < 1.0)
    content, same = (note + 1e-4 * np.random.default_rng(s).standard_normal(len(t))
                     for s in (0, 1))
    wrong = np.sin(2 * np.pi * 440 * 2 ** (5 / 12) * t) * (t < 1.0)
    every = metrics.chroma_correlation(same, content, SR)
    sounding = metrics.chroma_correlation(same, content, SR, active_db=metrics.ACTIVE_DB)
    assert sounding > 0.99 and every < sounding - 0.01
    assert metrics.chroma_correlation(wrong, content, SR, active_db=metrics.ACTIVE_DB) < 0.5
