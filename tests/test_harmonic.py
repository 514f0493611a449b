"""Harmonic-plus-noise transfer: controls, the decoder's config, the one-shot fit, odd input."""
import dataclasses

import numpy as np
import pytest

import tfstyle
from tfstyle import dispatch, dsp
from tfstyle.cli import main
from tfstyle.errors import TfstyleError
from tfstyle.harmonic import controls as ctl
from tfstyle.harmonic import performance
from tfstyle.harmonic.decoder import HarmonicDecoder, scale_f0, scale_loudness
from tfstyle.harmonic.performance import perform

SR = 16000
HOP = 128
# A decoder and fit small enough for the test suite; the method is the same.
TINY = dict(method="harmonic", start="scratch", sr=SR, hop_length=HOP, harmonics=16, noise_bands=17, units=16,
            steps=40, learning_rate=3e-3, tol=0.0, reverb_seconds=0.02, loudness="offset")


def notes(freqs, seconds=0.4, sr=SR, harmonics=(1.0, 0.6, 0.3, 0.2), gap=0.0):
    """A melody of sustained harmonic notes, with `gap` seconds of silence after each."""
    t = np.arange(int(seconds * sr)) / sr
    envelope = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    parts = []
    for f in freqs:
        note = sum(a * np.sin(2 * np.pi * f * (k + 1) * t) for k, a in enumerate(harmonics))
        parts += [0.3 * envelope * note / sum(harmonics), np.zeros(int(gap * sr))]
    return np.concatenate(parts).astype(np.float32)


def median_cents(y, freq):
    f0, periodicity = (t.numpy()[0] for t in dsp.yin(y[None], SR, hop_length=HOP))
    voiced = periodicity > 0.8
    return float(np.median(1200 * np.abs(np.log2(f0[voiced] / freq)))), voiced.mean()


def test_controls_track_pitch_and_voicing():
    y = notes([220.0, 330.0], gap=0.3)
    c = ctl.analyse(y, SR, HOP)
    assert len(c) == 1 + len(y) // HOP
    # Mid-note frames are voiced at the note's pitch; the gaps are not voiced.
    first, gap = int(0.2 * SR / HOP), int(0.55 * SR / HOP)
    assert c.voiced[first] and not c.voiced[gap]
    assert abs(1200 * np.log2(c.f0[first] / 220.0)) < 10
    # Unvoiced frames carry a pitch between the notes' (the decoder sees no jumps to 0 Hz).
    assert 200 < c.f0[gap] < 350
    silent = ctl.analyse(np.zeros(SR, np.float32), SR, HOP)
    assert not silent.voiced.any() and np.all(silent.f0 == 220.0)


def test_a_note_start_at_a_subharmonic_of_the_note_takes_its_pitch():
    lead = ctl.onset_frames(256)
    assert lead == 4     # a 2048-sample window reaches 4 hops of 256 before its centre
    note = np.full(12, 310.0, np.float32)
    # A run beginning a twelfth and an octave low, a legato note an octave low held longer
    # than the onset, one at a non-harmonic interval, and a run too short to judge.
    f0 = np.concatenate([[0, 0], [103.4, 155.1], note, [0], [155.0] * 6, note, [0],
                         [233.0, 233.0], note, [0], [103.4, 310.0, 310.0]]).astype(np.float32)
    voiced = f0 > 0
    settled = ctl.settle_onsets(f0, voiced, lead)
    np.testing.assert_allclose(settled[2:4], 310.0)
    changed = np.flatnonzero(settled != f0)
    np.testing.assert_array_equal(changed, [2, 3])


