"""Export: SavedModel signatures, TFLite builtins-only, parity between Keras, SavedModel and
TFLite, TF Serving's payload path, saved_model_cli."""
import io
import json
import os
import subprocess

import numpy as np
import pytest
import soundfile as sf
import tensorflow as tf

from conftest import melody
from tfstyle.cli import main
from tfstyle.errors import TfstyleError
from tfstyle.converters import api, serving
from tfstyle.converters.melgan_vc import convert, export, frontend

SR = 16000
TINY = dict(n_mels=16, generator_filters=8, critic_filters=8, embedding=4, batch_size=2)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    for name, harmonics in (("a", (1.0, 0.2)), ("b", (0.2, 1.0, 0.5))):
        (root / name).mkdir()
        for i in range(2):
            sf.write(root / name / f"{i}.wav", melody([220, 330, 440, 550] * 2, sr=SR,
                                                      harmonics=harmonics, seed=i), SR)
    run = str(root / "run")
    api.fit(str(root / "a"), str(root / "b"), run, steps=3, checkpoint_every=3, **TINY)
    written = api.export(run, str(root / "out"), "all", ["none", "float16", "int8"],
                         gl_iters=4)
    converter = api.load_converter(run)
    generator, config = converter.generator, converter.config
    return root, written, export.freeze_generator(generator, config), generator, config


def test_frozen_generator_matches_the_trained_one(exported):
    _, _, _, generator, config = exported
    x = np.tanh(np.random.default_rng(0).standard_normal((2, 16, 24, 1))).astype(np.float32)
    # Each call of the trained generator runs one power iteration; once u has converged (as it
    # has after real training) σ is fixed and the frozen kernels compute the same function.
    for _ in range(50):
        generator(x, training=False)
    frozen = export.freeze_generator(generator, config)
    np.testing.assert_allclose(frozen(x, training=False), generator(x, training=False),
                               atol=1e-4)


def test_saved_model_signatures_match_keras(exported):
    root, written, frozen, _, config = exported
    path = next(p for p in written if os.path.isdir(p))
    assert path.endswith(os.path.join("out", "tfstyle", "1"))
    loaded = tf.saved_model.load(path)
    assert set(loaded.signatures) == {"serving_default", "waveform", "mel"}
    y = melody([262, 330, 392, 494], sr=SR)
    mel = frontend.normalized_mel(y, config)
    from_sm = loaded.signatures["mel"](mel=mel[None])["mel"][0]
    np.testing.assert_allclose(from_sm, convert.convert_mel(frozen, mel, config), atol=1e-5)
    wave = loaded.signatures["waveform"](waveform=tf.constant(y[None]))["waveform"][0].numpy()
    from tfstyle.audio import match_level
    python = match_level(convert.convert_audio(frozen, y, config, gl_iters=4), y)
    assert wave.shape == y.shape
    np.testing.assert_allclose(wave, python, atol=2e-3)
    meta = json.load(open(os.path.join(path, "assets.extra", "tfstyle.json")))
    assert meta["sr"] == SR and meta["n_mels"] == 16 and meta["chunk_frames"] == 24
    assert meta["latency_samples"] > 0


