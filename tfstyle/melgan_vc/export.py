"""Export a trained generator: SavedModel for TF Serving, TFLite for devices.

SavedModel (TF Serving layout `OUT/<name>/<version>/`), three signatures:
- `serving_default`: `wav_bytes` [batch] 16-bit PCM WAV strings → `audio_bytes` WAV strings at
  the input's rate (decode, FFT resampling when the rate differs, normalised mel, crossfaded
  generator slices, Griffin-Lim, encode), for REST clients sending {"b64": ...};
- `waveform`: float32 `waveform` [batch, samples] at the model's rate → `waveform` likewise;
- `mel`: normalised `mel` [batch, frames, n_mels] → converted `mel`.
The model's front-end settings, slice size and latency are in `assets.extra/tfstyle.json`.

TFLite, TFLITE_BUILTINS only (no Flex runtime exists for Python, and phones rarely ship one),
float32, float16 or dynamic-range int8:
- the generator on one slice, [1, n_mels, frames, 1] → same; a fixed slice keeps every op a
  builtin (a dynamic time axis turns the upsampling convs into Flex ops); devices run it over
  overlapping slices like `convert_mel`;
- when n_fft is a power of two (RFFT2D's requirement), a waveform model [1, samples] → same for
  blocks of 8 slices: mel, crossfaded generator slices, mel inversion and 16 Griffin-Lim
  iterations written with real DFT matmuls (irfft and complex ops would need Flex).

Spectral normalisation is frozen into plain kernels first: the exported graph has no variable
updates, so it is stateless and convertible.
"""
import json
import os
import re

import numpy as np

from tfstyle.errors import TfstyleError

QUANTIZE = ("none", "float16", "int8")
# Griffin-Lim iterations unrolled into the waveform TFLite model (each adds a DFT pair).
WAVEFORM_GL_ITERS = 16
FORMATS = ("saved_model", "tflite", "all")


def freeze_generator(generator, config):
    """A plain Generator (no spectral-norm state) computing what `generator` computes."""
    import keras

    from tfstyle.melgan_vc.generator import Generator

    frozen = Generator(config.n_mels, config.generator_filters, "none", name="generator")
    for layer in frozen.layers:
        if not layer.weights:
            continue
        source = generator.get_layer(layer.name)
        if hasattr(source, "normalized_kernel"):            # the reference's power iteration
            weights = [np.asarray(source.normalized_kernel())] + (
                [np.asarray(source.bias)] if source.use_bias else [])
        elif isinstance(source, keras.layers.SpectralNormalization):
            weights = [np.asarray(w) for w in source.layer.weights]
        else:
            weights = source.get_weights()
        layer.set_weights(weights)
    return frozen


def metadata(config, run_dir=None):
    hop, frames = config.hop_length, config.frames
    return {
        "model": "melgan-vc generator", "tfstyle_format": 1,
        "sr": config.sr, "n_fft": config.n_fft, "hop_length": hop, "n_mels": config.n_mels,
        "fmin": config.fmin, "fmax": config.fmax, "min_level_db": config.min_level_db,
        "ref_level_db": config.ref_level_db, "mel_scale": "htk", "mel_norm": None,
        "chunk_frames": frames, "chunk_samples": frames * hop,
        "chunk_hop_frames": frames // 2, "crossfade": "hann, 50 % overlap",
        # A streaming device must hold one slice before it can emit its first frame.
        "latency_samples": frames * hop + config.n_fft // 2,
        "signatures": {"serving_default": "wav_bytes -> audio_bytes",
                       "waveform": "waveform [batch, samples] -> waveform",
                       "mel": "mel [batch, frames, n_mels] -> mel"},
        "run_dir": os.path.abspath(run_dir) if run_dir else None,
    }


def resample(y, sr_from, sr_to):
    """Band-limited resampling of [..., samples] by zero-padding or truncating the spectrum."""
    import tensorflow as tf

    n = tf.shape(y)[-1]
    n_out = tf.cast(tf.round(tf.cast(n, tf.float64) * tf.cast(sr_to, tf.float64)
                             / tf.cast(sr_from, tf.float64)), tf.int32)
    spectrum = tf.signal.rfft(y)
    bins_out = n_out // 2 + 1
    keep = tf.minimum(tf.shape(spectrum)[-1], bins_out)
    spectrum = tf.pad(spectrum[..., :keep], [[0, 0]] * (len(y.shape) - 1)
                      + [[0, bins_out - keep]])
    return tf.signal.irfft(spectrum, [n_out]) * tf.cast(n_out, tf.float32) / tf.cast(n, tf.float32)


