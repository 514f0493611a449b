"""How an instrument shapes its notes, learned: an input melody's loudness contour (with its
voicing and pitch) → the contour the target instrument would give the same notes. A bowed or
blown note swells and sustains where a piano's decays; a trumpet's release is steeper than a
violin's. The model is `dynamics_model.DynamicsModel`; this module is what surrounds it, in
NumPy (no TensorFlow: the TFLite runner uses it too).

Fixed mappings cannot do this: on a development set, the input's own contour moved to the
instrument's level (`controls.offset_loudness`) leaves the converters at 0.66x identity's mel
distance, the true rendering's contour at 0.47x; matching decays, holding notes or steepening
releases helped one input instrument and hurt another (bench/harmonic_loudness.py).

Loudness here is relative: dB above or below the clip's `LEVEL_QUANTILE` of voiced loudness,
over `DB_SCALE`, so the model sees a contour's shape, not its recording level; its output is
placed at the target instrument's own level.
"""
import numpy as np

from tfstyle.harmonic import controls as ctl

LEVEL_QUANTILE = ctl.OFFSET_QUANTILE
DB_SCALE = 20.0
# Relative loudness is clipped to [FLOOR, CEILING] x DB_SCALE dB: what lies 60 dB below a
# melody's louder notes is silence to a listener and to the gate alike.
FLOOR, CEILING = -3.0, 1.0
# Per frame: relative loudness, voicing, the loudness step from the frame before (x 5), pitch
# as (MIDI - 69) / 24.
N_FEATURES = 4
STEP_SCALE, PITCH_CENTRE, PITCH_SCALE = 5.0, 69.0, 24.0
# Beyond a clip's ends the model sees silence: this feature vector.
SILENCE = np.array([FLOOR, 0.0, 0.0, 0.0], np.float32)


def level(loudness, voiced):
    """A clip's reference level (dB): its `LEVEL_QUANTILE` of voiced loudness."""
    return ctl.voiced_level(loudness, voiced, LEVEL_QUANTILE)


def relative(loudness, reference):
    return np.clip((loudness - reference) / DB_SCALE, FLOOR, CEILING).astype(np.float32)


def features(controls):
    """[frames, N_FEATURES] float32 of a clip's Controls (`graph.dynamics_features` on-graph)."""
    rel = relative(controls.loudness, level(controls.loudness, controls.voiced))
    step = np.clip(np.diff(rel, prepend=rel[:1]), -1.0, 1.0) * STEP_SCALE
    pitch = (ctl.hz_to_midi(controls.f0) - PITCH_CENTRE) / PITCH_SCALE
    return np.stack([rel, controls.voiced.astype(np.float32), step, pitch], -1).astype(
        np.float32)


def pad(x, frames_before, frames_after):
    """Features with SILENCE frames before and after."""
    return np.concatenate([np.tile(SILENCE, (frames_before, 1)), x,
                           np.tile(SILENCE, (frames_after, 1))]).astype(np.float32)


# Frames per call of `apply`: a 1-hour input is 310,000 frames, whose activations in one piece
# would take ~40 MB per layer.
BLOCK_FRAMES = 4096


def apply(model, controls, target_level, block_frames=BLOCK_FRAMES):
    """The target instrument's loudness (dB, float32 [frames]) for a content's Controls, at
    `target_level` (the instrument's `LEVEL_QUANTILE`).

    `model`: a callable with a `receptive_field` (frames of context either side that one frame
    of output reads): features [1, block_frames + 2 * receptive_field, N_FEATURES] →
    relative loudness [1, block_frames]. It is called on fixed-size blocks of the clip padded
    with SILENCE, so block by block is exactly one piece."""
    x = features(controls)
    n, context = len(x), model.receptive_field
    blocks = -(-n // block_frames)
    x = pad(x, context, blocks * block_frames - n + context)
    out = np.concatenate([np.asarray(model(x[None, start:start + block_frames + 2 * context]))[0]
                          for start in range(0, blocks * block_frames, block_frames)])
    return (target_level + DB_SCALE * out[:n]).astype(np.float32)