def test_plucked_notes_ringing_into_the_next_give_no_subharmonic_slips():
    sr, step = 22050, 0.4
    line = [622.25, 311.13, 415.3, 207.65, 622.25, 311.13, 466.16, 155.56]
    t = np.arange(int((step + 0.3) * sr)) / sr
    # Each note decays, and its release rings for tens of ms under the next one's attack.
    envelope = np.exp(-3.0 * t) * np.exp(-np.maximum(t - step, 0.0) / 0.06)
    y = np.zeros(int((len(line) * step + 0.3) * sr))
    for i, f in enumerate(line):
        start = int(i * step * sr)
        y[start:start + len(t)] += envelope * sum(0.6 ** k * np.sin(2 * np.pi * f * (k + 1) * t)
                                                  for k in range(8))
    c = ctl.analyse((0.5 * y / np.abs(y).max()).astype(np.float32), sr, 256)
    frames = np.flatnonzero(c.voiced)
    playing = np.minimum((frames * 256 / sr / step).astype(int), len(line) - 1)
    # Without settle_onsets, 3 frames here sit a twelfth or two octaves below their note.
    near = [np.abs(1200 * np.log2(c.f0[frames] / np.take(line, np.maximum(playing - back, 0))))
            < 50 for back in (0, 1)]     # a frame's window may still hold the previous note
    assert len(frames) > 250 and np.all(near[0] | near[1])


def _controls_at(midi):
    """Controls whose every frame is voiced at the given MIDI pitches."""
    f0 = (440.0 * 2.0 ** ((np.asarray(midi, np.float32) - 69.0) / 12.0)).astype(np.float32)
    ones = np.ones_like(f0)
    return ctl.Controls(f0, ones, ones - 30.0, ones.astype(bool), ones)


def test_tuning_reads_a_clip_off_the_grid_and_retune_moves_the_content_onto_the_style():
    sharp = _controls_at([60.2, 62.2, 64.25, 65.15, 67.2])
    assert ctl.tuning(sharp) == pytest.approx(20.0, abs=1.0)
    # Past 50 cents a note is nearer the next semitone: 60 cents sharp reads 40 flat, and a
    # melody straddling that edge averages on the circle (45 sharp and 60 sharp: 47.5 flat),
    # not on the line (2.5 sharp).
    assert ctl.tuning(_controls_at([60.6, 62.6])) == pytest.approx(-40.0, abs=1e-3)
    assert ctl.tuning(_controls_at([60.45, 61.6])) == pytest.approx(-47.5, abs=0.1)
    flat = _controls_at([67.9, 69.9, 71.9])
    assert ctl.retune(sharp, flat) == pytest.approx(-0.30, abs=0.01)
    assert ctl.retune(flat, sharp) == pytest.approx(0.30, abs=0.01)
    # Never more than half a semitone: 45 cents sharp onto 45 flat is 10 cents up.
    assert ctl.retune(_controls_at([60.45]), _controls_at([69.55])) == pytest.approx(
        0.10, abs=1e-3)
    stored = ctl.Profile(50.0, 70.0, list(np.linspace(-60, -10, 101)), 0.0)   # no tuning
    assert ctl.retune(sharp, stored) == 0.0
    assert performance.semitones("auto", sharp, flat) == pytest.approx(
        ctl.octave_shift(sharp, flat) - 0.30, abs=0.01)
    assert performance.semitones("0", sharp, flat) == 0.0


def test_tuning_on_graph_is_the_numpy_one():
    import tensorflow as tf

    from tfstyle.converters.harmonic import graph

    rng = np.random.default_rng(0)
    midi = rng.uniform(50, 80, 200).round() + rng.normal(0.17, 0.08, 200)
    c = _controls_at(midi)
    c.voiced[::3] = False
    got = float(graph.tuning(tf.constant(c.f0), tf.constant(c.voiced)))
    assert got == pytest.approx(ctl.tuning(c), abs=0.05)
    profile = ctl.Profile(50.0, 70.0, list(np.linspace(-60, -10, 101)), 0.0, -12.0)
    assert float(graph.retune(tf.constant(c.f0), tf.constant(c.voiced), profile)) == \
        pytest.approx(ctl.retune(c, profile), abs=1e-3)