def _limit(audio):
    """Scales down (never up) so the peak stays at audio.PEAK (-1 dBFS)."""
    import tensorflow as tf

    from tfstyle.audio import PEAK

    return audio * tf.minimum(1.0, PEAK / (tf.reduce_max(tf.abs(audio)) + 1e-9))


def _waveform_fn(generator, config, gl_iters):
    import tensorflow as tf

    from tfstyle import phase
    from tfstyle.melgan_vc import convert, frontend

    alpha = tf.constant(0.99 / 1.99, tf.float32)

    def one(y):
        length = tf.shape(y)[0]
        padded = tf.pad(y, [[0, tf.maximum(config.n_fft - length, 0)]])
        mel = convert.convert_mel(generator, frontend.normalized_mel(padded, config), config)
        magnitude = frontend.linear_magnitude(mel, config)
        angles = phase._initial_angles(magnitude, "random", 0)
        audio = phase._griffin_lim(magnitude, angles, tf.constant(gl_iters), alpha,
                                   n_fft=config.n_fft, hop_length=config.hop_length,
                                   win_length=config.n_fft, center=True,
                                   length=tf.shape(padded)[0])[:length]
        # The level of the input, as `tfstyle convert` does.
        rms = lambda x: tf.sqrt(tf.reduce_mean(tf.square(x)) + 1e-12)
        return _limit(audio * rms(y) / rms(audio))

    def waveform(batch):
        return tf.map_fn(one, batch, fn_output_signature=tf.TensorSpec([None], tf.float32))

    return waveform


def export_saved_model(generator, config, base, name="tfstyle", version=None, gl_iters=64,
                       run_dir=None):
    """Writes OUT/<name>/<version>/ (the next free version by default); returns its path."""
    import keras
    import tensorflow as tf

    from tfstyle.melgan_vc import convert

    folder = os.path.join(base, name)
    if version is None:
        existing = [int(v) for v in os.listdir(folder) if v.isdigit()] \
            if os.path.isdir(folder) else []
        version = max(existing, default=0) + 1
    path = os.path.join(folder, str(version))
    if os.path.exists(path):
        raise TfstyleError(f"{path} already exists; TF Serving versions are immutable, pick "
                           "another --version")
    waveform = _waveform_fn(generator, config, gl_iters)

    def mel_fn(mel):
        return tf.map_fn(lambda m: convert.convert_mel(generator, m, config), mel)

    def wav_fn(wav_bytes):
        def one(data):
            checks = [tf.debugging.assert_equal(
                tf.strings.substr(data, 0, 4), "RIFF",
                message="wav_bytes: expected a 16-bit PCM WAV file (no RIFF header)")]
            with tf.control_dependencies(checks):
                decoded = tf.audio.decode_wav(data, desired_channels=1)
            rate = decoded.sample_rate
            y = decoded.audio[:, 0]
            with tf.control_dependencies([tf.debugging.assert_greater(
                    tf.size(y), 0, message="wav_bytes: the WAV file holds no samples")]):
                y = tf.identity(y)
            y = tf.cond(tf.equal(rate, config.sr), lambda: y,
                        lambda: resample(y, rate, config.sr))
            out = waveform(y[None])[0]
            out = tf.cond(tf.equal(rate, config.sr), lambda: out,
                          lambda: resample(out, config.sr, rate))
            # Resampling back can overshoot the waveform signature's ceiling a little.
            return tf.audio.encode_wav(_limit(out)[:, None], rate)

        return tf.map_fn(one, wav_bytes, fn_output_signature=tf.TensorSpec([], tf.string))

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serving_default", lambda wav_bytes: {"audio_bytes": wav_fn(wav_bytes)},
                         input_signature=[tf.TensorSpec([None], tf.string, name="wav_bytes")])
    archive.add_endpoint("waveform", lambda waveform_in: {"waveform": waveform(waveform_in)},
                         input_signature=[tf.TensorSpec([None, None], tf.float32,
                                                        name="waveform")])
    archive.add_endpoint("mel", lambda mel: {"mel": mel_fn(mel)},
                         input_signature=[tf.TensorSpec([None, None, config.n_mels], tf.float32,
                                                        name="mel")])
    tmp = path + ".partial"
    archive.write_out(tmp, verbose=False)
    os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
    with open(os.path.join(tmp, "assets.extra", "tfstyle.json"), "w") as f:
        json.dump(metadata(config, run_dir), f, indent=2)
    os.replace(tmp, path)
    return path


