"""Export a trained generator: SavedModel for TF Serving, TFLite for devices.

SavedModel (TF Serving layout `OUT/<name>/<version>/`), three signatures:
- `serving_default`: `wav_bytes` [batch] 16-bit PCM WAV strings → `audio_bytes` WAV strings at
  the input's rate (decode, FFT resampling when the rate differs, normalised mel, crossfaded
  generator slices, Griffin-Lim, encode), for REST clients sending {"b64": ...};
- `waveform`: float32 `waveform` [batch, samples] at the model's rate → `waveform` likewise;
- `mel`: normalised `mel` [batch, frames, n_mels] → converted `mel`.
The model's front-end settings, slice size and latency are in `assets.extra/tfstyle.json`.
With a vocoder (`tfstyle export RUN --vocoder VOCODER_RUN`), `serving_default` and `waveform`
turn the converted mel into sound with it instead of Griffin-Lim.

TFLite, TFLITE_BUILTINS only (no Flex runtime exists for Python, and phones rarely ship one),
float32, float16 or dynamic-range int8:
- the generator on one slice, [1, n_mels, frames, 1] → same; a fixed slice keeps every op a
  builtin (a dynamic time axis turns the upsampling convs into Flex ops); devices run it over
  overlapping slices like `convert_mel`;
- when n_fft is a power of two (RFFT2D's requirement), a waveform model [1, samples] → same for
  blocks of 8 slices: mel, crossfaded generator slices, mel inversion and 16 Griffin-Lim
  iterations written with real DFT matmuls (irfft and complex ops would need Flex);
- with a vocoder, the vocoder on a fixed block of `vocoder_frames` mel frames, [1, frames,
  n_mels] → [1, frames · hop]; devices run it over blocks that carry its receptive field of
  context on each side (`tfstyle.converters.vocoder.synthesis`). A phase-vocoder prior's
  vocoder also takes and gives `carry` [1, bins], its phase summed over frames, from one block
  to the next (`export/tflite_runner.py`).

Spectral normalisation is frozen into plain kernels first: the exported graph has no variable
updates, so it is stateless and convertible.
"""
import os

import numpy as np

from tfstyle.converters import serving

# Griffin-Lim iterations unrolled into the waveform TFLite model (each adds a DFT pair).
WAVEFORM_GL_ITERS = 16
# Mel frames that each call of the vocoder TFLite model keeps; it computes the receptive field
# on each side as well (a fixed size keeps every op a builtin).
VOCODER_KEPT_FRAMES = 128


