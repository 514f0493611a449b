"""The learned loudness mapping (`harmonic.dynamics`): fitting on pairs beats keeping the input's
contour, an untrained model is `--loudness offset`, blocks give what one piece gives, the
on-graph mapping matches NumPy's, and refining a mapping through a decoder brings the decoder's
playing nearer the truth's."""
import numpy as np
import pytest

from conftest import random_dynamics

from tfstyle.harmonic import controls as ctl
from tfstyle.harmonic import dynamics as dyn

FRAME = 256 / 22050


def notes_controls(rng, envelope, notes=12):
    """Controls of a melody whose notes follow `envelope(t_seconds, length_seconds)` (dB
    re the note's peak), with rests between some notes."""
    f0, loudness, voiced = [], [], []
    for _ in range(notes):
        frames = int(rng.integers(20, 60))
        t = np.arange(frames) * FRAME
        peak = float(rng.uniform(-30, -15))
        f0.append(np.full(frames, 220.0 * 2 ** (rng.integers(0, 12) / 12)))
        loudness.append(peak + envelope(t, frames * FRAME))
        voiced.append(np.ones(frames, bool))
        if rng.random() < 0.3:
            rest = int(rng.integers(5, 20))
            f0.append(np.full(rest, f0[-1][-1]))
            loudness.append(np.full(rest, -90.0))
            voiced.append(np.zeros(rest, bool))
    f0, loudness, voiced = (np.concatenate(x) for x in (f0, loudness, voiced))
    zeros = np.zeros(len(f0), np.float32)
    return ctl.Controls(f0.astype(np.float32), zeros, loudness.astype(np.float32), voiced,
                        zeros)


def piano(t, length):      # struck: an instant attack, then a steady decay
    return -25.0 * t


def bowed(t, length):      # a 0.1 s swell, a sustain, a short release
    return np.minimum(0.0, -20.0 + 200.0 * t) - np.maximum(0.0, t - (length - 0.05)) * 300.0


def pairs(seed, count):
    out = []
    for i in range(count):
        # The same notes both ways: one seed per melody, played by each envelope.
        out.append((notes_controls(np.random.default_rng([seed, i]), piano),
                    notes_controls(np.random.default_rng([seed, i]), bowed)))
    return out


def test_a_fit_on_pairs_learns_the_instruments_envelope():
    from tfstyle.converters.harmonic import dynamics_fit

    train = pairs(1, 24)
    model, first, last = dynamics_fit.fit(train, steps=300, batch_size=8, window_frames=128,
                                          learning_rate=3e-3, width=16,
                                          dilations=(1, 2, 4, 8, 16))
    assert last < 0.6 * first
    # On melodies it did not see, closer to the truth than the input's own contour.
    test = pairs(2, 6)
    runner = model.runner()
    errors = {"offset": [], "learned": []}
    for content, truth in test:
        target = dyn.level(truth.loudness, truth.voiced)
        sounding = truth.voiced
        for name, mapped in (("offset", ctl.offset_loudness(content, truth)),
                             ("learned", dyn.apply(runner, content, target))):
            errors[name].append(np.mean(np.abs(mapped - truth.loudness)[sounding]))
    assert np.mean(errors["learned"]) < 0.6 * np.mean(errors["offset"])


def staccato(t, length):   # struck and damped: a steep decay
    return -120.0 * t


