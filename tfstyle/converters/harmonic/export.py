"""Export a harmonic converter: SavedModel for TF Serving, TFLite for devices.

SavedModel (TF Serving layout `OUT/<name>/<version>/`), two signatures:
- `serving_default`: `wav_bytes` [batch] 16-bit PCM WAV strings → `audio_bytes` WAV strings
  at the input's rate; the pitch tracker, the mapping onto the instrument and the synthesiser
  all run on-graph (`graph`);
- `waveform`: float32 `waveform` [batch, samples] at the model's rate → `waveform` likewise.

TFLite (TFLITE_BUILTINS only, float32 / float16 / int8 weights), the whole waveform-to-waveform
path in two signatures that a runner calls in turn (export/tflite_runner.py):
- `analyse`: a window of ANALYSIS_FRAMES centred frames of the input (as `controls.framed`
  cuts it) → per-frame YIN f0 and periodicity and A-weighted loudness;
- `render`: one block of BLOCK_FRAMES frames of the performance (f0, loudness, voicing, gate,
  one frame ahead for the ramp, as `synthesizer.render_blocks` uses them), the decoder's GRU
  state, the oscillator phase and the block's noise → the block's audio with its reverb tail,
  and the state and phase for the next block.
Between the two the runner does in NumPy what needs the whole input's statistics (voicing,
the octave shift, decay and loudness matching: `controls`, `performance.perform`), a few
numbers per frame; a converter with a learned loudness mapping has a third signature,
`dynamics`, that `dynamics.apply` calls on blocks of dynamics.BLOCK_FRAMES frames. Inside
`render` the FFTs of the filtered noise are real DFT matrix products and the reverb a
convolution (there is no builtin inverse real FFT), and the phase is summed in float32 over
one block (no float64 arithmetic in TFLite).
"""
import os

import numpy as np

from tfstyle.converters import serving
from tfstyle.harmonic import dynamics as dyn

BLOCK_FRAMES = 64
ANALYSIS_FRAMES = 256


def metadata(converter):
    import dataclasses

    config = converter.config
    return {"model": "harmonic converter", "family": "harmonic", "tfstyle_format": 1,
            "sr": config.sr, "hop_length": config.hop_length, "harmonics": config.harmonics,
            "noise_bands": config.noise_bands, "gru_units": converter.decoder.gru_units,
            "reverb_taps": config.reverb_taps, "transpose": config.transpose,
            "loudness": config.loudness,
            "dynamics_receptive_field": (None if converter.dynamics is None
                                         else converter.dynamics.receptive_field),
            "profile": (None if converter.profile is None
                        else dataclasses.asdict(converter.profile)),
            "signatures": {"serving_default": "wav_bytes -> audio_bytes",
                           "waveform": "waveform [batch, samples] -> waveform"},
            "source": os.path.abspath(converter.source) if converter.source else None}


def waveform_fn(converter):
    """[batch, samples] → [batch, samples]: every clip converted on its own."""
    import tensorflow as tf

    from tfstyle.converters.harmonic.graph import waveform_fn as one_clip

    one = one_clip(converter.decoder, converter.synth, converter.config, converter.profile,
                   converter.dynamics)
    return lambda batch: tf.map_fn(one, batch,
                                   fn_output_signature=tf.TensorSpec([None], tf.float32))


def export_saved_model(converter, base, name="tfstyle", version=None):
    path = serving.version_path(base, name, version)
    archive = serving.serving_archive(_models(converter), waveform_fn(converter),
                                      converter.config.sr)
    return serving.write_archive(archive, path, metadata(converter))


def prior_metadata(converter, encoder):
    return {**metadata(converter), "model": "harmonic timbre prior (one-shot)",
            "timbre": {"dims": converter.decoder.timbre_dims},
            "signatures": {"serving_default": "wav_bytes, style_bytes -> audio_bytes",
                           "waveform": "waveform, style [batch, samples] -> waveform",
                           "embed": "style [batch, samples] -> timbre [batch, dims]"}}


