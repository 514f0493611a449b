"""The timbre prior: the encoder's embedding, the conditioned decoder, a training step that
learns, one-shot transfer from a prior (adapted or not) and its export as a converter."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import melody

SR, HOP = 22050, 256
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config():
    from tfstyle.harmonic.prior import PriorConfig

    return PriorConfig(units=16, gru_units=16, timbre_dims=8, encoder_units=16, harmonics=8,
                       noise_bands=9, reverb_seconds=0.02)


def tune(seed, harmonics=(1.0, 0.5, 0.25), notes=6):
    rng = np.random.default_rng(seed)
    return melody(list(220.0 * 2 ** (rng.integers(0, 12, notes) / 12)), 0.3, sr=SR,
                  harmonics=harmonics, seed=seed)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny prior saved to a folder, as the shipped one is."""
    from tfstyle.harmonic.prior import Prior

    folder = str(tmp_path_factory.mktemp("prior"))
    prior = Prior(tiny_config())
    prior.dynamics = tiny_dynamics()
    prior.save(folder, steps=0)
    return folder


def tiny_dynamics():
    """A conditioned loudness mapping whose correction is neither zero (an untrained one's
    is) nor the same for every frame (a constant would only move the level, which the
    output's level matching undoes)."""
    from tfstyle.harmonic.dynamics_model import DynamicsModel

    model = DynamicsModel(width=8, dilations=(1, 2), timbre_dims=8, seed=3)
    head = model.get_layer("correction")
    head.kernel.assign(np.random.default_rng(3).normal(0, 0.5, head.kernel.shape)
                       .astype(np.float32))
    return model


def test_the_embedding_ignores_silence_and_length_but_not_timbre(tiny):
    from tfstyle.harmonic.prior import Prior

    prior = Prior.load(tiny)
    clip = tune(0)
    one = prior.embed([clip])
    assert one.shape == (8,) and np.all(np.isfinite(one))
    # Silence weighs nothing (only the few frames that overlap the clip's end are new); the
    # same sound twice is pooled to the same statistics.
    scale = 1 + np.abs(one).max()
    silence = prior.embed([np.concatenate([clip, np.zeros(SR, np.float32)])])
    assert np.abs(silence - one).max() < 0.01 * scale
    assert np.abs(prior.embed([clip, clip]) - one).max() < 0.01 * scale
    other = prior.embed([tune(0, harmonics=(0.2, 1.0, 0.1, 0.8, 0.05, 0.6))])
    assert np.abs(other - one).max() > 0.05 * scale


def test_the_bound_decoder_is_the_conditioned_one_with_its_embedding(tiny):
    from tfstyle.harmonic.prior import Prior

    prior = Prior.load(tiny)
    rng = np.random.default_rng(1)
    timbre = rng.normal(size=(1, 8)).astype(np.float32)
    inputs = {"f0_scaled": rng.uniform(0.4, 0.6, (2, 10, 1)).astype(np.float32),
              "loudness_scaled": rng.uniform(0.3, 0.7, (2, 10, 1)).astype(np.float32),
              "state": np.zeros((2, 16), np.float32)}
    bound = prior.bind(timbre[0])(inputs)
    direct = prior.decoder({**inputs, "timbre": np.repeat(timbre, 2, 0)})
    np.testing.assert_allclose(bound["amplitude"], direct["amplitude"], rtol=1e-5)
    other = prior.decoder({**inputs, "timbre": np.repeat(-timbre, 2, 0)})
    assert np.abs(other["harmonic_distribution"] - direct["harmonic_distribution"]).max() > 0