def test_rest_payload_path_resamples_and_returns_wav(exported):
    root, written, *_ = exported
    loaded = tf.saved_model.load(next(p for p in written if os.path.isdir(p)))
    y = melody([262, 330, 392], sr=22050)
    buffer = io.BytesIO()
    sf.write(buffer, y, 22050, format="WAV", subtype="PCM_16")
    out = loaded.signatures["serving_default"](wav_bytes=tf.constant([buffer.getvalue()]))
    audio, rate = sf.read(io.BytesIO(out["audio_bytes"].numpy()[0]))
    assert rate == 22050 and abs(len(audio) - len(y)) <= 2 and np.max(np.abs(audio)) > 1e-3
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        loaded.signatures["waveform"](waveform=tf.zeros([1, 100], tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected a 16-bit PCM WAV"):
        loaded.signatures["serving_default"](wav_bytes=tf.constant([b"not a wav file"]))


def test_tflite_is_builtins_only_and_matches_keras(exported):
    from ai_edge_litert.interpreter import Interpreter

    _, written, frozen, _, config = exported
    tolerances = {"none": 1e-4, "float16": 2e-2, "int8": 0.2}
    x = np.tanh(np.random.default_rng(3).standard_normal((1, 16, 24, 1))).astype(np.float32)
    for quantize, tolerance in tolerances.items():
        path = next(p for p in written if p.endswith(f"_{quantize}.tflite"))
        ops = serving.tflite_ops(path)
        assert ops and not [op for op in ops if op.lower().startswith("flex")]
        got = Interpreter(model_path=path).get_signature_runner()(mel=x)["mel"]
        assert np.max(np.abs(got - np.asarray(frozen(x, training=False)))) < tolerance
        meta = json.load(open(path + ".json"))
        assert meta["tflite"]["quantize"] == quantize
        assert meta["tflite"]["max_abs_error_vs_keras"] < tolerance


def test_saved_model_cli_sees_and_runs_the_signatures(exported, tmp_path):
    root, written, *_ = exported
    path = next(p for p in written if os.path.isdir(p))
    shown = subprocess.run(["saved_model_cli", "show", "--dir", path, "--all"],
                           capture_output=True, text=True, timeout=120)
    for name in ("serving_default", "waveform", "mel"):
        assert f"signature_def['{name}']" in shown.stdout
    np.save(tmp_path / "x.npy", melody([300, 400], sr=SR)[None])
    ran = subprocess.run(["saved_model_cli", "run", "--dir", path, "--tag_set", "serve",
                          "--signature_def", "waveform", "--inputs",
                          f"waveform={tmp_path / 'x.npy'}"],
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "Result for output key waveform" in ran.stdout


def test_info_and_errors(exported, capsys):
    root, written, *_ = exported
    assert main(["info", str(root / "out" / "tfstyle")]) == 0
    assert json.loads(capsys.readouterr().out)["sr"] == SR
    assert main(["info", str(root)]) == 2
    assert "not a tfstyle export" in capsys.readouterr().err
    with pytest.raises(TfstyleError, match="immutable"):
        api.export(str(root / "run"), str(root / "out"), "saved_model", version=1)


def _scripts():
    import importlib
    import sys

    folder = os.path.join(os.path.dirname(__file__), "..", "export")
    sys.path.insert(0, folder)
    try:
        return [importlib.import_module(n) for n in ("rest_client", "grpc_client",
                                                     "tflite_runner")]
    finally:
        sys.path.remove(folder)


def test_rest_and_grpc_clients_up_to_the_servers_door(exported):
    """TF Serving cannot be installed here: the clients' requests are fed to the SavedModel
    the way the server would, and its replies are encoded the way the server would."""
    import base64

    from tensorflow_serving.apis import predict_pb2

    rest, grpc_client, _ = _scripts()
    root, written, *_ = exported
    loaded = tf.saved_model.load(next(p for p in written if os.path.isdir(p)))
    y = melody([262, 330, 392, 440] * 3, sr=SR)                      # 3 s

    def rest_server(body):
        assert body["signature_name"] == "serving_default"
        data = [base64.b64decode(i["b64"]) for i in body["instances"]]
        out = loaded.signatures["serving_default"](wav_bytes=tf.constant(data))
        # Outputs named *_bytes come back base64-encoded in JSON.
        return {"predictions": [{"b64": base64.b64encode(b).decode()}
                                for b in out["audio_bytes"].numpy()]}

    out = rest.convert(y, SR, lambda data: rest.parse(rest_server(rest.payload(data))),
                       chunk_seconds=1.0, overlap_seconds=0.25)
    assert out.shape == y.shape and np.max(np.abs(out)) > 1e-3

    def grpc_server(request):
        assert request.model_spec.signature_name == "waveform"
        samples = tf.make_ndarray(request.inputs["waveform"])
        reply = predict_pb2.PredictResponse()
        result = loaded.signatures["waveform"](waveform=tf.constant(samples))["waveform"]
        reply.outputs["waveform"].CopyFrom(tf.make_tensor_proto(result.numpy()))
        return reply

    out = grpc_client.convert(y, grpc_server, SR, chunk_seconds=1.0, overlap_seconds=0.25)
    assert out.shape == y.shape and np.max(np.abs(out)) > 1e-3
    assert grpc_client.MAX_MESSAGE > 4 * 1024 * 1024


def test_on_device_runner_streams_a_long_file(exported):
    _, _, runner_module = _scripts()
    root, written, frozen, _, config = exported
    runner = runner_module.Runner(next(p for p in written if p.endswith("_none.tflite")))
    y = np.tile(melody([262, 330, 392, 440], sr=SR), 5)                 # 5 s
    mel = runner.mel(y)
    np.testing.assert_allclose(mel, frontend.normalized_mel(y, config), atol=1e-3)
    np.testing.assert_allclose(runner.convert_mel(mel),
                               convert.convert_mel(frozen, mel, config), atol=1e-3)
    out = runner.convert(y, block_seconds=2.0, n_iter=4)
    assert out.shape == y.shape and np.all(np.isfinite(out))


def test_waveform_tflite_model_for_power_of_two_front_ends(tmp_path):
    """music-22k (n_fft 1024) gets an end-to-end waveform TFLite model; melgan-vc (1152) cannot."""
    from ai_edge_litert.interpreter import Interpreter

    config = frontend.preset("music-22k", **TINY)
    from tfstyle.converters.melgan_vc.trainer import build_networks
    frozen = export.freeze_generator(build_networks(config)[0], config)
    samples = export.waveform_block(config)
    path, ops = export.export_tflite(frozen, config, str(tmp_path / "w.tflite"),
                                     waveform_samples=samples)
    assert "RFFT2D" in ops and not [op for op in ops if op.lower().startswith("flex")]
    y = melody([262, 330, 392], sr=22050)
    x = np.resize(y, (1, samples)).astype(np.float32)
    got = Interpreter(model_path=path).get_signature_runner()(waveform=x)["waveform"]
    want = export.waveform_model_fn(frozen, config, samples)(tf.constant(x)).numpy()
    assert got.shape == (1, samples)
    assert np.max(np.abs(got - want)) < 1e-3 * max(1.0, np.max(np.abs(want)))


def test_export_run_says_why_there_is_no_waveform_model(exported):
    _, written, *_ = exported
    notes = [d for p, d in written.items() if p.startswith("(no ")]
    assert notes and "not a power of two" in notes[0]


def test_flex_ops_are_named_in_the_error():
    message = ("ConverterError: <unknown>:0: error: 'tf.IRFFT' op is neither a custom op nor a "
               "flex op\n<unknown>:0: error: 'tf.Complex' op is neither a custom op nor a flex op"
               "\nError code: ERROR_NEEDS_FLEX_OPS")
    assert serving.flex_ops(message) == ["Complex", "IRFFT"]