def test_a_conditioned_fit_plays_each_instrument_its_embedding_names():
    """One model for two instruments, told which by an embedding (the timbre prior's
    mapping): each embedding gets its own instrument's envelope."""
    from tfstyle.converters.harmonic import dynamics_fit

    embeddings = {"bowed": np.array([1.0, 0.0], np.float32),
                  "staccato": np.array([0.0, 1.0], np.float32)}
    envelopes = {"bowed": bowed, "staccato": staccato}

    def triples(seed, count):
        return [(notes_controls(np.random.default_rng([seed, i]), piano),
                 notes_controls(np.random.default_rng([seed, i]), envelopes[name]),
                 embeddings[name]) for i in range(count) for name in envelopes]

    model, first, last = dynamics_fit.fit(triples(1, 16), steps=300, batch_size=8,
                                          window_frames=128, learning_rate=3e-3, width=16,
                                          dilations=(1, 2, 4, 8, 16), timbre_dims=2)
    assert last < 0.6 * first
    test = triples(2, 4)
    assert dynamics_fit.mapping_loss(model, test) < 0.6 * dynamics_fit.offset_loss(test)
    # The embedding decides: the other instrument's makes the content's notes its shape.
    content, truth, _ = test[0]                   # bowed
    target = dyn.level(truth.loudness, truth.voiced)
    sounding = truth.voiced
    error = {name: np.mean(np.abs(dyn.apply(model.runner(timbre=e), content, target)
                                  - truth.loudness)[sounding])
             for name, e in embeddings.items()}
    assert error["bowed"] < 0.5 * error["staccato"]
    with pytest.raises(Exception, match="needs a timbre embedding"):
        dynamics_fit.fit([t[:2] for t in test], steps=1, timbre_dims=2)


def test_an_untrained_model_keeps_the_contour_at_the_instruments_level():
    from tfstyle.harmonic.dynamics_model import DynamicsModel

    content, truth = pairs(3, 1)[0]
    mapped = dyn.apply(DynamicsModel(width=8, dilations=(1, 2)).runner(), content,
                       ctl.target_level(ctl.Profile.of(truth, FRAME)))
    offset = ctl.offset_loudness(content, ctl.Profile.of(truth, FRAME))
    # Up to the model's clipping, 60 dB below the content's level.
    inside = content.loudness > dyn.level(content.loudness, content.voiced) - 55.0
    np.testing.assert_allclose(mapped[inside], offset[inside], atol=1e-3)


@pytest.mark.parametrize("block_frames", [7, 64, 5000])
def test_blocks_give_what_one_piece_gives(block_frames):
    content, _ = pairs(4, 1)[0]
    model = random_dynamics()
    runner = model.runner()
    one_piece = dyn.apply(runner, content, -20.0, block_frames=len(content))
    blocks = dyn.apply(runner, content, -20.0, block_frames=block_frames)
    assert blocks.shape == (len(content),)
    np.testing.assert_allclose(blocks, one_piece, atol=1e-3)
    assert np.ptp(one_piece - ctl.offset_loudness(
        content, ctl.Profile(50, 70, list(np.linspace(-60, -10, 101)), 0.0))) > 1.0


def test_the_graph_mapping_matches_numpy():
    import tensorflow as tf

    from tfstyle.converters.harmonic import graph
    from tfstyle.harmonic.performance import perform

    content, truth = pairs(5, 1)[0]
    profile = ctl.Profile.of(truth, FRAME)
    model = random_dynamics(1)
    for transpose in ("auto", "-12"):
        played, gates, _ = perform(content, profile, FRAME, transpose, "learned",
                                   model.runner())
        g_f0, g_loudness, g_gate = (t.numpy() for t in graph.perform(
            tf.constant(content.f0), tf.constant(content.voiced), tf.constant(content.loudness),
            profile, FRAME, transpose, "learned", model))
        np.testing.assert_allclose(g_f0, played.f0, rtol=1e-4)
        np.testing.assert_allclose(g_loudness, played.loudness, atol=0.05)
        np.testing.assert_allclose(g_gate, gates, atol=1e-4)


def test_learned_without_a_model_is_a_clear_error():
    from tfstyle.errors import TfstyleError
    from tfstyle.harmonic.performance import perform

    content, truth = pairs(6, 1)[0]
    with pytest.raises(TfstyleError, match="needs a converter with a learned loudness"):
        perform(content, ctl.Profile.of(truth, FRAME), FRAME, "auto", "learned")