def vocoder_frames(vocoder):
    """The frames per call for this vocoder: VOCODER_KEPT_FRAMES and its receptive field on
    each side, up to a multiple of its `frame_period` (4 for an inverse STFT of 4 hops, 6 for
    one of 6), on which the blocks it keeps must start."""
    period = getattr(vocoder, "frame_period", 1)
    frames = VOCODER_KEPT_FRAMES + 2 * vocoder.receptive_field()
    return -(-frames // period) * period


def freeze_generator(generator, config):
    """A plain Generator (no spectral-norm state) computing what `generator` computes."""
    import keras

    from tfstyle.converters.melgan_vc.generator import Generator

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


def metadata(config, run_dir=None, vocoder=None):
    hop, frames = config.hop_length, config.frames
    inversion = {"inversion": "griffin-lim"} if vocoder is None else {
        "inversion": "wavenet vocoder",
        "vocoder": {"receptive_field_frames": vocoder.receptive_field(),
                    "parameters": int(vocoder.count_params()),
                    "upsample": vocoder.upsample, "channels": vocoder.channels,
                    "dilations": vocoder.dilations}}
    return {**inversion,
        "model": "melgan-vc generator", "family": "melgan-vc", "tfstyle_format": 1,
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


def _waveform_fn(generator, config, gl_iters, vocoder=None):
    import tensorflow as tf

    from tfstyle import phase
    from tfstyle.converters.melgan_vc import convert, frontend

    alpha = tf.constant(0.99 / 1.99, tf.float32)

    def one(y):
        length = tf.shape(y)[0]
        padded = tf.pad(y, [[0, tf.maximum(config.n_fft - length, 0)]])
        mel = convert.convert_mel(generator, frontend.normalized_mel(padded, config), config)
        if vocoder is not None:
            audio = vocoder.synthesise(mel[None])[0][:length]
            return serving.match_rms(audio, y)
        magnitude = frontend.linear_magnitude(mel, config)
        angles = phase._initial_angles(magnitude, "random", 0)
        audio = phase._griffin_lim(magnitude, angles, tf.constant(gl_iters), alpha,
                                   n_fft=config.n_fft, hop_length=config.hop_length,
                                   win_length=config.n_fft, center=True,
                                   length=tf.shape(padded)[0])[:length]
        return serving.match_rms(audio, y)   # the level of the input, as `tfstyle convert`

    def waveform(batch):
        return tf.map_fn(one, batch, fn_output_signature=tf.TensorSpec([None], tf.float32))

    return waveform


def waveform_block(config, slices=8):
    """Samples per call of the waveform TFLite model: `slices` generator slices of mel frames."""
    return (slices * config.frames - 1) * config.hop_length


def waveform_model_fn(generator, config, samples, gl_iters=16, seed=0):
    """[1, samples] → [1, samples] with TFLite builtins only: normalised mel, the generator over
    crossfaded slices, non-negative mel inversion and builtin Griffin-Lim from a fixed random
    phase (a constant, since random ops are not builtins)."""
    import tensorflow as tf

    from tfstyle import phase
    from tfstyle.converters.melgan_vc import convert, frontend

    frames = 1 + samples // config.hop_length
    start = np.random.default_rng(seed).uniform(0, 2 * np.pi, (frames, config.n_fft // 2 + 1))
    start = tf.constant(start.astype(np.float32))

    def fn(waveform):
        mel = convert.convert_mel(generator, frontend.normalized_mel(waveform[0], config), config)
        magnitude = tf.reshape(frontend.linear_magnitude(mel, config), start.shape)
        return phase.griffin_lim_builtin(magnitude, start, gl_iters, config.hop_length,
                                         config.n_fft, samples, pad_mode="reflect")[None]

    return fn


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


def export_saved_model(generator, config, base, name="tfstyle", version=None, gl_iters=64,
                       run_dir=None, vocoder=None):
    """Writes OUT/<name>/<version>/ (the next free version by default); returns its path."""
    import tensorflow as tf

    from tfstyle.converters.melgan_vc import convert

    path = serving.version_path(base, name, version)
    archive = serving.serving_archive(
        [generator] + ([vocoder] if vocoder is not None else []),
        _waveform_fn(generator, config, gl_iters, vocoder), config.sr)

    def mel_fn(mel):
        return tf.map_fn(lambda m: convert.convert_mel(generator, m, config), mel)

    archive.add_endpoint("mel", lambda mel: {"mel": mel_fn(mel)},
                         input_signature=[tf.TensorSpec([None, None, config.n_mels], tf.float32,
                                                        name="mel")])
    return serving.write_archive(archive, path, metadata(config, run_dir, vocoder))


def export_tflite(generator, config, path, quantize="none", waveform_samples=None,
                  gl_iters=16):
    """Converts the one-slice generator (or, given `waveform_samples`, the waveform block model);
    returns (path, ops). Fails listing any op that is not a TFLite builtin."""
    import tensorflow as tf

    if waveform_samples:
        fn = waveform_model_fn(generator, config, waveform_samples, gl_iters)
        endpoint = (lambda waveform: {"waveform": fn(waveform)},
                    [tf.TensorSpec([1, waveform_samples], tf.float32, name="waveform")])
    else:
        endpoint = (lambda mel: {"mel": generator(mel, training=False)},
                    [tf.TensorSpec([1, config.n_mels, config.frames, 1], tf.float32,
                                   name="mel")])
    return serving.to_tflite([generator], {"serving_default": endpoint}, path, quantize)


def _vocoder_block(vocoder, frames):
    """(inputs, call) of the vocoder TFLite model: `mel` [1, frames, n_mels] → `waveform`; a
    vocoder with an integrated phase also takes and gives `carry` [1, bins], that phase at the
    block's first kept frame (after its context) and at the next block's, as the runner's
    blocks follow each other (`WaveNetISTFTVocoder.vocode_block`)."""
    if frames % getattr(vocoder, "frame_period", 1):
        raise ValueError(f"{frames} frames per block: not a multiple of the vocoder's "
                         f"{vocoder.frame_period}")
    if not getattr(vocoder, "integrate", False):
        return {}, lambda mel: {"waveform": vocoder.synthesise(mel)}
    context = vocoder.receptive_field()

    def call(mel, carry):
        audio, carry = vocoder.vocode_block(mel, carry, context, frames - 2 * context)
        return {"waveform": audio, "carry": carry}

    return {"carry": [1, vocoder.bins]}, call


def vocoder_error(vocoder, path, frames=None, seed=0):
    """Max absolute difference between the vocoder TFLite model and Keras on a random mel
    (and carry)."""
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(seed)
    frames = frames or vocoder_frames(vocoder)
    extra, call = _vocoder_block(vocoder, frames)
    inputs = {"mel": rng.uniform(-1, 0.5, (1, frames, vocoder.n_mels)).astype(np.float32),
              **{name: rng.uniform(-3, 3, shape).astype(np.float32)
                 for name, shape in extra.items()}}
    got = Interpreter(model_path=path).get_signature_runner()(**inputs)
    want = call(**inputs)
    return max(float(np.max(np.abs(got[name] - np.asarray(want[name])))) for name in want)


def export_vocoder_tflite(vocoder, path, quantize="none", frames=None):
    """The vocoder on `frames` mel frames, TFLite builtins only; returns (path, ops)."""
    import tensorflow as tf

    frames = frames or vocoder_frames(vocoder)
    extra, call = _vocoder_block(vocoder, frames)
    specs = [tf.TensorSpec([1, frames, vocoder.n_mels], tf.float32, name="mel")] + [
        tf.TensorSpec(shape, tf.float32, name=name) for name, shape in extra.items()]
    return serving.to_tflite([vocoder], {"serving_default": (call, specs)}, path, quantize)


def export_generator(frozen, config, out, fmt="all", quantize=("none",), name="tfstyle",
                     version=None, gl_iters=64, source=None, log=None, vocoder=None):
    """Exports a frozen generator (`freeze_generator`); returns {artifact path: description}.
    `source` (a run or shipped-model folder) is recorded in the metadata; `vocoder` (a
    vocoder generator of the same mel front end) replaces Griffin-Lim in the SavedModel and
    is written as a TFLite model of its own."""
    written = {}
    inversion = "Griffin-Lim" if vocoder is None else "the WaveNet vocoder"
    if fmt in ("saved_model", "all"):
        path = export_saved_model(frozen, config, out, name, version, gl_iters, source, vocoder)
        written[path] = f"SavedModel (serving_default, waveform, mel; {inversion})"
    if fmt in ("tflite", "all"):
        os.makedirs(out, exist_ok=True)
        for q in quantize:
            path = os.path.join(out, f"{name}_generator_{q}.tflite")
            path, ops = export_tflite(frozen, config, path, q)
            error = tflite_error(frozen, path, config)
            serving.write_json(path + ".json", {**metadata(config, source), "tflite": {
                "input": [1, config.n_mels, config.frames, 1], "quantize": q,
                "max_abs_error_vs_keras": error, "ops": ops, "bytes": os.path.getsize(path)}})
            written[path] = (f"TFLite generator slice, {q}: {os.path.getsize(path) / 1e6:.1f} MB, "
                             f"max error vs Keras {error:.2g}, ops {', '.join(ops)}")
            if vocoder is not None:
                path = os.path.join(out, f"{name}_vocoder_{q}.tflite")
                frames = vocoder_frames(vocoder)
                path, ops = export_vocoder_tflite(vocoder, path, q, frames)
                error = vocoder_error(vocoder, path, frames)
                serving.write_json(path + ".json", {**metadata(config, source, vocoder),
                                                    "tflite": {
                    "input": [1, frames, config.n_mels],
                    "output": [1, frames * config.hop_length], "quantize": q,
                    "carry": _vocoder_block(vocoder, frames)[0].get("carry"),
                    "context_frames": vocoder.receptive_field(),
                    "max_abs_error_vs_keras": error, "ops": ops,
                    "bytes": os.path.getsize(path)}})
                written[path] = (f"TFLite vocoder ({frames} frames per call), {q}: "
                                 f"{os.path.getsize(path) / 1e6:.1f} MB, max error vs Keras "
                                 f"{error:.2g}")
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
            serving.write_json(path + ".json", {**metadata(config, source), "tflite": {
                "input": [1, samples], "output": [1, samples], "quantize": q,
                "griffin_lim_iters": WAVEFORM_GL_ITERS, "max_abs_error_vs_tf": error,
                "ops": ops, "bytes": os.path.getsize(path)}})
            written[path] = (f"TFLite waveform model ({samples} samples per call), {q}: "
                             f"{os.path.getsize(path) / 1e6:.1f} MB, max error vs TF "
                             f"{error:.2g}")
    return written