def test_training_steps_lower_the_loss_and_the_prior_round_trips(tmp_path):
    import keras
    import tensorflow as tf

    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic.performance import decoder_inputs, gate
    from tfstyle.harmonic.prior import Prior
    from tfstyle.harmonic.timbre import log_mel

    keras.utils.set_random_seed(0)
    prior = Prior(tiny_config())
    clips = [tune(2), tune(3, harmonics=(0.3, 1.0, 0.6, 0.4))]
    rows = {k: [] for k in ("f0_scaled", "loudness_scaled", "f0", "voiced", "gate", "audio",
                            "log_mel", "weight")}
    width = 40
    for i, clip in enumerate(clips):
        c = ctl.analyse(clip, SR, HOP)
        arrays = {**decoder_inputs(c), "f0": c.f0, "voiced": c.voiced.astype(np.float32),
                  "gate": gate(c)}
        for k, v in arrays.items():
            rows[k].append(v[10:10 + width])
        rows["audio"].append(clip[10 * HOP:(10 + width) * HOP])
        db, weight = log_mel(clips[1 - i][:len(clips[i])], SR, HOP)   # the other clip's frames
        rows["log_mel"].append(db.numpy())
        rows["weight"].append(weight.numpy())
    batch = {k: tf.constant(np.stack(v)) for k, v in rows.items()}
    step = prior.step_function(keras.optimizers.Adam(3e-3))
    losses = [float(step(batch)) for _ in range(30)]
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:3])
    prior.save(str(tmp_path / "p"), steps=30)
    loaded = Prior.load(str(tmp_path / "p"))
    np.testing.assert_allclose(loaded.embed([clips[0]]), prior.embed([clips[0]]), rtol=1e-5)
    assert loaded.record["steps"] == 30


def test_one_shot_from_the_prior_adapts_a_copy_and_keeps_the_pitch(tiny):
    from tfstyle import dispatch
    from tfstyle.harmonic.prior import Prior

    prior = Prior.load(tiny)
    before = [w.copy() for w in prior.decoder.get_weights()]
    content, style = tune(4), tune(5, harmonics=(1.0, 0.1, 0.8, 0.05))
    settings = dict(method="harmonic", start="prior", prior=prior, tol=0)
    embedded = dispatch.run(content, style, steps=0, **settings)
    adapted = dispatch.run(content, style, steps=12, **settings)
    for result in (embedded, adapted):
        assert result.audio.shape == content.shape and np.all(np.isfinite(result.audio))
        assert np.isfinite(result.losses["total"])
    assert embedded.steps == 0 and adapted.steps == 12
    assert adapted.losses["total"] < adapted.initial_losses["total"]
    # Adapting moved a copy: the prior is as it was for the next style.
    for a, b in zip(before, prior.decoder.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_priors_loudness_mapping_round_trips_and_plays_the_styles_contour(tiny,
                                                                             tmp_path):
    from tfstyle import dispatch
    from tfstyle.errors import TfstyleError
    from tfstyle.harmonic import dynamics as dyn
    from tfstyle.harmonic.prior import Prior

    content, style = tune(10), tune(11)
    settings = dict(method="harmonic", start="prior", steps=0)
    prior = Prior.load(tiny)
    bare = Prior(tiny_config())
    bare.save(str(tmp_path / "bare"), steps=0)
    with pytest.raises(TfstyleError, match="needs the timbre prior's loudness mapping"):
        dispatch.run(content, style, prior=Prior.load(str(tmp_path / "bare")),
                     loudness="learned", **settings)
    prior.save(str(tmp_path / "p"), steps=0)
    loaded = Prior.load(str(tmp_path / "p"))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 20, dyn.N_FEATURES)).astype(np.float32)
    timbre = prior.embed([style])
    np.testing.assert_allclose(loaded.dynamics.runner(timbre)(x),
                               prior.dynamics.runner(timbre)(x), rtol=1e-5)
    learned = dispatch.run(content, style, prior=loaded, loudness="learned", **settings)
    assert learned.audio.shape == content.shape and np.all(np.isfinite(learned.audio))
    # What the synthesiser is given: the mapping's contour, not the content's own.
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic.performance import perform

    c, s = (ctl.analyse(y, SR, HOP) for y in (content, style))
    played = {how: perform(c, s, HOP / SR, "auto", how, loaded.dynamics.runner(timbre))[0]
              for how in ("learned", "offset")}
    sounding = c.voiced
    assert np.ptp((played["learned"].loudness - played["offset"].loudness)[sounding]) > 1.0
    # Fitted from scratch, the synthesiser plays the prior's mapping of the style too.
    scratch = dispatch.run(content, style, prior=loaded, loudness="learned",
                           **{**settings, "start": "scratch"})
    assert scratch.audio.shape == content.shape and np.all(np.isfinite(scratch.audio))