def test_a_fit_cut_short_resumes_from_its_checkpoint_and_ends_as_an_uncut_one(tmp_path):
    import os

    from tfstyle.converters.harmonic import dynamics_fit

    train = pairs(4, 6)
    settings = dict(steps=20, batch_size=4, window_frames=64, width=8, dilations=(1, 2))
    whole, first, last = dynamics_fit.fit(train, **settings)
    folder = str(tmp_path / "fit")
    dynamics_fit.fit(train, **{**settings, "steps": 12}, checkpoint_dir=folder,
                     checkpoint_every=5)
    # The save at step 12 cut short before its state was written: the fit resumes from 10.
    os.remove(os.path.join(folder, "state-12.json"))
    resumed, first_again, last_again = dynamics_fit.fit(train, **settings,
                                                        checkpoint_dir=folder,
                                                        checkpoint_every=5)
    assert (first_again, last_again) == pytest.approx((first, last), rel=1e-5)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert sorted(f for f in os.listdir(folder) if f.startswith("state-")) == [
        "state-15.json", "state-20.json"]


def test_refining_through_the_decoder_brings_its_playing_nearer_and_resumes_exactly(tmp_path):
    """`dynamics_fit.refine`: an untrained mapping (the content's own contour) trained on
    through a frozen decoder on the log-mel distance plays the truth's loudness nearer, on
    pairs it did not train on too; stopped and started again from its checkpoints, it ends
    where one uninterrupted run does."""
    import keras

    from tfstyle.converters.harmonic import dynamics_fit
    from tfstyle.harmonic.decoder import LOUDNESS_OFFSET, LOUDNESS_RANGE
    from tfstyle.harmonic.dynamics_model import DynamicsModel
    from tfstyle.harmonic.synthesizer import HarmonicNoiseSynth

    class LevelDecoder(keras.Model):
        """Plays its loudness input as its level, a decaying spectrum: a decoder whose
        output a loudness contour decides (a small random HarmonicDecoder's barely
        depends on it)."""

        gru_units = 1

        def call(self, inputs):
            db = inputs["loudness_scaled"] * LOUDNESS_RANGE - LOUDNESS_OFFSET
            amplitude = 10.0 ** (db / 20.0)
            ones = keras.ops.ones_like(amplitude)
            return {"amplitude": amplitude,
                    "harmonic_distribution": ones * np.array([1.0, 0.5, 0.25, 0.125]),
                    "noise_magnitudes": ones * np.full(4, 1e-3) * amplitude}

    decoder = LevelDecoder()
    synth = HarmonicNoiseSynth(22050, 256, reverb_taps=0)
    train, held = pairs(4, 12), pairs(5, 4)
    settings = dict(frames=96, batch_size=4, learning_rate=3e-3, eval_rows=8)

    def model():
        return DynamicsModel(width=8, dilations=(1, 2, 4, 8), seed=1)

    whole, record = dynamics_fit.refine(model(), decoder, synth, train, 30, held=held,
                                        **settings)
    assert record["training after"] < 0.8 * record["training before"]
    assert record["held out after"] < 0.9 * record["held out before"]
    folder = str(tmp_path / "refine")
    dynamics_fit.refine(model(), decoder, synth, train, 12, held=held,
                        checkpoint_dir=folder, checkpoint_every=6, **settings)
    resumed, again = dynamics_fit.refine(model(), decoder, synth, train, 30, held=held,
                                         checkpoint_dir=folder, checkpoint_every=6,
                                         **settings)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert again["held out before"] == pytest.approx(record["held out before"])
    with pytest.raises(Exception, match="needs a timbre embedding"):
        dynamics_fit.refine(model(), decoder, synth, [(*train[0], np.zeros(2))], 1)
    silent = train[0][0].slice(0, 5)
    with pytest.raises(Exception, match="no pair has a melody on both sides"):
        dynamics_fit.refine(model(), decoder, synth, [(silent, train[0][1])], 1)
