"""Trained harmonic converters: `fit --model harmonic` (cached analysis, TensorBoard, resume
after SIGKILL), conversion, the on-graph control mapping against the NumPy one, SavedModel and
TFLite export with the LiteRT runner, and shipped-model packaging."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import kill_after_first_checkpoint, melody, random_dynamics
from tfstyle.cli import main

SR = 22050
TINY = ["--units", "8", "--window-frames", "16", "--batch-size", "2", "--harmonics", "8",
        "--noise-bands", "9", "--reverb-seconds", "0.02", "-q"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tune(seed, notes=8):
    rng = np.random.default_rng(seed)
    return melody(list(220.0 * 2 ** (rng.integers(0, 12, notes) / 12)), 0.3, sr=SR,
                  harmonics=(1.0, 0.6, 0.3, 0.2), seed=seed)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run started as a user would, killed with SIGKILL after its first checkpoint, then
    resumed (in this process) without --model or --b: the run knows both."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("harmonic")
    (root / "b").mkdir()
    for i in range(3):
        sf.write(root / "b" / f"{i}.wav", tune(i), SR)
    run = str(root / "run")
    command = [sys.executable, "-m", "tfstyle", "fit", "--model", "harmonic", "--b",
               str(root / "b"), "--run-dir", run, "--steps", "100000", "--checkpoint-every",
               "2", "--log-every", "2", *TINY]
    killed_at = kill_after_first_checkpoint(command, run)
    cache = os.path.join(run, "cache")
    analysed = {f: os.path.getmtime(os.path.join(cache, f)) for f in os.listdir(cache)}
    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        assert main(["fit", "--run-dir", run, "--steps", str(killed_at + 2), "--learning-rate",
                     "0.0005", "-q"]) == 0
    return root, run, killed_at, analysed, log.getvalue()


def test_a_killed_run_resumes_and_reuses_its_analysis(trained):
    import tensorflow as tf

    _, run, killed_at, analysed, log = trained
    assert f"from step {killed_at}" in log
    assert tf.train.latest_checkpoint(os.path.join(run, "checkpoints")).endswith(
        f"-{killed_at + 2}")
    cache = os.path.join(run, "cache")
    assert {f: os.path.getmtime(os.path.join(cache, f)) for f in os.listdir(cache)} == analysed


def test_a_learning_rate_given_on_resume_is_the_one_used(trained):
    """The checkpoint holds the optimizer's rate, and restoring it used to win over the
    option (config.json said 0.0005 while training went on at 0.002)."""
    import tensorflow as tf

    _, run, *_ = trained
    with open(os.path.join(run, "config.json")) as f:
        assert json.load(f)["config"]["learning_rate"] == 0.0005
    saved = tf.train.load_checkpoint(tf.train.latest_checkpoint(os.path.join(run, "checkpoints")))
    rate = [k for k in saved.get_variable_to_shape_map() if "optimizer/_learning_rate" in k]
    assert rate and np.isclose(saved.get_tensor(rate[0]), 0.0005)


def test_fit_records_the_family_profile_cache_and_logs(trained):
    root, run, *_ = trained
    with open(os.path.join(run, "config.json")) as f:
        record = json.load(f)
    assert record["family"] == "harmonic" and record["b"] == str(root / "b")
    assert "a" not in record and record["config"]["units"] == 8
    profile = record["profile"]
    assert 55 <= profile["pitch_low"] <= profile["pitch_high"] <= 70   # A3..A4 melodies
    assert len(profile["loudness_quantiles"]) == 101
    cache = os.listdir(os.path.join(run, "cache"))
    assert len(cache) == 1 and cache[0].endswith(".npz")
    assert os.listdir(os.path.join(run, "tensorboard"))


def test_options_of_the_other_family_and_missing_domains_are_one_line_errors(trained,
                                                                            tmp_path, capsys):
    root, run, *_ = trained
    for args, message in (
            (["--b", str(root / "b"), "--n-mels", "64"], "not a setting of a harmonic"),
            (["--a", str(root / "b"), "--b", str(root / "b")], "trains on --b alone"),
            (["--b", str(root / "b"), "--loudness", "learned"], "which a run does not fit"),
            ([], "needs --b")):
        assert main(["fit", "--model", "harmonic", "--run-dir", str(tmp_path / "r"), *args,
                     "-q"]) == 2
        assert message in capsys.readouterr().err.strip().splitlines()[-1]
    assert main(["fit", "--model", "melgan-vc", "--run-dir", run, "-q"]) == 2
    assert "is a harmonic run" in capsys.readouterr().err


def semitones_between(y, out):
    """Median pitch difference of out over y, in semitones, on frames voiced in both."""
    from tfstyle.harmonic import controls as ctl

    a, b = ctl.analyse(y, SR, 256), ctl.analyse(out, SR, 256)
    both = a.voiced & b.voiced
    assert both.mean() > 0.5
    return float(np.median(12 * np.log2(b.f0[both] / a.f0[both])))


def test_convert_keeps_the_length_and_follows_transpose(trained, tmp_path, capsys):
    root, run, *_ = trained
    source = tmp_path / "in.wav"
    y = tune(7)
    sf.write(source, y, SR)
    assert main(["convert", run, str(source), "-o", str(tmp_path / "same.wav"), "-q"]) == 0
    assert main(["convert", run, str(source), "-o", str(tmp_path / "up.wav"), "-q",
                 "--transpose", "12"]) == 0
    same, sr = sf.read(tmp_path / "same.wav", dtype="float32")
    up, _ = sf.read(tmp_path / "up.wav", dtype="float32")
    assert sr == SR and len(same) == len(up) == len(y)
    # The melody is already in the training range: auto leaves it; +12 doubles every f0.
    assert abs(semitones_between(y, same)) < 0.3
    assert abs(semitones_between(y, up) - 12) < 0.3
    assert main(["convert", run, str(source), "-o", str(tmp_path / "x.wav"), "--transpose",
                 "up"]) == 2
    assert "transpose must be 'auto' or a number" in capsys.readouterr().err
    # A run has no learned loudness mapping: said before any work, nothing written.
    assert main(["convert", run, str(source), "-o", str(tmp_path / "x.wav"), "--loudness",
                 "learned"]) == 2
    assert "needs a converter with a learned loudness mapping" in (
        capsys.readouterr().err.strip().splitlines()[-1])
    assert not (tmp_path / "x.wav").exists()
    noise = tmp_path / "noise.wav"
    sf.write(noise, np.random.default_rng(0).uniform(-0.3, 0.3, SR).astype(np.float32), SR)
    assert main(["convert", run, str(noise), "-o", str(tmp_path / "n.wav"), "-q"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"{noise}: no pitched frames" in last and "harmonic converter" in last
    assert not (tmp_path / "n.wav").exists()


def test_graph_mapping_matches_the_numpy_performance(trained):
    import tensorflow as tf

    from tfstyle.converters import api
    from tfstyle.converters.harmonic import graph
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic.performance import perform

    _, run, *_ = trained
    converter = api.load_converter(run)
    # A decaying, pitch-gliding line: decay matching and octave shifting both have work.
    y = np.concatenate([tune(11, 6) * np.linspace(1, 0.2, 6 * int(0.3 * SR)),
                        np.zeros(SR // 4, np.float32), tune(12, 4)]) * 0.5
    y = y.astype(np.float32)
    controls = ctl.analyse(y, SR, 256)
    f0, voiced, loudness = (t.numpy() for t in graph.analyse(tf.constant(y), SR, 256))
    # The graph analyses the clip in one piece, NumPy in blocks: the same frames up to
    # rounding, which may tip a frame whose periodicity sits at the voicing threshold.
    assert np.mean(voiced == controls.voiced) >= 0.99 and voiced.sum() > 0.5 * len(voiced)
    both = voiced & controls.voiced
    np.testing.assert_allclose(f0[both], controls.f0[both], rtol=1e-4)
    np.testing.assert_allclose(loudness, controls.loudness, atol=1e-3)
    # The mapping itself, from the same controls.
    for transpose, mode in (("auto", "quantile"), ("-12", "quantile"), ("auto", "offset")):
        played, gates, _ = perform(controls, converter.profile, 256 / SR, transpose, mode)
        g_f0, g_loudness, g_gate = (t.numpy() for t in graph.perform(
            tf.constant(controls.f0), tf.constant(controls.voiced),
            tf.constant(controls.loudness), converter.profile, 256 / SR, transpose, mode))
        np.testing.assert_allclose(g_f0, played.f0, rtol=1e-4)
        np.testing.assert_allclose(g_loudness, played.loudness, atol=0.05)
        np.testing.assert_allclose(g_gate, gates, atol=1e-4)


def test_graph_settles_note_starts_and_fills_gaps_as_numpy_does():
    import tensorflow as tf

    from tfstyle.converters.harmonic import graph
    from tfstyle.harmonic import controls as ctl

    rng = np.random.default_rng(3)
    notes = 220.0 * 2.0 ** (rng.integers(-12, 12, 40) / 12.0)
    # Runs of 1-20 frames, each starting 0-4 frames at a subharmonic of its note.
    f0, voiced = [], []
    for note in notes:
        length, slip = rng.integers(1, 20), rng.integers(0, 5)
        run = np.full(length, note)
        run[:slip] = note / rng.choice([2, 3, 4, 1.5])
        f0 += [run, [note] * rng.integers(0, 3)]
        voiced += [np.ones(length, bool), np.zeros(len(f0[-1]), bool)]
    f0, voiced = np.concatenate(f0).astype(np.float32), np.concatenate(voiced)
    expected = ctl.settle_onsets(f0, voiced, 4)
    assert np.sum(expected != f0) > 10
    np.testing.assert_allclose(graph._settle_onsets(tf.constant(f0), tf.constant(voiced), 4),
                               expected, rtol=1e-6)
    # Unvoiced frames between, before and after runs, and a clip with none voiced.
    for mask in (voiced, ~voiced, np.zeros_like(voiced)):
        np.testing.assert_allclose(graph._fill_unvoiced(tf.constant(f0), tf.constant(mask)),
                                   ctl._fill_unvoiced(f0, mask), rtol=1e-5)


@pytest.fixture(scope="module")
def exported(trained):
    """The run's converter with a learned loudness mapping (as the shipped ones), exported."""
    from tfstyle.converters import api

    root, run, *_ = trained
    converter = api.load_converter(run).with_dynamics(random_dynamics(2))
    written = converter.export(str(root / "out"), "all", ["none"], "violin", None)
    return root, converter, written