def export_prior_saved_model(converter, encoder, base, name="tfstyle", version=None):
    """The timbre prior with its encoder as a SavedModel: `serving_default` and `waveform`
    take a style clip beside each content (`graph.one_shot_fn`: the embedding and the
    profile taken from it on-graph, nothing adapted), `embed` gives a style's embedding."""
    import tensorflow as tf

    from tfstyle.converters.harmonic import graph

    config = converter.config
    one = graph.one_shot_fn(encoder, converter.decoder, converter.synth, config,
                            converter.dynamics)

    def waveform(contents, styles):
        return tf.map_fn(lambda pair: one(*pair), (contents, styles),
                         fn_output_signature=tf.TensorSpec([None], tf.float32))

    def embed(styles):
        return {"timbre": tf.map_fn(lambda y: graph.embed(encoder, y, config)[0], styles)}

    path = serving.version_path(base, name, version)
    archive = serving.serving_archive(_models(converter) + [encoder], waveform, config.sr,
                                      style=True)
    archive.add_endpoint("embed", embed, input_signature=[
        tf.TensorSpec([None, None], tf.float32, name="style")])
    return serving.write_archive(archive, path, prior_metadata(converter, encoder))


def _dft(n):
    """Real DFT matrices of size n (`spectral`'s, signed as this module uses them): x @ cos,
    x @ sin give rfft's real and -imaginary parts; (re @ icos - im @ isin) inverts a one-sided
    spectrum (irfft)."""
    from tfstyle import spectral

    cos, negative_sin = spectral._real_dft(n)
    icos, negative_isin = spectral._real_idft(n)
    return [m.astype(np.float32) for m in (cos, -negative_sin, icos, -negative_isin)]