def test_octave_shift_moves_only_a_melody_outside_the_style_range():
    low = ctl.analyse(notes([65.4, 73.4]), SR, HOP)
    mid = ctl.analyse(notes([440.0, 494.0]), SR, HOP)
    high = ctl.analyse(notes([880.0, 988.0, 1046.5]), SR, HOP)
    for content, style in ((low, mid), (high, low), (low, high)):
        shift = ctl.octave_shift(content, style)
        notes_ = ctl.hz_to_midi(style.f0[style.voiced])
        lo, hi = ctl.playable_range(np.percentile(notes_, 5), np.percentile(notes_, 95))
        # Three-note styles: each range is widened to two octaves before the margin.
        assert hi - lo == pytest.approx(ctl.MIN_RANGE + 2 * ctl.RANGE_MARGIN)
        moved = ctl.median_midi(content) + shift
        # The fewest whole octaves that land the median in the style's widened range.
        assert shift % 12 == 0 and shift != 0 and lo <= moved <= hi
        assert not lo <= moved - np.sign(shift) * 12 <= hi
    assert ctl.octave_shift(low, mid) == 12
    assert ctl.octave_shift(mid, high) == 0          # within an octave of the style's range
    # 13 semitones above a style that keeps to two notes, yet well inside an instrument's
    # two octaves around them: left where it is.
    assert ctl.octave_shift(mid, ctl.analyse(notes([196.0, 220.0]), SR, HOP)) == 0


def test_loudness_mapping_gives_the_content_the_style_distribution():
    content = ctl.analyse(notes([220.0, 247.0, 262.0]), SR, HOP)
    style = ctl.analyse(4.0 * notes([330.0, 392.0]), SR, HOP)     # 12 dB louder
    mapped = ctl.map_loudness(content, style)
    v = content.voiced
    assert np.median(mapped[v]) == pytest.approx(np.median(style.loudness[style.voiced]), abs=0.5)
    # Order is kept: a louder content frame stays louder.
    order = np.argsort(content.loudness[v])
    assert np.all(np.diff(mapped[v][order]) >= -1e-4)


def test_offset_loudness_keeps_the_dynamics_and_moves_the_level():
    """A crescendo of 24 dB stays 24 dB against a style whose notes span 6 dB: every frame moves
    by one offset, which puts the content's 75th percentile of voiced loudness on the style's;
    quantile mapping squeezes the same crescendo into the style's span."""
    soft, loud = notes([220.0, 247.0]), notes([262.0, 294.0])
    content = ctl.analyse(np.concatenate([0.1 * soft, 1.6 * loud]), SR, HOP)
    style = ctl.analyse(np.concatenate([notes([330.0]), 2.0 * notes([392.0])]), SR, HOP)
    moved = ctl.offset_loudness(content, style)
    np.testing.assert_allclose(moved - content.loudness, (moved - content.loudness)[0],
                               atol=1e-4)
    assert np.quantile(moved[content.voiced], 0.75) == pytest.approx(
        np.quantile(style.loudness[style.voiced], 0.75), abs=0.5)

    def span(x):
        return np.quantile(x[content.voiced], 0.9) - np.quantile(x[content.voiced], 0.1)

    assert span(moved) == pytest.approx(span(content.loudness), abs=1e-3) and span(moved) > 18
    assert span(ctl.map_loudness(content, style)) < 0.6 * span(content.loudness)
    played, _, _ = perform(content, style, HOP / SR, loudness="offset")
    np.testing.assert_array_equal(played.loudness, moved)
    with pytest.raises(TfstyleError, match="loudness must be one of offset, quantile"):
        perform(content, style, HOP / SR, loudness="loud")


def test_decoder_config_round_trips_and_shapes(tmp_path):
    import keras

    decoder = HarmonicDecoder(n_harmonics=12, n_noise_bands=9, units=8, gru_units=8)
    config = decoder.get_config()
    clone = HarmonicDecoder.from_config(config)
    assert clone.get_config() == config
    x = {"f0_scaled": np.full((2, 5, 1), 0.5, np.float32),
         "loudness_scaled": np.full((2, 5, 1), 0.3, np.float32),
         "state": decoder.initial_state(2)}
    out = decoder(x)
    assert out["amplitude"].shape == (2, 5, 1)
    assert out["harmonic_distribution"].shape == (2, 5, 12)
    assert out["noise_magnitudes"].shape == (2, 5, 9)
    assert out["state"].shape == (2, 8)
    assert all(float(np.min(out[k])) > 0 for k in ("amplitude", "harmonic_distribution",
                                                  "noise_magnitudes"))
    decoder.save(tmp_path / "decoder.keras")
    loaded = keras.saving.load_model(tmp_path / "decoder.keras")
    np.testing.assert_allclose(loaded(x)["amplitude"], out["amplitude"], rtol=1e-5)


