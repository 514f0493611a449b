"""Export plumbing shared by every converter family: TF Serving folders, the WAV-bytes
signature, TFLite conversion with builtin ops only, and the metadata beside each artifact.

A family supplies the waveform function ([batch, samples] at its rate → same) and, for TFLite,
the fixed-shape functions it can express with builtins; this module does the rest the same way
for all of them.
"""
import json
import os
import re
import shutil

from tfstyle.errors import TfstyleError

QUANTIZE = ("none", "float16", "int8")
FORMATS = ("saved_model", "tflite", "all")
METADATA = "tfstyle.json"


def version_path(base, name, version=None):
    """OUT/<name>/<version> (the next free version by default), which must not exist yet."""
    folder = os.path.join(base, name)
    if version is None:
        existing = [int(v) for v in os.listdir(folder) if v.isdigit()] \
            if os.path.isdir(folder) else []
        version = max(existing, default=0) + 1
    path = os.path.join(folder, str(version))
    if os.path.exists(path):
        raise TfstyleError(f"{path} already exists; TF Serving versions are immutable, pick "
                           "another --version")
    return path


def write_archive(archive, path, metadata):
    """Writes a keras ExportArchive to `path` atomically, its metadata in assets.extra/."""
    tmp = path + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    archive.write_out(tmp, verbose=False)
    os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
    with open(os.path.join(tmp, "assets.extra", METADATA), "w") as f:
        json.dump(metadata, f, indent=2)
    os.replace(tmp, path)
    return path


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


def limit(audio):
    """Scales down (never up) so the peak stays at audio.PEAK (-1 dBFS)."""
    import tensorflow as tf

    from tfstyle.audio import PEAK

    return audio * tf.minimum(1.0, PEAK / (tf.reduce_max(tf.abs(audio)) + 1e-9))


def match_rms(audio, reference):
    """`audio` at the RMS of `reference`, peak limited, as `tfstyle convert` levels its output."""
    import tensorflow as tf

    rms = lambda x: tf.sqrt(tf.reduce_mean(tf.square(x)) + 1e-12)
    return limit(audio * rms(reference) / rms(audio))


def decode_wav(data, sr, name="wav_bytes"):
    """One 16-bit PCM WAV string → (its samples at `sr`, its own rate), with one-line
    errors for what is not a WAV file or holds no samples."""
    import tensorflow as tf

    checks = [tf.debugging.assert_equal(
        tf.strings.substr(data, 0, 4), "RIFF",
        message=f"{name}: expected a 16-bit PCM WAV file (no RIFF header)")]
    with tf.control_dependencies(checks):
        decoded = tf.audio.decode_wav(data, desired_channels=1)
    rate = decoded.sample_rate
    y = decoded.audio[:, 0]
    with tf.control_dependencies([tf.debugging.assert_greater(
            tf.size(y), 0, message=f"{name}: the WAV file holds no samples")]):
        y = tf.identity(y)
    return tf.cond(tf.equal(rate, sr), lambda: y, lambda: resample(y, rate, sr)), rate


def wav_bytes_fn(waveform, sr, style=False):
    """[batch] 16-bit PCM WAV strings → WAV strings at each input's rate, through
    `waveform` ([batch, samples] at `sr` → same; with `style`, a second [batch, samples]
    of style clips, which the returned function takes as WAV strings too)."""
    import tensorflow as tf

    def one(data, style_data=None):
        y, rate = decode_wav(data, sr)
        if style_data is None:
            out = waveform(y[None])[0]
        else:
            out = waveform(y[None], decode_wav(style_data, sr, "style_bytes")[0][None])[0]
        out = tf.cond(tf.equal(rate, sr), lambda: out, lambda: resample(out, sr, rate))
        # Resampling back can overshoot the waveform signature's ceiling a little.
        return tf.audio.encode_wav(limit(out)[:, None], rate)

    spec = tf.TensorSpec([], tf.string)
    if style:
        return lambda wav_bytes, style_bytes: tf.map_fn(
            lambda pair: one(*pair), (wav_bytes, style_bytes), fn_output_signature=spec)
    return lambda wav_bytes: tf.map_fn(one, wav_bytes, fn_output_signature=spec)


