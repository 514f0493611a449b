"""The automatic choice of method: harmonic for single melodic lines, optimisation transfer for
chords, noise and silence in the style, with one line that says which and why."""
import os

import numpy as np
import pytest
import soundfile as sf

from conftest import melody
from tfstyle import dispatch, presets
from tfstyle.cli import main

SR = 22050


def chords(seconds=2.0):
    t = np.arange(int(seconds * SR)) / SR
    roots = (262.0, 349.0)
    half = len(t) // 2
    y = np.zeros(len(t), np.float32)
    for i, root in enumerate(roots):
        part = slice(i * half, (i + 1) * half)
        y[part] = sum(np.sin(2 * np.pi * root * r * t[part]) for r in (1.0, 1.26, 1.5, 1.78))
    return (0.1 * y).astype(np.float32)


def noise(seconds=2.0):
    return (0.2 * np.random.default_rng(0).uniform(-1, 1, int(seconds * SR))).astype(np.float32)


def line(notes):
    return melody(notes, note_seconds=0.3, sr=SR)


def test_single_melodic_lines_take_the_harmonic_method():
    choice = dispatch.choose(line([262, 330, 392, 330, 262, 294]), line([196, 247, 294, 220]),
                             SR)
    assert choice.method == "harmonic"
    assert "single melodic lines" in choice.reason and "--method random-cnn" in choice.line()


@pytest.mark.parametrize("content,style,words", [
    ("chords", "line", "of the content's sounding frames have one clear pitch"),
    ("line", "chords", "of the style's sounding frames have one clear pitch"),
    ("line", "noise", "the style has 0.0 s of pitched sound"),
    ("line", "silence", "the style has 0.0 s of pitched sound")])
def test_chords_noise_and_silence_fall_back_to_optimisation(content, style, words):
    clips = {"chords": chords(), "noise": noise(), "silence": np.zeros(SR, np.float32),
             "line": line([262, 330, 392, 330, 262, 294])}
    choice = dispatch.choose(clips[content], clips[style], SR)
    assert choice.method == dispatch.FALLBACK and words in choice.reason
    assert "--method harmonic forces the other" in choice.line()


def test_the_bundled_speech_goes_to_optimisation_and_the_melodies_to_harmonic():
    from tfstyle import audio

    examples = os.path.join(os.path.dirname(__file__), "..", "examples")
    clip = {name: audio.load(os.path.join(examples, f"{name}.wav"), SR)
            for name in ("speech", "piano_melody", "violin_phrase")}
    assert dispatch.choose(clip["speech"], clip["violin_phrase"], SR).method == "random-cnn"
    assert dispatch.choose(clip["piano_melody"], clip["violin_phrase"], SR).method == \
        "harmonic"


def test_the_chosen_method_gets_its_recipe_and_keeps_what_was_set_by_hand():
    config = presets.config("default", steps=7, seed=3)
    harmonic = presets.with_method(config, "harmonic")
    assert (harmonic.method, harmonic.hop_length, harmonic.steps, harmonic.seed) == \
        ("harmonic", presets.HARMONIC["hop_length"], 7, 3)
    optimisation = presets.with_method(presets.config("default"), "random-cnn")
    assert optimisation == presets.config("random-cnn")


def test_the_api_reports_its_choice_first_among_the_warnings():
    result = dispatch.run(chords(1.0), line([262, 330, 392, 294]), steps=2, gl_iters=2,
                          filters="16", n_fft=512, hop_length=128)
    assert result.warnings[0].startswith("method: random-cnn (only ")
    said = []
    forced = dispatch.run(chords(1.0), line([262, 330, 392, 294]), method="random-cnn",
                          steps=2, gl_iters=2, filters="16", n_fft=512, hop_length=128,
                          say=said.append)
    assert not said and not any(w.startswith("method:") for w in forced.warnings)


def test_the_command_falls_back_on_a_noise_style_with_one_line(tmp_path, capsys):
    content, style, out = tmp_path / "c.wav", tmp_path / "noise.wav", tmp_path / "o.wav"
    sf.write(content, line([262, 330, 392, 330]), SR)
    sf.write(style, noise(1.5), SR)
    code = main(["transfer", str(content), str(style), "-o", str(out), "--steps", "2",
                 "--gl-iters", "2", "--filters", "16", "--n-fft", "512", "--hop-length", "128"])
    err = capsys.readouterr().err
    assert code == 0 and out.exists()
    chosen = [x for x in err.splitlines() if x.startswith("method: ")]
    assert len(chosen) == 1 and chosen[0].startswith("method: random-cnn (the style has")
    # Forced, the harmonic method still refuses that style in one line, writing nothing.
    out.unlink()
    code = main(["transfer", str(content), str(style), "-o", str(out), "--method",
                 "harmonic", "-q"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "no pitched frames" in err
    assert not out.exists()