def test_one_shot_fit_lowers_the_loss_and_keeps_the_content_pitch():
    content = notes([262.0, 262.0, 262.0], seconds=0.5)
    style = notes([196.0, 247.0, 294.0, 220.0], seconds=0.5, harmonics=(1.0, 0.1, 0.8, 0.05, 0.5))
    result = dispatch.run(content, style, **TINY)
    y = tfstyle.transfer(content, style, **TINY)
    np.testing.assert_array_equal(y, result.audio)
    assert y.shape == content.shape and np.all(np.isfinite(y))
    assert result.losses["total"] < 0.8 * result.initial_losses["total"]
    assert result.steps == 40 and result.stop_reason == "max steps"
    # No octave; 262 Hz sits 2.4 cents above C4, the style about 0.6 above its grid notes.
    assert result.transpose == pytest.approx(-0.018, abs=0.01)
    # Said to a hundredth of a semitone; under half a cent, as no move (not "-0 semitones").
    assert dataclasses.replace(result, transpose=12.2134).moved() == \
        "; content moved by +12.21 semitones"
    assert dataclasses.replace(result, transpose=-0.003).moved() == ""
    cents, voiced = median_cents(y, 262.0)
    assert cents < 20 and voiced > 0.6
    # Moved by an octave on request.
    up = dispatch.run(content, style, **{**TINY, "transpose": "12"})
    assert median_cents(up.audio, 524.0)[0] < 20


def test_silence_in_the_content_stays_silent():
    content = notes([262.0, 330.0], seconds=0.5, gap=0.5)
    style = notes([220.0, 262.0, 294.0], seconds=0.5)
    y = dispatch.run(content, style, **{**TINY, "steps": 10}).audio
    # The middle of the first gap (0.5 s reverb tail margin aside) holds no drone.
    gap = y[int(0.65 * SR):int(0.95 * SR)]
    assert np.sqrt(np.mean(gap ** 2)) < 1e-3 * np.max(np.abs(y))


def test_unpitched_style_or_content_is_a_one_line_error():
    rng = np.random.default_rng(0)
    noise = (0.3 * rng.uniform(-1, 1, SR)).astype(np.float32)
    melody = notes([262.0, 330.0])
    with pytest.raises(TfstyleError, match="style: no pitched frames"):
        dispatch.run(melody, noise, **TINY)
    with pytest.raises(TfstyleError, match="content: no pitched frames"):
        dispatch.run(np.zeros(SR, np.float32), melody, **TINY)
    with pytest.raises(TfstyleError, match="transpose must be 'auto' or a number"):
        dispatch.run(melody, melody, **{**TINY, "transpose": "up"})


def test_polyphonic_content_gives_a_warning():
    t = np.arange(SR) / SR
    chord = (0.2 * sum(np.sin(2 * np.pi * f * t) for f in (262.0, 330.0, 392.0, 466.0))
             ).astype(np.float32)
    chord = np.concatenate([notes([262.0, 294.0], seconds=0.3), chord])
    result = dispatch.run(chord, notes([220.0, 262.0]), **{**TINY, "steps": 2})
    assert result.warnings and "single melody line" in result.warnings[0]