@pytest.mark.parametrize("adapt", ["head", "decoder"])
def test_adaptation_moves_what_its_setting_names(tiny, adapt):
    from tfstyle import presets
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic import one_shot
    from tfstyle.harmonic.prior import Prior
    from tfstyle.optimise import progress_bar

    prior = Prior.load(tiny)
    style = tune(12)
    config = presets.config("harmonic", start="prior", steps=4, tol=0, adapt=adapt)
    model = one_shot.Model(config, prior, style)
    # The head reads what the trunk computes, as inside the whole decoder.
    rng = np.random.default_rng(2)
    inputs = {"f0_scaled": rng.uniform(0.4, 0.6, (1, 30, 1)).astype(np.float32),
              "loudness_scaled": rng.uniform(0.3, 0.7, (1, 30, 1)).astype(np.float32),
              "state": np.zeros((1, 16), np.float32), "timbre": model.timbre.numpy()}
    whole = model.decoder(inputs)
    split = model.decoder.outputs_from_trunk(model.decoder.trunk()(inputs))
    for key in split:
        np.testing.assert_allclose(split[key], whole[key], rtol=1e-5, atol=1e-7)
    before = {"timbre": model.timbre.numpy().copy(),
              "gru": [w.copy() for w in model.decoder.get_layer("gru").get_weights()],
              "head": [w.copy() for w in model.decoder.get_layer("head").get_weights()]}
    model.fit(style, ctl.analyse(style, SR, HOP), progress_bar(4, False))
    moved = {"timbre": np.abs(model.timbre.numpy() - before["timbre"]).max() > 0,
             "gru": any(np.abs(a - b).max() > 0 for a, b in
                        zip(model.decoder.get_layer("gru").get_weights(), before["gru"])),
             "head": any(np.abs(a - b).max() > 0 for a, b in
                         zip(model.decoder.get_layer("head").get_weights(), before["head"]))}
    assert moved == {"timbre": adapt == "decoder", "gru": False, "head": True}


def test_one_shot_from_the_prior_streams_as_it_renders_whole(tiny, tmp_path):
    from tfstyle import presets
    from tfstyle.harmonic import one_shot
    from tfstyle.harmonic.prior import Prior

    prior = Prior.load(tiny)
    content, style = tune(8, notes=12), tune(9)
    config = presets.config("harmonic", start="prior", steps=3, tol=0).validate()
    whole = one_shot.run(content, style, config, prior=prior)
    out = tmp_path / "out.wav"
    streamed = one_shot.run_to_file(iter(np.array_split(content, 7)), style, str(out), config,
                                    prior=prior)
    assert streamed.audio is None and streamed.samples == len(content)
    y, _ = sf.read(out, dtype="float32")
    np.testing.assert_allclose(y, whole.audio, atol=2 / 32768)   # 16-bit file


