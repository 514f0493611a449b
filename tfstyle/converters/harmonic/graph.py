"""A harmonic converter's whole path as TensorFlow ops, for exported models: waveform →
controls (YIN, loudness, voicing) → the performance on the target (`performance.perform`:
octave shift, then the loudness mapping onto the stored profile, or the learned one) →
decoder → synthesiser.

The same steps as `ctl.analyse` and `performance.perform` in NumPy (tested against them), so a
SavedModel needs nothing but TensorFlow. One clip at a time, [samples] → [samples].

The timbre prior's one-shot graph (`one_shot_fn`) takes the profile and the embedding from a
style clip on-graph too (`style_profile`, the encoder), so a server does one-shot transfer
with a clip its user sends, and nothing is adapted.
"""
import collections

import numpy as np
import tensorflow as tf

from tfstyle.harmonic import controls as ctl
from tfstyle.harmonic import dynamics as dyn

MIDI_SCALE = 12.0 / np.log(2.0)


def hz_to_midi(f):
    return 69.0 + MIDI_SCALE * tf.math.log(tf.maximum(f, 1e-3) / 440.0)


def _median3(x):
    padded = tf.concat([x[:1], x, x[-1:]], 0)
    stacked = tf.stack([padded[:-2], padded[1:-1], padded[2:]])
    return tf.reduce_sum(stacked, 0) - tf.reduce_max(stacked, 0) - tf.reduce_min(stacked, 0)


def _drop_short_runs(mask):
    """Runs of fewer than 3 frames are dropped: a morphological opening with 3 frames."""
    padded = tf.pad(mask, [[1, 1]])
    eroded = padded[:-2] & padded[1:-1] & padded[2:]
    grown = tf.pad(eroded, [[1, 1]])
    return grown[:-2] | grown[1:-1] | grown[2:]


def _last_true(mask):
    """Per frame, the index of the last True at or before it, -1 before the first. Gathered
    from a cumulative count: a `tf.scan` runs frame by frame, and took 0.45 s for 10 minutes
    of frames against this 1 ms."""
    count = tf.cumsum(tf.cast(mask, tf.int32))
    positions = tf.concat([tf.cast(tf.where(mask)[:, 0], tf.int32), [-1]], 0)
    return tf.where(count > 0, tf.gather(positions, tf.maximum(count - 1, 0)), -1)


def _fill_unvoiced(f0, voiced):
    """Linear interpolation between voiced frames, held at the ends; 220 Hz if none."""
    n = tf.shape(f0)[0]
    index = tf.range(n)
    before = _last_true(voiced)
    after = n - 1 - tf.reverse(_last_true(tf.reverse(voiced, [0])), [0])
    low = tf.where(before < 0, after, before)
    high = tf.where(after >= n, low, after)
    low = tf.clip_by_value(low, 0, n - 1)
    high = tf.clip_by_value(high, 0, n - 1)
    span = tf.cast(tf.maximum(high - low, 1), tf.float32)
    weight = tf.cast(index - low, tf.float32) / span
    filled = tf.gather(f0, low) * (1.0 - weight) + tf.gather(f0, high) * weight
    return tf.where(tf.reduce_any(voiced), filled, tf.fill(tf.shape(f0), 220.0))


def _settle_onsets(f0, voiced, lead):
    """`ctl.settle_onsets`."""
    n = tf.shape(f0)[0]
    index = tf.range(n)
    start = tf.maximum(_last_true(voiced & ~tf.concat([[False], voiced[:-1]], 0)), 0)
    ref = tf.minimum(start + lead, n - 1)
    leading = (voiced & (index < start + lead) & (start + lead < n)
               & tf.gather(voiced, ref) & tf.equal(tf.gather(start, ref), start))
    reference = tf.gather(f0, ref)
    interval = hz_to_midi(reference) - hz_to_midi(f0)
    slipped = tf.reduce_any(tf.stack([tf.abs(interval - 12.0 * np.log2(k)) < 0.5
                                      for k in ctl.SUBHARMONICS]), 0)
    return tf.where(leading & slipped, reference, f0)


def analyse(y, sr, hop_length):
    """(f0, voiced, loudness) of a waveform [samples], as `ctl.analyse` computes them."""
    half = ctl.FRAME_LENGTH // 2
    n = tf.shape(y)[0]
    frames = 1 + n // hop_length
    # Zero padding as `ctl.framed`: half a frame in front, to the last frame's end behind.
    padded = tf.pad(y, [[half, (frames - 1) * hop_length + ctl.FRAME_LENGTH - half - n]])[None]
    f0, periodicity, loudness = (x[0] for x in ctl.measure_window(padded, sr, hop_length))
    voiced = (periodicity >= ctl.PERIODICITY) & (
        loudness >= tf.reduce_max(loudness) - ctl.SILENCE_DB)
    voiced = _drop_short_runs(voiced)
    f0 = _settle_onsets(_median3(f0), voiced, ctl.onset_frames(hop_length))
    return _fill_unvoiced(f0, voiced), voiced, loudness