def test_saved_model_signatures_run_the_whole_path(exported):
    import io

    import tensorflow as tf

    from tfstyle.converters.harmonic.graph import waveform_fn

    root, converter, written = exported
    path = next(p for p in written if os.path.isdir(p))
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "waveform"}
    y = tune(5)
    got = loaded.signatures["waveform"](waveform=tf.constant(y[None]))["waveform"][0].numpy()
    want = waveform_fn(converter.decoder, converter.synth, converter.config,
                       converter.profile, converter.dynamics)(tf.constant(y)).numpy()
    assert got.shape == y.shape and np.all(np.isfinite(got))
    # One graph, but the SavedModel's FFT sizes and sums are its own: rounding, 1e-3 of the peak.
    np.testing.assert_allclose(got, want, atol=1e-3 * np.max(np.abs(want)))
    # WAV bytes at another rate come back at that rate, as long.
    buffer = io.BytesIO()
    sf.write(buffer, tune(6)[::2], SR // 2, format="WAV", subtype="PCM_16")
    out = loaded.signatures["serving_default"](
        wav_bytes=tf.constant([buffer.getvalue()]))["audio_bytes"][0].numpy()
    decoded, rate = sf.read(io.BytesIO(out))
    assert rate == SR // 2 and abs(len(decoded) - len(tune(6)[::2])) <= 1
    info = json.load(open(os.path.join(path, "assets.extra", "tfstyle.json")))
    assert info["family"] == "harmonic" and info["profile"] == converter.profile.__dict__
    assert info["loudness"] == "learned" and info["dynamics_receptive_field"] == 7
    # The learned mapping is in the graph: its fitted weights are among the SavedModel's.
    head = converter.dynamics.get_layer("correction").kernel.numpy()
    assert any(v.shape == head.shape and np.array_equal(v.numpy(), head)
               for v in loaded.variables)


def test_tflite_is_builtin_only_and_the_runner_converts_a_file(exported, tmp_path):
    from tfstyle import audio, metrics

    root, converter, written = exported
    path = next(p for p in written if p.endswith(".tflite"))
    info = json.load(open(path + ".json"))
    assert info["tflite"]["max_abs_error_vs_tf"] < 1e-4
    assert "dynamics" in info["tflite"]["signatures"]
    assert info["tflite"]["dynamics_max_abs_error_vs_tf"] < 1e-4
    # The runner maps loudness with that signature, in its fixed-size blocks, as Keras does.
    sys.path.insert(0, os.path.join(ROOT, "export"))
    import tflite_runner

    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic import dynamics as dyn

    controls = ctl.analyse(np.concatenate([tune(8), tune(9)]), SR, 256)
    np.testing.assert_allclose(
        dyn.apply(tflite_runner.HarmonicRunner(path).dynamics, controls, -20.0),
        dyn.apply(converter.dynamics.runner(), controls, -20.0), atol=1e-3)
    assert {"WHILE", "SIN", "RFFT2D"} <= set(info["tflite"]["ops"])
    assert not any(op.startswith("custom") or "FLEX" in op for op in info["tflite"]["ops"])
    y = np.concatenate([tune(8), tune(9)])
    sf.write(tmp_path / "in.wav", y, SR)
    runner = subprocess.run([sys.executable, os.path.join(ROOT, "export", "tflite_runner.py"),
                             path, str(tmp_path / "in.wav"), str(tmp_path / "lite.wav")],
                            capture_output=True, text=True, timeout=300)
    assert runner.returncode == 0, runner.stderr
    level = audio.Level([y])   # written as `tfstyle convert` and the runner write
    audio.save_blocks(str(tmp_path / "tf.wav"), converter.convert_blocks(level), SR,
                      lambda: level.rms)
    lite, _ = sf.read(tmp_path / "lite.wav", dtype="float32")
    tf_out, _ = sf.read(tmp_path / "tf.wav", dtype="float32")
    assert len(lite) == len(tf_out) == len(y)
    # The same analysis and decoder; only the noise differs (its own generator in the runner).
    assert metrics.mel_distance(lite, tf_out, SR) < 0.3 * metrics.mel_distance(y, tf_out, SR)


def test_packaged_model_converts_like_its_run(trained, tmp_path):
    from tfstyle import pretrained
    from tfstyle.converters import api

    _, run, *_ = trained
    converter = api.load_converter(run).with_dynamics(random_dynamics(3))
    pretrained.package(converter, str(tmp_path / "m"), steps=4, **converter.record())
    loaded = pretrained.load(None, str(tmp_path / "m"))
    assert loaded.config.loudness == "learned" and loaded.dynamics is not None
    y = tune(3)
    a = np.concatenate(list(converter.convert_blocks([y])))
    b = np.concatenate(list(loaded.convert_blocks([y])))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_harmonic_training_runs_under_a_distribution_strategy(trained, tmp_path):
    import tensorflow as tf

    from tfstyle import domains
    from tfstyle.converters import training
    from tfstyle.converters.harmonic import config as hc
    from tfstyle.converters.harmonic import family
    from tfstyle.converters.run import Run

    root, *_ = trained
    config = hc.preset("harmonic", units=8, window_frames=16, batch_size=2, harmonics=8,
                       noise_bands=9, reverb_seconds=0.02)
    run = Run(str(tmp_path / "run"))
    target = domains.load_domain(str(root / "b"), config)
    prepared, _ = family.prepare({"b": target}, config, run)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    step, model = training.train(run, family, config, prepared, total_steps=2,
                                 checkpoint_every=2, log_every=1, strategy=strategy)
    assert step == 2 and int(model.optimizer_.iterations.numpy()) == 2
    assert run.latest().endswith("-2")


def test_tflite_reverb_is_the_convolution_as_one_matrix_product():
    import tensorflow as tf

    from tfstyle.converters.harmonic.export import reverb_builtin

    rng = np.random.default_rng(0)
    for taps, samples, block in ((441, 16 * 256, 64), (5512, 64 * 256, 64), (100, 300, 256)):
        h = rng.normal(size=taps).astype(np.float32)
        x = rng.normal(size=samples).astype(np.float32)
        got = reverb_builtin(tf.constant(x[None]), h, block).numpy()[0]
        want = np.pad(x, (0, taps - 1)) + np.convolve(x.astype(np.float64), h)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, atol=1e-5 * np.max(np.abs(want)))