def test_a_style_clip_exports_a_one_shot_converter_the_runner_plays(tiny, tmp_path,
                                                                    monkeypatch, capsys):
    from tfstyle.cli import main
    from tfstyle.harmonic import prior

    monkeypatch.setattr(prior, "HERE", tiny)
    sf.write(tmp_path / "style.wav", tune(6), SR)
    sf.write(tmp_path / "in.wav", tune(7), SR)
    assert main(["export", "--style", str(tmp_path / "style.wav"), "--format", "tflite",
                 "--out", str(tmp_path / "phone"), "--name", "cello"]) == 0
    path = str(tmp_path / "phone" / "cello_harmonic_none.tflite")
    assert os.path.exists(path) and os.path.exists(path + ".json")
    done = subprocess.run([sys.executable, os.path.join(ROOT, "export", "tflite_runner.py"),
                           path, str(tmp_path / "in.wav"), str(tmp_path / "out.wav")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    stored, _ = sf.read(tmp_path / "out.wav", dtype="float32")
    assert len(stored) == len(tune(7))
    # The prior with its encoder: the runner embeds the style itself, and plays as the
    # model with the stored embedding does (the same noise; only the embedding's few frames
    # at the clip's end differ, 10 s of zero padding against none).
    assert main(["export", "--prior", "--out", str(tmp_path / "phone")]) == 0
    path = str(tmp_path / "phone" / "tfstyle_prior_none.tflite")
    runner = [sys.executable, os.path.join(ROOT, "export", "tflite_runner.py"), path,
              str(tmp_path / "in.wav"), str(tmp_path / "prior.wav")]
    done = subprocess.run(runner + ["--style", str(tmp_path / "style.wav")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from tfstyle import metrics

    played, _ = sf.read(tmp_path / "prior.wav", dtype="float32")
    assert metrics.mel_distance(played, stored, SR) < \
        0.05 * metrics.mel_distance(tune(7), stored, SR)
    done = subprocess.run(runner, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "give --style CLIP" in done.stderr
    # A run or --model beside --style is a one-line error.
    capsys.readouterr()
    assert main(["export", "--model", "violin", "--style", str(tmp_path / "style.wav")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_the_style_profile_on_graph_is_the_numpy_one():
    import tensorflow as tf

    from tfstyle.converters.harmonic import graph
    from tfstyle.harmonic import controls as ctl

    # A decaying line: the decay rate has work to do.
    y = (tune(8, notes=8) * np.linspace(1, 0.3, len(tune(8, notes=8)))).astype(np.float32)
    # From the same analysis (the graph's, which test_harmonic_converter compares with
    # NumPy's), so that only the profile's own arithmetic is compared: a frame whose voicing
    # rounding tips on another CPU cannot move the figures.
    f0, voiced, loudness = (t.numpy() for t in graph.analyse(tf.constant(y), SR, HOP))
    zeros = np.zeros_like(f0)
    want = ctl.Profile.of(ctl.Controls(f0, zeros, loudness, voiced, zeros), HOP / SR)
    got = graph.style_profile(tf.constant(y), SR, HOP)
    assert abs(float(got.pitch_low) - want.pitch_low) < 1e-3
    assert abs(float(got.pitch_high) - want.pitch_high) < 1e-3
    np.testing.assert_allclose(got.loudness_quantiles.numpy(), want.loudness_quantiles,
                               atol=1e-3)
    assert want.decay < -1 and abs(float(got.decay) - want.decay) < 1e-3 * abs(want.decay)
    assert abs(float(graph.target_level(got)) - ctl.target_level(want)) < 1e-3
    assert abs(float(got.tuning) - want.tuning) < 0.05


def test_the_prior_exports_a_saved_model_that_takes_the_style_beside_the_content(
        tiny, tmp_path, monkeypatch):
    import base64
    import io

    import tensorflow as tf

    from tfstyle import metrics
    from tfstyle.cli import main
    from tfstyle.converters.harmonic import graph
    from tfstyle.converters.harmonic.family import Converter
    from tfstyle.harmonic import prior as prior_module

    monkeypatch.setattr(prior_module, "HERE", tiny)
    assert main(["export", "--prior", "--format", "saved_model", "--out",
                 str(tmp_path / "models"), "--name", "one_shot"]) == 0
    path = tmp_path / "models" / "one_shot" / "1"
    loaded = tf.saved_model.load(str(path))
    assert set(loaded.signatures) == {"serving_default", "waveform", "embed"}
    prior = prior_module.Prior.load(tiny)
    style, content = tune(6), tune(7)
    rows = tf.constant(np.stack([style, tune(9, harmonics=(0.2, 1.0, 0.1, 0.8))]))
    timbre = loaded.signatures["embed"](style=rows)["timbre"].numpy()
    np.testing.assert_allclose(timbre[0], prior.embed([style]), atol=1e-4)
    assert np.abs(timbre[1] - timbre[0]).max() > 1e-3
    # As the converter that `--style` stores (its embedding and profile from NumPy), run
    # through the same graph: the profile on-graph differs by rounding only.
    got = loaded.signatures["waveform"](waveform=tf.constant(content[None]),
                                        style=tf.constant(style[None]))["waveform"][0].numpy()
    stored = Converter.from_prior(prior, [style])
    want = graph.waveform_fn(stored.decoder, stored.synth, stored.config, stored.profile)(
        tf.constant(content)).numpy()
    assert got.shape == content.shape and np.all(np.isfinite(got))
    assert metrics.mel_distance(got, want, SR) < 0.05 * metrics.mel_distance(content, want, SR)
    # The style's embedding is the one it plays with: nearer the converter stored from that
    # style than to the one stored from another.
    other = Converter.from_prior(prior, [tune(9, harmonics=(0.2, 1.0, 0.1, 0.8))])
    elsewhere = graph.waveform_fn(other.decoder, other.synth, other.config, stored.profile)(
        tf.constant(content)).numpy()
    assert metrics.mel_distance(got, want, SR) < 0.5 * metrics.mel_distance(got, elsewhere, SR)
    # A silent style is refused with one message, not a failure deep in the graph.
    with pytest.raises(tf.errors.InvalidArgumentError, match="style: no pitched frames"):
        loaded.signatures["waveform"](waveform=tf.constant(content[None]),
                                      style=tf.zeros([1, SR]))
    # WAV bytes: content at another rate comes back at that rate, as long.
    wavs = []
    for y, rate in ((content[::2], SR // 2), (style, SR)):
        buffer = io.BytesIO()
        sf.write(buffer, y, rate, format="WAV", subtype="PCM_16")
        wavs.append(tf.constant([buffer.getvalue()]))
    out = loaded.signatures["serving_default"](wav_bytes=wavs[0], style_bytes=wavs[1])
    decoded, rate = sf.read(io.BytesIO(out["audio_bytes"][0].numpy()))
    assert rate == SR // 2 and abs(len(decoded) - len(content[::2])) <= 1
    info = json.load(open(path / "assets.extra" / "tfstyle.json"))
    assert info["model"] == "harmonic timbre prior (one-shot)" and info["timbre"]["dims"] == 8
    # The REST client's request names both inputs, as TF Serving maps them to the signature.
    sys.path.insert(0, os.path.join(ROOT, "export"))
    try:
        import rest_client
    finally:
        sys.path.pop(0)
    body = rest_client.payload(b"RIFFcontent", b"RIFFstyle")
    [instance] = body["instances"]
    assert set(instance) == {"wav_bytes", "style_bytes"}
    assert base64.b64decode(instance["style_bytes"]["b64"]) == b"RIFFstyle"


def test_a_converter_trained_from_the_prior_starts_from_its_weights_and_ships(
        tiny, tmp_path, monkeypatch, capsys):
    from tfstyle import pretrained
    from tfstyle.cli import main
    from tfstyle.converters import api
    from tfstyle.harmonic import prior as prior_module

    monkeypatch.setattr(prior_module, "HERE", tiny)
    (tmp_path / "b").mkdir()
    clips = [tune(20 + i, harmonics=(1.0, 0.2, 0.6), notes=8) for i in range(2)]
    for i, clip in enumerate(clips):
        sf.write(tmp_path / "b" / f"{i}.wav", clip, SR)
    arch = ["--harmonics", "8", "--noise-bands", "9", "--reverb-seconds", "0.02"]
    run = str(tmp_path / "run")
    # The architecture is the prior's: a setting that differs is a one-line error.
    assert main(["fit", "--model", "harmonic", "--b", str(tmp_path / "b"), "--run-dir", run,
                 "--start", "prior", "--steps", "1", "-q", *arch]) == 2
    assert "start=prior takes the prior's architecture" in capsys.readouterr().err
    assert main(["fit", "--model", "harmonic", "--b", str(tmp_path / "b"), "--run-dir", run,
                 "--start", "prior", "--steps", "3", "-q", "--units", "16", *arch]) == 0
    prior = prior_module.Prior.load(tiny)
    from tfstyle.converters.harmonic import family
    from tfstyle.converters.run import Run

    config, record = Run(run).load_config()
    # The clips as the run read them: 16-bit, their silence trimmed.
    np.testing.assert_allclose(record["prior"]["timbre"], prior.embed(clips), atol=1e-3)
    # Training starts from the prior bound to the clips' embedding...
    start = family.build(config, record)
    np.testing.assert_allclose(start.synth.get_weights()[0], prior.synth.get_weights()[0])
    for got, want in zip(start.decoder.decoder.get_weights(), prior.decoder.get_weights()):
        np.testing.assert_allclose(got, want)
    # ...and moves the decoder, not the embedding.
    trained = api.load_converter(run)
    moved = [np.abs(a - b).max() for a, b in zip(trained.decoder.decoder.get_weights(),
                                                  prior.decoder.get_weights())]
    assert max(moved) > 0
    np.testing.assert_allclose(trained.decoder.timbre.numpy()[0], record["prior"]["timbre"],
                               rtol=1e-6)
    # Resumed without the settings: the run keeps its start and its embedding.
    assert main(["fit", "--run-dir", run, "--steps", "4", "-q"]) == 0
    assert Run(run).latest_step() == 4
    assert Run(run).load_config()[1]["prior"] == record["prior"]
    # Packaged as the shipped converters are, it loads and converts the same.
    out = str(tmp_path / "shipped")
    pretrained.package(trained, out, **trained.record())
    loaded = pretrained.load("violin", out)
    content = tune(30)
    a = np.concatenate(list(trained.convert_blocks([content])))
    b = np.concatenate(list(loaded.convert_blocks([content])))
    np.testing.assert_allclose(a, b, atol=1e-5)