def serving_archive(tracked, waveform, sr, style=False):
    """An ExportArchive tracking `tracked` with `serving_default` (WAV bytes) and `waveform`
    ([batch, samples] float32 at `sr`) endpoints; with `style`, each takes the style clips
    as a second input too (`style_bytes`, `style`), as the timbre prior's one-shot model
    does. A family may add more endpoints before writing."""
    import keras
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    for item in tracked:
        archive.track(item)
    wav_fn = wav_bytes_fn(waveform, sr, style)
    strings = [tf.TensorSpec([None], tf.string, name="wav_bytes")]
    floats = [tf.TensorSpec([None, None], tf.float32, name="waveform")]
    if style:
        strings.append(tf.TensorSpec([None], tf.string, name="style_bytes"))
        floats.append(tf.TensorSpec([None, None], tf.float32, name="style"))
    archive.add_endpoint("serving_default", lambda *x: {"audio_bytes": wav_fn(*x)},
                         input_signature=strings)
    archive.add_endpoint("waveform", lambda *x: {"waveform": waveform(*x)},
                         input_signature=floats)
    return archive


def flex_ops(message):
    """The TensorFlow ops a converter error says have no TFLite builtin."""
    return sorted(set(re.findall(r"'?tf\.(\w+)'? op is neither a custom op nor a flex op",
                                 message)) | set(re.findall(r"\btf\.(\w+)\b.*?Flex", message)))


def to_tflite(tracked, endpoints, path, quantize="none"):
    """Converts fixed-shape functions to one TFLite file with TFLITE_BUILTINS only.

    `endpoints`: {signature name: (function of keyword tensors → dict, [TensorSpec])}.
    Returns (path, ops). Fails listing any op that is not a TFLite builtin.
    """
    import keras
    import tensorflow as tf

    if quantize not in QUANTIZE:
        raise TfstyleError(f"quantize must be one of {', '.join(QUANTIZE)}, got {quantize!r}")
    # Through a SavedModel: converting a Keras 3 model's concrete function directly can leave
    # its variables uninitialised and give silent garbage (platform notes, pitfall 1).
    archive = keras.export.ExportArchive()
    for item in tracked:
        archive.track(item)
    for name, (fn, signature) in endpoints.items():
        archive.add_endpoint(name, fn, input_signature=signature)
    staging = path + ".savedmodel.partial"
    archive.write_out(staging, verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(staging, list(endpoints))
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
        shutil.rmtree(staging, ignore_errors=True)
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        f.write(flatbuffer)
    os.replace(tmp, path)
    return path, tflite_ops(path)


def tflite_ops(path):
    """The names of every operator in a .tflite file, all signatures included."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = flatbuffer_utils.read_model(path)
    return sorted({names.get(max(code.builtinCode, code.deprecatedBuiltinCode),
                             f"custom:{code.customCode}") for code in model.operatorCodes})


def write_json(path, record):
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, path)


def save_weights(model, out, filename):
    """A model's weights into `out`/`filename`, atomically."""
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, ".partial." + filename)   # Keras insists on the .weights.h5 suffix
    model.save_weights(tmp)
    os.replace(tmp, os.path.join(out, filename))


def info(path):
    """The metadata of an exported SavedModel folder (or a .tflite file)."""
    candidates = [path + ".json", os.path.join(path, "assets.extra", METADATA)]
    if os.path.isdir(path):
        versions = sorted((int(v) for v in os.listdir(path) if v.isdigit()), reverse=True)
        candidates += [os.path.join(path, str(v), "assets.extra", METADATA)
                       for v in versions]
    for candidate in candidates:
        if os.path.isfile(candidate):
            with open(candidate) as f:
                return json.load(f)
    raise TfstyleError(f"{path}: not a tfstyle export (no tfstyle.json metadata found)")