def filtered_noise_builtin(magnitudes, noise, hop_length):
    """`dsp.filtered_noise` of [1, frames, bands] magnitudes and the given noise, with DFT
    matrix products instead of FFTs."""
    import tensorflow as tf

    bands = int(magnitudes.shape[-1])
    size = 2 * (bands - 1)
    _, _, icos, _ = _dft(size)
    # Zero-phase magnitudes: the impulse response is the cosine series alone.
    ir = tf.matmul(magnitudes[0], icos)                                  # [frames, size]
    ir = tf.roll(ir, shift=size // 2, axis=-1) * np.hanning(size + 1)[:-1].astype(np.float32)
    frames = int(magnitudes.shape[1])
    fft_size = int(2 ** np.ceil(np.log2(hop_length + size - 1)))
    cos, sin, icos, isin = _dft(fft_size)
    segments = tf.pad(tf.reshape(noise, [frames, hop_length]), [[0, 0], [0, fft_size - hop_length]])
    taps = tf.pad(ir, [[0, 0], [0, fft_size - size]])
    ar, ai = tf.matmul(segments, cos), -tf.matmul(segments, sin)
    br, bi = tf.matmul(taps, cos), -tf.matmul(taps, sin)
    re, im = ar * br - ai * bi, ar * bi + ai * br
    filtered = tf.matmul(re, icos) - tf.matmul(im, isin)                 # [frames, fft_size]
    pieces = filtered[:, :hop_length + size - 1]
    out = tf.signal.overlap_and_add(pieces[None], hop_length)[0]
    return out[None, size // 2:size // 2 + frames * hop_length]


def reverb_matrix(impulse_response, block):
    """The ((Q + 1)·block × block) matrix T that gives one block of the reverb's output from
    the Q + 1 blocks of input that reach it (Q = ceil((taps - 1) / block)):
    wet[j·block + m] = Σ_w window_j[w] · T[w, m], T[w, m] = h[m + Q·block − w]."""
    taps = len(impulse_response)
    reach = -(-(taps - 1) // block)
    w = np.arange((reach + 1) * block)[:, None]
    s = np.arange(block)[None, :] + reach * block - w
    inside = (s >= 0) & (s < taps)
    return np.where(inside, impulse_response[np.clip(s, 0, taps - 1)], 0.0).astype(np.float32)


# Samples per block of the TFLite reverb: the matrix holds (taps + block) x block constants
# (1.4 MB for 0.25 s at 22.05 kHz) and the windows (samples + taps) x (taps + block) / block
# floats (8 MB for a 64-frame block); 256 would make the matrix 6 MB and the windows 2 MB.
REVERB_BLOCK = 64


def reverb_builtin(dry, impulse_response, block=REVERB_BLOCK):
    """dry [1, n] + its convolution with the impulse response, [1, n + taps − 1] (the tail
    carried by the runner), as one matrix product over blocks of `block` samples.

    A direct convolution (CONV_2D) over a 0.25 s response made TFLite's im2col buffer
    (output samples × taps) about 0.9 GB, nearly all of the runner's 1 GB peak; here each
    output block reads only the input blocks that reach it."""
    import tensorflow as tf

    taps = len(impulse_response)
    matrix = reverb_matrix(impulse_response, block)
    reach = matrix.shape[0] // block - 1
    n = int(dry.shape[-1])
    out_blocks = -(-(n + taps - 1) // block)
    # reach blocks of zeros before, and enough after for the last output block's window.
    padded = tf.pad(dry, [[0, 0], [reach * block, out_blocks * block - n]])
    blocks = tf.reshape(padded, [out_blocks + reach, block])
    windows = tf.concat([blocks[k:k + out_blocks] for k in range(reach + 1)], axis=1)
    wet = tf.reshape(tf.matmul(windows, matrix), [1, out_blocks * block])[:, :n + taps - 1]
    return tf.pad(dry, [[0, 0], [0, taps - 1]]) + wet


def render_fn(converter, frames=BLOCK_FRAMES):
    """The TFLite block function (see the module docstring), in builtin-friendly ops."""
    import tensorflow as tf

    from tfstyle import dsp
    from tfstyle.converters.harmonic.graph import decode

    config, decoder, synth = converter.config, converter.decoder, converter.synth
    hop, taps = config.hop_length, config.reverb_taps
    reverb = synth.get_weights()[0].astype(np.float32) if taps > 0 else None

    def fn(f0, loudness, voiced, gate, state, phase, noise, timbre=None):
        # Frames 0..frames-1 are this block's; frame `frames` is the next block's first, for
        # the last hop's ramp (as `synthesizer.render_blocks` does).
        now = decode(decoder, f0[:, :frames], loudness[:, :frames], state, timbre)
        ahead = decode(decoder, f0[:, frames:], loudness[:, frames:], now["state"], timbre)
        outputs = {k: tf.concat([now[k], ahead[k]], axis=1) for k in now if k != "state"}
        amplitudes = synth.harmonic_amplitudes(outputs, f0, voiced, gate)
        harmonic, phase_out = dsp.harmonic_synth(f0, amplitudes, config.sr, hop,
                                                 n_samples=frames * hop, initial_phase=phase,
                                                 phase_dtype=tf.float32)
        shaped = outputs["noise_magnitudes"][:, :frames] * gate[:, :frames, None]
        dry = harmonic + filtered_noise_builtin(shaped, noise, hop)
        audio = dry if reverb is None else reverb_builtin(dry, reverb)
        return {"audio": audio, "state": now["state"], "phase": phase_out}

    specs = [tf.TensorSpec([1, frames + 1], tf.float32, name=n)
             for n in ("f0", "loudness", "voiced", "gate")]
    specs += [tf.TensorSpec([1, decoder.gru_units], tf.float32, name="state"),
              tf.TensorSpec([1], tf.float32, name="phase"),
              tf.TensorSpec([1, frames * hop], tf.float32, name="noise")]
    if getattr(decoder, "timbre_dims", 0):   # the prior's decoder: the embedding is an input
        specs.append(tf.TensorSpec([1, decoder.timbre_dims], tf.float32, name="timbre"))
    return fn, specs


def analysis_samples(hop_length, frames=ANALYSIS_FRAMES):
    from tfstyle.harmonic.controls import FRAME_LENGTH

    return (frames - 1) * hop_length + FRAME_LENGTH


def analyse_fn(config):
    import tensorflow as tf

    from tfstyle.harmonic.controls import measure_window

    def fn(window):
        f0, periodicity, loudness = measure_window(window, config.sr, config.hop_length)
        return {"f0": f0, "periodicity": periodicity, "loudness": loudness}

    return fn, [tf.TensorSpec([1, analysis_samples(config.hop_length)], tf.float32,
                              name="window")]


def _models(converter):
    return [m for m in (converter.decoder, converter.synth, converter.dynamics) if m is not None]


def dynamics_fn(dynamics, frames=dyn.BLOCK_FRAMES):
    """`dynamics.apply`'s call: features of `frames` frames and their context (and, for the
    timbre prior's conditioned mapping, the instrument's embedding) → relative loudness."""
    import tensorflow as tf

    features = tf.TensorSpec([1, frames + 2 * dynamics.receptive_field, dyn.N_FEATURES],
                             tf.float32, name="features")
    if getattr(dynamics, "timbre_dims", 0):
        def conditioned(features, timbre):
            return {"loudness": dynamics({"features": features, "timbre": timbre},
                                         training=False)}

        return conditioned, [features, tf.TensorSpec([1, dynamics.timbre_dims], tf.float32,
                                                      name="timbre")]

    def fn(features):
        return {"loudness": dynamics(features, training=False)}

    return fn, [features]


def export_tflite(converter, path, quantize="none", encoder=None):
    """`encoder` (the prior's): an `embed` signature too, and `render` takes the embedding."""
    render, render_specs = render_fn(converter)
    analyse, analyse_specs = analyse_fn(converter.config)
    if encoder is None:
        render_endpoint = (lambda f0, loudness, voiced, gate, state, phase, noise:
                           render(f0, loudness, voiced, gate, state, phase, noise))
    else:
        render_endpoint = render
    endpoints = {"analyse": (lambda window: analyse(window), analyse_specs),
                 "render": (render_endpoint, render_specs)}
    if converter.dynamics is not None:
        endpoints["dynamics"] = dynamics_fn(converter.dynamics)
    if encoder is not None:
        endpoints["embed"] = embed_fn(encoder, converter.config)
    models = _models(converter) + ([encoder] if encoder is not None else [])
    return serving.to_tflite(models, endpoints, path, quantize)


# The `embed` signature reads the first EMBED_SECONDS of the style (zero-padded: silence
# weighs nothing in the embedding).
EMBED_SECONDS = 10.0


def embed_fn(encoder, config):
    """A style clip [1, EMBED_SECONDS · sr] → its timbre embedding [1, dims]."""
    import tensorflow as tf

    from tfstyle.converters.harmonic import graph

    def fn(clip):
        return {"timbre": graph.embed(encoder, clip[0], config)}

    return fn, [tf.TensorSpec([1, int(EMBED_SECONDS * config.sr)], tf.float32, name="clip")]


def export_prior(converter, encoder, out, fmt="all", quantize=("none",), name="tfstyle",
                 version=None):
    """The timbre prior with its encoder: a SavedModel (`export_prior_saved_model`) and one
    TFLite file per quantization with `analyse`, `embed` (a style clip → its embedding) and
    `render` (which takes the embedding), so an app does one-shot transfer with any clip its
    user records; the runner takes the instrument's pitch and loudness profile from the same
    clip. `converter`: the prior's (`Converter.of_prior`). Returns {path: description}."""
    written = {}
    if fmt in ("saved_model", "all"):
        path = export_prior_saved_model(converter, encoder, out, name, version)
        written[path] = ("SavedModel of the timbre prior (serving_default, waveform: content "
                         "and style in; embed)")
    if fmt in ("tflite", "all"):
        os.makedirs(out, exist_ok=True)
        written.update(write_tflite(converter, os.path.join(out, f"{name}_prior_{q}.tflite"),
                                    q, encoder) for q in quantize)
    return written


def write_tflite(converter, path, quantize, encoder=None):
    """One TFLite file and its .json (settings, signatures, measured error); returns (path,
    description)."""
    path, ops = export_tflite(converter, path, quantize, encoder)
    error = tflite_error(converter, path)
    signatures = ["analyse", "render"] + (["dynamics"] if converter.dynamics is not None
                                           else []) + (["embed"] if encoder is not None else [])
    record = {**metadata(converter), "tflite": {
        "signatures": signatures, "block_frames": BLOCK_FRAMES,
        "dynamics_block_frames": dyn.BLOCK_FRAMES,
        "dynamics_max_abs_error_vs_tf": dynamics_error(converter, path, 0),
        "analysis_frames": ANALYSIS_FRAMES,
        "block_samples": BLOCK_FRAMES * converter.config.hop_length,
        "quantize": quantize, "max_abs_error_vs_tf": error, "ops": ops,
        "bytes": os.path.getsize(path)}}
    if encoder is not None:
        record.update(model="harmonic timbre prior (one-shot)", signatures={},
                      timbre={"dims": converter.decoder.timbre_dims,
                              "embed_seconds": EMBED_SECONDS})
    serving.write_json(path + ".json", record)
    what = (f"timbre prior (analyse, embed {EMBED_SECONDS:g} s of style, render"
            if encoder is not None else "harmonic model (analyse, render")
    return path, (f"TFLite {what} {BLOCK_FRAMES} frames per call"
                  f"{', dynamics' if 'dynamics' in signatures else ''}), {quantize}: "
                  f"{os.path.getsize(path) / 1e6:.1f} MB, max error vs TF {error:.2g}, ops "
                  f"{', '.join(ops)}")


def dynamics_error(converter, path, seed=0):
    """Max absolute difference (relative loudness) between the TFLite `dynamics` signature
    and the Keras model on random features, or None without one."""
    from ai_edge_litert.interpreter import Interpreter

    if converter.dynamics is None:
        return None
    rng = np.random.default_rng(seed)
    _, specs = dynamics_fn(converter.dynamics)
    inputs = {spec.name: rng.uniform(-1, 1, spec.shape).astype(np.float32) for spec in specs}
    want = np.asarray(converter.dynamics(inputs if len(specs) > 1 else inputs["features"],
                                         training=False))
    got = Interpreter(model_path=path).get_signature_runner("dynamics")(**inputs)["loudness"]
    return float(np.max(np.abs(got - want)))


def tflite_error(converter, path, seed=0):
    """Max absolute difference between the TFLite block and the same graph in TF, on one
    block of a random performance."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    inputs = example_block(converter, seed)
    fn, _ = render_fn(converter)
    want = fn(**{k: tf.constant(v) for k, v in inputs.items()})["audio"].numpy()
    got = Interpreter(model_path=path).get_signature_runner("render")(**inputs)["audio"]
    return float(np.max(np.abs(got - want)))


def example_block(converter, seed=0):
    rng = np.random.default_rng(seed)
    config, n = converter.config, BLOCK_FRAMES + 1
    dims = getattr(converter.decoder, "timbre_dims", 0)
    timbre = {"timbre": rng.normal(size=(1, dims)).astype(np.float32)} if dims else {}
    f0 = (220.0 * 2 ** (rng.integers(0, 12, 1) / 12) * np.ones((1, n))).astype(np.float32)
    return {"f0": f0, "loudness": np.full((1, n), -25.0, np.float32),
            "voiced": np.ones((1, n), np.float32), "gate": np.ones((1, n), np.float32),
            "state": np.zeros((1, converter.decoder.gru_units), np.float32),
            "phase": np.zeros(1, np.float32),
            "noise": rng.uniform(-1, 1, (1, BLOCK_FRAMES * config.hop_length))
            .astype(np.float32), **timbre}


def export_converter(converter, out, fmt="all", quantize=("none",), name="tfstyle",
                     version=None):
    """Writes the SavedModel and/or TFLite files; returns {artifact path: description}."""
    written = {}
    if fmt in ("saved_model", "all"):
        path = export_saved_model(converter, out, name, version)
        written[path] = "SavedModel (serving_default, waveform)"
    if fmt in ("tflite", "all"):
        os.makedirs(out, exist_ok=True)
        for q in quantize:
            path, description = write_tflite(
                converter, os.path.join(out, f"{name}_harmonic_{q}.tflite"), q)
            written[path] = description
    return written