def test_cli_harmonic_transfer_and_its_errors(wav, tmp_path, capsys):
    content = wav("c.wav", notes([262.0, 330.0]), SR)
    style = wav("s.wav", notes([220.0, 262.0, 294.0]), SR)
    noise = wav("n.wav", (0.3 * np.random.default_rng(1).uniform(-1, 1, SR)).astype(np.float32))
    out = tmp_path / "out.wav"
    args = ["transfer", content, style, "-o", str(out), "--method", "harmonic", "--start",
            "scratch", "--sr", str(SR), "--steps", "5", "--units", "8", "--harmonics", "8"]
    # The learned loudness mapping is the prior's, which works at its own rate only.
    assert main(args + ["--loudness", "learned"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--loudness offset" in err[0] and not out.exists()
    assert main(args) == 0
    err = capsys.readouterr().err
    assert out.exists() and "stopped after 5 of at most 5 steps" in err
    out.unlink()
    assert main([*args[:2], noise, *args[3:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no pitched frames" in err[0] and not out.exists()


def test_long_signals_are_analysed_in_blocks_with_the_same_result():
    y = notes([220.0, 330.0, 262.0], seconds=0.7, gap=0.1)
    whole = ctl.analyse(y, SR, HOP)
    blocks = ctl.analyse(y, SR, HOP, block_frames=7)
    assert len(whole) == len(blocks)
    np.testing.assert_allclose(blocks.f0, whole.f0, rtol=1e-5)
    np.testing.assert_allclose(blocks.loudness, whole.loudness, atol=1e-4)
    np.testing.assert_array_equal(blocks.voiced, whole.voiced)


def test_blocks_of_a_stream_give_the_same_controls():
    y = notes([220.0, 330.0, 262.0], seconds=0.7, gap=0.1)
    whole = ctl.analyse(y, SR, HOP)
    streamed = ctl.analyse(iter(np.array_split(y, 9)), SR, HOP, block_frames=5)
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed.f0, whole.f0, rtol=1e-5)
    np.testing.assert_array_equal(streamed.voiced, whole.voiced)


def test_rendering_in_blocks_is_continuous():
    """Decoder state, oscillator phase and reverb tail carry across blocks: blocks give the
    one-piece signal (but for the noise, whose seed changes per block, and which an untrained
    decoder keeps ~80 dB down) and no click at the joins."""
    from tfstyle.harmonic.synthesizer import HarmonicNoiseSynth, render

    decoder = HarmonicDecoder(n_harmonics=8, n_noise_bands=9, units=8, gru_units=8)
    synth = HarmonicNoiseSynth(SR, HOP, reverb_taps=300)
    synth.impulse_response.assign(np.exp(-np.arange(300) / 50.0).astype(np.float32) * 0.05)
    frames = 90
    f0 = np.linspace(200.0, 400.0, frames).astype(np.float32)
    loudness = np.linspace(-30.0, -10.0, frames).astype(np.float32)
    inputs = {"f0_scaled": scale_f0(f0)[None, :, None],
              "loudness_scaled": scale_loudness(loudness)[None, :, None]}
    ones = np.ones(frames, np.float32)
    n = frames * HOP - 50
    whole = render(decoder, synth, inputs, f0, ones, ones, n, block_frames=frames)
    blocks = render(decoder, synth, inputs, f0, ones, ones, n, block_frames=13)
    assert len(whole) == len(blocks) == n
    assert np.max(np.abs(blocks - whole)) < 1e-3 * np.max(np.abs(whole))
    # No click: no sample-to-sample step at a join beyond the largest step elsewhere.
    steps = np.abs(np.diff(blocks))
    joins = np.arange(13 * HOP, n - 1, 13 * HOP) - 1
    assert steps[joins].max() <= 1.01 * np.delete(steps, joins).max()


def test_content_streamed_from_blocks_to_a_file_equals_the_in_memory_transfer(tmp_path):
    import soundfile as sf

    from tfstyle import presets
    from tfstyle.harmonic import one_shot

    content = notes([262.0, 330.0, 294.0], seconds=0.5, gap=0.1)
    style = notes([220.0, 262.0, 294.0])
    config = presets.config(**{**TINY, "steps": 5}).validate()
    whole = one_shot.run(content, style, config)
    out = tmp_path / "out.wav"
    streamed = one_shot.run_to_file(iter(np.array_split(content, 7)), style, str(out), config)
    assert streamed.audio is None and streamed.samples == len(content) == whole.samples
    y, sr = sf.read(out, dtype="float32")
    assert sr == SR and len(y) == len(content)
    np.testing.assert_allclose(y, whole.audio, atol=2 / 32768)   # 16-bit file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]


def test_several_style_clips_fit_together():
    content = notes([262.0, 330.0])
    styles = [notes([220.0, 247.0]), notes([294.0, 330.0])]
    y = tfstyle.transfer(content, styles, **{**TINY, "steps": 3})
    assert y.shape == content.shape and np.all(np.isfinite(y))
