"""The converter that ships with tfstyle: packaging round trip, and `--model` in convert/export."""
import json
import os

import numpy as np
import pytest
import soundfile as sf

from tfstyle import pretrained
from tfstyle.cli import main

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", "piano_melody.wav")


def test_package_round_trip(tmp_path):
    from tfstyle.converters.melgan_vc import frontend
    from tfstyle.converters.melgan_vc.convert import convert_mel
    from tfstyle.converters.melgan_vc.export import freeze_generator
    from tfstyle.converters.melgan_vc.family import Converter
    from tfstyle.converters.melgan_vc.trainer import build_networks

    config = frontend.preset("melgan-vc", n_mels=16, generator_filters=8, critic_filters=8,
                             embedding=4)
    generator, _, _ = build_networks(config)
    # Freezing runs one more power iteration of the spectral norm, so compare against one
    # frozen copy (freezing a frozen generator changes nothing).
    frozen = freeze_generator(generator, config)
    pretrained.package(Converter(config, frozen), str(tmp_path / "m"), steps=3, name="tiny")
    converter = pretrained.load(None, str(tmp_path / "m"))
    loaded, loaded_config = converter.generator, converter.config
    assert loaded_config == config
    assert pretrained.load_config(None, str(tmp_path / "m"))[1]["steps"] == 3
    mel = np.random.default_rng(0).uniform(-1, 1, (40, config.n_mels)).astype(np.float32)
    np.testing.assert_allclose(convert_mel(loaded, mel, config),
                               convert_mel(frozen, mel, config),
                               atol=1e-5)


def test_shipped_model_is_small_and_documented():
    path = pretrained.folder("piano-violin")
    assert os.path.getsize(os.path.join(path, "generator.weights.h5")) <= 15e6
    config, record = pretrained.load_config("piano-violin")
    assert config.sr == 22050 and record["steps"] > 0
    card = open(os.path.join(path, "MODEL_CARD.md")).read()
    assert "python bench/train_pretrained.py" in card and "mel distance" in card
    assert pretrained.summary("piano-violin").startswith("piano-violin")


def test_convert_and_export_with_the_shipped_model(tmp_path, capsys):
    out = tmp_path / "violin.wav"
    assert main(["convert", "--model", "piano-violin", EXAMPLE, "-o", str(out), "-q"]) == 0
    y, sr = sf.read(out)
    source, source_sr = sf.read(EXAMPLE)
    assert sr == 22050 and len(y) == len(source) and np.all(np.isfinite(y))
    assert np.sqrt(np.mean(y ** 2)) > 0.01
    assert main(["export", "--model", "piano-violin", "--format", "tflite", "--out",
                 str(tmp_path / "exp")]) == 0
    info = json.load(open(tmp_path / "exp" / "tfstyle_generator_none.tflite.json"))
    assert info["tflite"]["max_abs_error_vs_keras"] < 1e-3 and info["sr"] == 22050


@pytest.mark.parametrize("name", ["violin", "flute", "trumpet"])
def test_shipped_harmonic_models_are_small_and_documented(name):
    path = pretrained.folder(name)
    config, record = pretrained.load_config(name)
    assert record["family"] == "harmonic" and record["steps"] > 0 and config.sr == 22050
    assert sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path)) <= 5e6
    card = open(os.path.join(path, "MODEL_CARD.md")).read()
    assert "python bench/train_harmonic.py" in card and "TimGM6mb" in card
    assert set(record["scores"]) == {"generator", "soundfont"}
    # The learned loudness mapping ships with it and is what it converts with by default.
    assert config.loudness == "learned" and record["dynamics"]["dilations"]
    assert os.path.exists(os.path.join(path, "dynamics.weights.h5"))
    assert "Loudness mapping" in card


def test_a_shipped_harmonic_model_plays_the_melody(tmp_path):
    from tfstyle.harmonic import controls as ctl

    out = tmp_path / "violin.wav"
    assert main(["convert", "--model", "violin", EXAMPLE, "-o", str(out), "-q"]) == 0
    y, sr = sf.read(out, dtype="float32")
    source, _ = sf.read(EXAMPLE, dtype="float32")
    assert sr == 22050 and len(y) == len(source)
    # Every note where the piano plays it, give or take whole octaves into the range.
    a, b = ctl.analyse(source, sr, 256), ctl.analyse(y, sr, 256)
    both = a.voiced & b.voiced
    assert both.mean() > 0.5
    steps = 12 * np.log2(b.f0[both] / a.f0[both])
    assert np.mean(np.abs(steps - 12 * np.round(steps / 12)) < 0.5) > 0.9


@pytest.mark.parametrize("args, message", [
    (["convert", "--model", "cello-tuba", "x.wav", "-o", "y.wav"], "invalid choice: 'cello-tuba'"),
    (["convert", "--model", "piano-violin", "-o", "y.wav"], "the following arguments are required"),
    (["export"], "give either a run directory or --model NAME"),
])
def test_model_mistakes_are_one_line_errors(args, message, capsys):
    try:
        code = main(args)
    except SystemExit as e:      # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