def test_the_runner_of_a_shipped_model_fits_a_phone(tmp_path):
    """The LiteRT runner of `tfstyle export --model flute` peaks under 200 MB (a 0.25 s
    reverb as a direct convolution took it to 1 GB)."""
    from tfstyle import pretrained

    converter = pretrained.load("flute")
    written = converter.export(str(tmp_path / "out"), "tflite", ["none"], "flute", None)
    path = next(p for p in written if p.endswith(".tflite"))
    sf.write(tmp_path / "in.wav", np.concatenate([tune(10), tune(11)]), SR)
    # VmHWM, not getrusage: a child's ru_maxrss starts from what it had before exec, i.e.
    # from this test process.
    script = ("import runpy, sys; sys.argv = sys.argv[1:]; "
              "runpy.run_path(sys.argv[0], run_name='__main__'); "
              "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])")
    done = subprocess.run([sys.executable, "-c", script,
                           os.path.join(ROOT, "export", "tflite_runner.py"), path,
                           str(tmp_path / "in.wav"), str(tmp_path / "out.wav")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout.split()[-1]) / 1024
    assert peak_mb < 200, f"the runner peaked at {peak_mb:.0f} MB"
    assert len(sf.read(tmp_path / "out.wav")[0]) == 2 * len(tune(10))