def _quantiles(values, q):
    """np.quantile's default (linear) quantiles of a 1-D tensor."""
    ordered = tf.sort(values)
    position = q * tf.cast(tf.shape(ordered)[0] - 1, tf.float32)
    low = tf.cast(tf.floor(position), tf.int32)
    high = tf.minimum(low + 1, tf.shape(ordered)[0] - 1)
    weight = position - tf.floor(position)
    return tf.gather(ordered, low) * (1.0 - weight) + tf.gather(ordered, high) * weight


def _interp(x, xp, fp):
    """np.interp for increasing xp (values outside held at the ends)."""
    i = tf.clip_by_value(tf.searchsorted(xp, x, side="right") - 1, 0, tf.shape(xp)[0] - 2)
    x0, x1 = tf.gather(xp, i), tf.gather(xp, i + 1)
    y0, y1 = tf.gather(fp, i), tf.gather(fp, i + 1)
    t = tf.clip_by_value((x - x0) / (x1 - x0), 0.0, 1.0)
    return y0 + t * (y1 - y0)


def map_loudness(loudness, voiced, target_quantiles):
    """`ctl.map_loudness` on tensors."""
    q = tf.constant(ctl.QUANTILES, tf.float32)
    src = _quantiles(tf.boolean_mask(loudness, voiced), q)
    src = src + tf.range(tf.shape(src)[0], dtype=tf.float32) * 1e-6
    src = tf.scan(tf.maximum, src)
    dst = tf.convert_to_tensor(target_quantiles, tf.float32)
    mapped = _interp(loudness, src, dst)
    mapped = tf.where(loudness < src[0], loudness + (dst[0] - src[0]), mapped)
    return tf.where(loudness > src[-1], loudness + (dst[-1] - src[-1]), mapped)


def _notes(f0, voiced):
    """Per frame, the index of its note (`ctl.notes`), or -1 outside notes of >= 3 frames."""
    midi = hz_to_midi(f0)
    step = tf.abs(midi[1:] - midi[:-1]) > ctl.NOTE_STEP
    boundary = tf.concat([[True], step | ~voiced[1:] | ~voiced[:-1]], 0)
    run = tf.cumsum(tf.cast(boundary | ~voiced, tf.int32)) - 1
    count = tf.math.unsorted_segment_sum(tf.cast(voiced, tf.int32), run, tf.shape(f0)[0])
    keep = voiced & (tf.gather(count, run) >= 3)
    return tf.where(keep, run, -1)


def _note_parts(loudness, note):
    """(segment ids with one extra segment for frames outside notes, frame index, each
    frame's note peak and note end)."""
    n = tf.shape(loudness)[0]
    segments = tf.where(note >= 0, note, n)
    index = tf.range(n)
    peak_level = tf.math.unsorted_segment_max(loudness, segments, n + 1)
    # The first frame of a note at its peak level (np.argmax).
    at_peak = tf.abs(loudness - tf.gather(peak_level, segments)) <= 0.0
    peak = tf.math.unsorted_segment_min(tf.where(at_peak, index, n), segments, n + 1)
    stop = tf.math.unsorted_segment_max(index + 1, segments, n + 1)
    return segments, index, tf.gather(peak, segments), tf.gather(stop, segments)


def decay_rate(loudness, note, frame_seconds):
    """`ctl.decay_rate`: the frame-weighted mean of each note's loudness slope after its
    peak (its last quarter left out), dB/s."""
    n = tf.shape(loudness)[0]
    segments, index, peak, stop = _note_parts(loudness, note)
    length = (3 * (stop - peak)) // 4
    inside = (note >= 0) & (index >= peak) & (index < peak + length)
    t = tf.cast(index - peak, tf.float32) * frame_seconds
    ids = tf.where(inside, segments, n)

    def total(x):
        return tf.math.unsorted_segment_sum(tf.where(inside, x, 0.0), ids, n + 1)[:n]

    count, st, sl = total(tf.ones_like(t)), total(t), total(loudness)
    stt, stl = total(t * t), total(t * loudness)
    slope = (count * stl - st * sl) / tf.maximum(count * stt - st * st, 1e-12)
    used = count >= 4
    weights = tf.where(used, count, 0.0)
    return tf.math.divide_no_nan(tf.reduce_sum(weights * tf.where(used, slope, 0.0)),
                                 tf.reduce_sum(weights))


