"""Every preset runs on the bundled examples, offline, and the CLI lists them all."""
import os

import numpy as np
import pytest

from tfstyle import audio, dispatch, presets
from tfstyle.cli import main
from tfstyle.errors import TfstyleError

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
SR = 22050


@pytest.fixture(scope="module")
def clips():
    content = audio.load(os.path.join(EXAMPLES, "piano_melody.wav"), SR)[: 2 * SR]
    style = audio.load(os.path.join(EXAMPLES, "violin_phrase.wav"), SR)[: 3 * SR]
    return content, style


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_preset_runs_and_keeps_the_content_length(clips, name):
    content, style = clips
    config = presets.config(name, steps=2, gl_iters=2, random_weights=True)
    result = dispatch.run(content, style, config=config)
    assert result.audio.shape == content.shape
    assert np.all(np.isfinite(result.audio)) and np.max(np.abs(result.audio)) > 1e-3
    assert np.isfinite(result.losses["total"])


def test_overrides_win_over_the_preset():
    config = presets.config("ulyanov2016", kernel_size="5", steps=7)
    assert (config.kernel_size, config.steps, config.filters) == ("5", 7, "4096")
    nsynth = presets.config(method="nsynth")
    assert (nsynth.representation, nsynth.learning_rate, nsynth.steps) == ("waveform", 0.05, 100)
    assert presets.config(method="vgg19", steps=3).style_weight == \
        presets.PRESETS["vgg19"].settings["style_weight"]
    with pytest.raises(TfstyleError, match="unknown preset"):
        presets.config("nope")


def test_starting_from_scratch_leaves_the_priors_loudness_mapping_out():
    assert presets.config("harmonic").loudness == "learned"
    # The mapping is the prior's: --start scratch plays the content's own contour...
    assert presets.config("harmonic", start="scratch").loudness == "offset"
    assert presets.with_method(presets.config("default", start="scratch"),
                               "harmonic").loudness == "offset"
    # ...unless the mapping is asked for by hand.
    assert presets.config("harmonic", start="scratch", loudness="learned").loudness == "learned"
    assert presets.config("harmonic-scratch").loudness == "quantile"


def test_presets_command_lists_every_system(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in presets.PRESETS:
        assert out.count(f"\n{name} ") + out.startswith(f"{name} ") == 1
    for source in ("neural-style-audio-tf", "alishdipani", "padster"):
        assert source in out