def flex_ops(message):
    """The TensorFlow ops a converter error says have no TFLite builtin."""
    return sorted(set(re.findall(r"'?tf\.(\w+)'? op is neither a custom op nor a flex op",
                                 message)) | set(re.findall(r"\btf\.(\w+)\b.*?Flex", message)))


def waveform_block(config, slices=8):
    """Samples per call of the waveform TFLite model: `slices` generator slices of mel frames."""
    return (slices * config.frames - 1) * config.hop_length


def waveform_model_fn(generator, config, samples, gl_iters=16, seed=0):
    """[1, samples] → [1, samples] with TFLite builtins only: normalised mel, the generator over
    crossfaded slices, non-negative mel inversion and builtin Griffin-Lim from a fixed random
    phase (a constant, since random ops are not builtins)."""
    import tensorflow as tf

    from tfstyle import phase
    from tfstyle.melgan_vc import convert, frontend

    frames = 1 + samples // config.hop_length
    start = np.random.default_rng(seed).uniform(0, 2 * np.pi, (frames, config.n_fft // 2 + 1))
    start = tf.constant(start.astype(np.float32))

    def fn(waveform):
        mel = convert.convert_mel(generator, frontend.normalized_mel(waveform[0], config), config)
        magnitude = tf.reshape(frontend.linear_magnitude(mel, config), start.shape)
        return phase.griffin_lim_builtin(magnitude, start, gl_iters, config.hop_length,
                                         config.n_fft, samples, pad_mode="reflect")[None]

    return fn


def export_tflite(generator, config, path, quantize="none", waveform_samples=None,
                  gl_iters=16):
    """Converts the one-slice generator (or, given `waveform_samples`, the waveform block model);
    returns (path, ops). Fails listing any op that is not a TFLite builtin."""
    import tensorflow as tf

    if quantize not in QUANTIZE:
        raise TfstyleError(f"quantize must be one of {', '.join(QUANTIZE)}, got {quantize!r}")
    import keras

    # Through a SavedModel: converting a Keras 3 model's concrete function directly can leave
    # its variables uninitialised and give silent garbage (platform notes, pitfall 1).
    archive = keras.export.ExportArchive()
    archive.track(generator)
    if waveform_samples:
        fn = waveform_model_fn(generator, config, waveform_samples, gl_iters)
        archive.add_endpoint("serving_default", lambda waveform: {"waveform": fn(waveform)},
                             input_signature=[tf.TensorSpec([1, waveform_samples], tf.float32,
                                                            name="waveform")])
    else:
        spec = tf.TensorSpec([1, config.n_mels, config.frames, 1], tf.float32, name="mel")
        archive.add_endpoint("serving_default",
                             lambda mel: {"mel": generator(mel, training=False)},
                             input_signature=[spec])
    staging = path + ".savedmodel.partial"
    archive.write_out(staging, verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(staging)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize != "none":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    try:
        flatbuffer = converter.convert()
    except Exception as e:  # ConverterError: the message names the unsupported ops
        ops = flex_ops(str(e))
        raise TfstyleError("TFLite export needs ops that are not TFLite builtins: "
                           + (", ".join(ops) if ops else str(e).splitlines()[0])) from None
    finally:
        import shutil
        shutil.rmtree(staging, ignore_errors=True)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(flatbuffer)
    os.replace(tmp, path)
    return path, tflite_ops(path)


def tflite_ops(path):
    from ai_edge_litert.interpreter import Interpreter

    return sorted({op["op_name"] for op in Interpreter(model_path=path)._get_ops_details()})


def tflite_error(generator, path, config, slices=4, seed=0):
    """Max absolute difference between the TFLite model and Keras on random slices."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path).get_signature_runner()
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(slices):
        x = np.tanh(rng.standard_normal((1, config.n_mels, config.frames, 1))).astype(np.float32)
        got = runner(mel=x)["mel"]
        want = np.asarray(generator(x, training=False))
        worst = max(worst, float(np.max(np.abs(got - want))))
    return worst


def waveform_error(generator, path, config, samples, seed=0):
    """Max absolute difference between the waveform TFLite model and the same graph in TF."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    x = np.random.default_rng(seed).uniform(-0.3, 0.3, (1, samples)).astype(np.float32)
    want = waveform_model_fn(generator, config, samples, WAVEFORM_GL_ITERS)(tf.constant(x))
    got = Interpreter(model_path=path).get_signature_runner()(waveform=x)["waveform"]
    return float(np.max(np.abs(got - np.asarray(want))))


def export_run(run_dir, out, fmt="all", quantize=("none",), name="tfstyle", version=None,
               gl_iters=64, log=None, model=None):
    """Exports a run's latest generator (or the shipped `model`); returns {artifact path:
    description}."""
    from tfstyle.melgan_vc.api import load_converter

    if fmt not in FORMATS:
        raise TfstyleError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    generator, config = load_converter(run_dir, model)
    if model:
        from tfstyle import pretrained
        run_dir = pretrained.folder(model)
    frozen = freeze_generator(generator, config)
    written = {}
    if fmt in ("saved_model", "all"):
        path = export_saved_model(frozen, config, out, name, version, gl_iters, run_dir)
        written[path] = "SavedModel (serving_default, waveform, mel)"
    if fmt in ("tflite", "all"):
        os.makedirs(out, exist_ok=True)
        for q in quantize:
            path = os.path.join(out, f"{name}_generator_{q}.tflite")
            path, ops = export_tflite(frozen, config, path, q)
            error = tflite_error(frozen, path, config)
            info = {**metadata(config, run_dir), "tflite": {
                "input": [1, config.n_mels, config.frames, 1], "quantize": q,
                "max_abs_error_vs_keras": error, "ops": ops, "bytes": os.path.getsize(path)}}
            with open(path + ".json", "w") as f:
                json.dump(info, f, indent=2)
            written[path] = (f"TFLite generator slice, {q}: {os.path.getsize(path) / 1e6:.1f} MB, "
                             f"max error vs Keras {error:.2g}, ops {', '.join(ops)}")
            if config.n_fft & (config.n_fft - 1):
                written[f"(no {name}_waveform_{q}.tflite)"] = (
                    f"n_fft {config.n_fft} is not a power of two, which TFLite's RFFT2D needs; "
                    "the music-22k preset has one")
                continue
            samples = waveform_block(config)
            path = os.path.join(out, f"{name}_waveform_{q}.tflite")
            path, ops = export_tflite(frozen, config, path, q, waveform_samples=samples,
                                      gl_iters=WAVEFORM_GL_ITERS)
            error = waveform_error(frozen, path, config, samples)
            with open(path + ".json", "w") as f:
                json.dump({**metadata(config, run_dir), "tflite": {
                    "input": [1, samples], "output": [1, samples], "quantize": q,
                    "griffin_lim_iters": WAVEFORM_GL_ITERS, "max_abs_error_vs_tf": error,
                    "ops": ops, "bytes": os.path.getsize(path)}}, f, indent=2)
            written[path] = (f"TFLite waveform model ({samples} samples per call), {q}: "
                             f"{os.path.getsize(path) / 1e6:.1f} MB, max error vs TF "
                             f"{error:.2g}")
    if log:
        for path, description in written.items():
            print(f"wrote {path}: {description}", file=log)
    return written


def info(path):
    """The metadata of an exported SavedModel folder (or a .tflite file)."""
    candidates = [path + ".json", os.path.join(path, "assets.extra", "tfstyle.json")]
    if os.path.isdir(path):
        versions = sorted((int(v) for v in os.listdir(path) if v.isdigit()), reverse=True)
        candidates += [os.path.join(path, str(v), "assets.extra", "tfstyle.json")
                       for v in versions]
    for candidate in candidates:
        if os.path.isfile(candidate):
            with open(candidate) as f:
                return json.load(f)
    raise TfstyleError(f"{path}: not a tfstyle export (no tfstyle.json metadata found)")