def match_decay(loudness, note, target_decay, frame_seconds, most_db=30.0):
    """`ctl.match_decay` on tensors."""
    change = target_decay - decay_rate(loudness, note, frame_seconds)
    _, index, peak, _ = _note_parts(loudness, note)
    after = (note >= 0) & (index >= peak)
    t = tf.cast(index - peak, tf.float32) * frame_seconds
    return loudness + tf.where(after, tf.clip_by_value(change * t, -most_db, most_db), 0.0)


def octave_shift(f0, voiced, profile):
    """`ctl.octave_shift` against a profile: semitones, a multiple of 12."""
    median = _quantiles(tf.boolean_mask(hz_to_midi(f0), voiced), tf.constant([0.5]))[0]
    low, high = ctl.playable_range(profile.pitch_low, profile.pitch_high, tf.maximum)
    up = 12.0 * tf.math.ceil((low - median) / 12.0)
    down = -12.0 * tf.math.ceil((median - high) / 12.0)
    return tf.where(median < low, up, tf.where(median > high, down, 0.0))


def tuning(f0, voiced):
    """`ctl.tuning` on tensors."""
    midi = tf.boolean_mask(hz_to_midi(f0), voiced)
    angle = 2.0 * np.pi * (midi - tf.round(midi))
    return tf.where(tf.size(midi) > 0, 50.0 / np.pi * tf.math.atan2(
        tf.reduce_mean(tf.sin(angle)), tf.reduce_mean(tf.cos(angle))), 0.0)


def retune(f0, voiced, profile):
    """`ctl.retune` against a profile (a `ctl.Profile` or a `StyleProfile`)."""
    if profile.tuning is None:
        return tf.constant(0.0)
    cents = tf.cast(profile.tuning, tf.float32) - tuning(f0, voiced)
    return (cents - 100.0 * tf.round(cents / 100.0)) / 100.0


def _voiced_level(loudness, voiced, quantile):
    """`ctl.voiced_level` on tensors."""
    return _quantiles(tf.boolean_mask(loudness, voiced), tf.constant([quantile]))[0]


def target_level(profile, quantile=ctl.OFFSET_QUANTILE):
    """`ctl.target_level` of a Profile or a `StyleProfile` of tensors."""
    return _interp(tf.constant([quantile], tf.float32), tf.constant(ctl.QUANTILES, tf.float32),
                   tf.convert_to_tensor(profile.loudness_quantiles, tf.float32))[0]


# `ctl.Profile` as tensors, taken from a style clip on-graph (`style_profile`).
StyleProfile = collections.namedtuple("StyleProfile",
                                      "pitch_low pitch_high loudness_quantiles decay tuning")


def style_profile(y, sr, hop_length):
    """`ctl.Profile.of(ctl.analyse(y))` of a waveform [samples], on-graph; a style with no
    pitched frame fails with one message, as `tfstyle transfer` refuses it."""
    f0, voiced, loudness = analyse(y, sr, hop_length)
    with tf.control_dependencies([tf.debugging.assert_greater(
            tf.reduce_sum(tf.cast(voiced, tf.int32)), 0,
            message="style: no pitched frames; one-shot transfer takes the timbre of a "
                    "melodic instrument")]):
        voiced = tf.identity(voiced)
    low, high = tf.unstack(_quantiles(tf.boolean_mask(hz_to_midi(f0), voiced),
                                      tf.constant([0.05, 0.95])))
    return StyleProfile(low, high, _quantiles(tf.boolean_mask(loudness, voiced),
                                              tf.constant(ctl.QUANTILES, tf.float32)),
                        decay_rate(loudness, _notes(f0, voiced), hop_length / sr),
                        tuning(f0, voiced))


def offset_loudness(loudness, voiced, profile, quantile=ctl.OFFSET_QUANTILE):
    """`ctl.offset_loudness` on tensors."""
    target = target_level(profile, quantile)
    level = _voiced_level(loudness, voiced, quantile)
    return loudness + (target - level)


def dynamics_features(f0, voiced, loudness):
    """`dynamics.features` on tensors."""
    level = _voiced_level(loudness, voiced, dyn.LEVEL_QUANTILE)
    rel = tf.clip_by_value((loudness - level) / dyn.DB_SCALE, dyn.FLOOR, dyn.CEILING)
    step = tf.clip_by_value(rel - tf.concat([rel[:1], rel[:-1]], 0), -1.0, 1.0) * dyn.STEP_SCALE
    pitch = (hz_to_midi(f0) - dyn.PITCH_CENTRE) / dyn.PITCH_SCALE
    return tf.stack([rel, tf.cast(voiced, tf.float32), step, pitch], -1)


def learned_loudness(dynamics, f0, voiced, loudness, level, timbre=None):
    """`dynamics.apply` on tensors: the whole clip in one call, SILENCE either side; the
    prior's conditioned mapping is told the instrument by `timbre` [1, dims]."""
    silence = tf.tile(tf.constant(dyn.SILENCE)[None], [dynamics.receptive_field, 1])
    x = tf.concat([silence, dynamics_features(f0, voiced, loudness), silence], 0)[None]
    if timbre is not None:
        x = {"features": x, "timbre": timbre}
    return level + dyn.DB_SCALE * dynamics(x, training=False)[0]


def perform(f0, voiced, loudness, profile, frame_seconds, transpose="auto",
            loudness_mode="quantile", dynamics=None, timbre=None):
    """(f0, loudness, gate) of the performance, as `performance.perform` (`loudness_mode` is
    its `loudness`, `dynamics` the DynamicsModel itself, `timbre` the embedding a
    conditioned one takes). `profile`: a `ctl.Profile` or a `StyleProfile`."""
    if str(transpose).strip().lower() == "auto":
        shift = octave_shift(f0, voiced, profile) + retune(f0, voiced, profile)
    else:
        shift = tf.constant(float(transpose))
    moved = f0 * 2.0 ** (shift / 12.0)
    if loudness_mode == "learned":
        played = learned_loudness(dynamics, moved, voiced, loudness, target_level(profile),
                                  timbre)
    elif loudness_mode == "offset":
        played = offset_loudness(loudness, voiced, profile)
    else:
        note = _notes(f0, voiced)
        played = map_loudness(match_decay(loudness, note, profile.decay, frame_seconds),
                              voiced, profile.loudness_quantiles)
    floor = tf.reduce_max(loudness) - ctl.SILENCE_DB
    gate = tf.clip_by_value((loudness - floor) / 6.0, 0.0, 1.0)
    return moved, played, gate


def decode(decoder, f0, loudness, state, timbre=None):
    """The decoder's outputs for f0 (Hz) and loudness (dB), [batch, frames] each, scaled as
    `decoder.scale_f0` and `scale_loudness` scale them in NumPy; a conditioned decoder's
    `timbre` [batch, dims]."""
    from tfstyle.harmonic.decoder import F0_SCALE, LOUDNESS_OFFSET, LOUDNESS_RANGE

    return decoder({"f0_scaled": (hz_to_midi(f0) / F0_SCALE)[..., None],
                    "loudness_scaled": ((loudness + LOUDNESS_OFFSET) / LOUDNESS_RANGE)[..., None],
                    "state": state, **({} if timbre is None else {"timbre": timbre})},
                   training=False)


def convert(y, decoder, synth, config, profile, dynamics=None, timbre=None):
    """One waveform [samples] at config.sr played on the target (a conditioned decoder's and
    mapping's instrument: `timbre` [1, dims]), leveled like `tfstyle convert`."""
    from tfstyle.converters.serving import match_rms

    hop = config.hop_length
    n = tf.shape(y)[0]
    f0, voiced, loudness = analyse(y, config.sr, hop)
    f0, played, gate = perform(f0, voiced, loudness, profile, hop / config.sr,
                               config.transpose, config.loudness, dynamics, timbre)
    outputs = decode(decoder, f0[None], played[None], tf.zeros([1, decoder.gru_units]), timbre)
    outputs = {k: v for k, v in outputs.items() if k != "state"}
    audio = synth(outputs, f0[None], tf.cast(voiced, tf.float32)[None], gate[None])[0, :n]
    return match_rms(audio, y)


def waveform_fn(decoder, synth, config, profile, dynamics=None):
    """[samples] at config.sr → the converted [samples], leveled like `tfstyle convert`."""
    return lambda y: convert(y, decoder, synth, config, profile, dynamics)


def embed(encoder, style, config):
    """The timbre embedding [1, dims] of a style waveform [samples] (`timbre.embed`)."""
    from tfstyle.harmonic.timbre import log_mel

    db, weight = log_mel(style[None], config.sr, config.hop_length)
    return encoder({"log_mel": db, "weight": weight}, training=False)


def one_shot_fn(encoder, decoder, synth, config, dynamics=None):
    """(content [samples], style [samples]) at config.sr → the content played by the style's
    instrument: the timbre prior's conditioned decoder (and loudness mapping) told the
    instrument by the style's embedding, into the style's profile (`Converter.from_prior`,
    nothing adapted)."""
    def one_shot(y, style):
        profile = style_profile(style, config.sr, config.hop_length)
        return convert(y, decoder, synth, config, profile, dynamics,
                       embed(encoder, style, config))

    return one_shot
