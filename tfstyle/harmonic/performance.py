"""From a content's controls to audio on a target instrument: the checks a content must pass,
the mapping of its pitch and loudness into the instrument's range (a `controls.Profile`), and
the block-by-block rendering through a decoder and synthesiser. One-shot transfer and the
trained harmonic converters both perform this way."""
import dataclasses

import numpy as np

from tfstyle.errors import TfstyleError
from tfstyle.harmonic import controls as ctl
from tfstyle.harmonic import dynamics as dyn

# Content frames with fewer sounding frames than this share of clear pitch get a warning.
MONOPHONIC_SHARE = 0.5


def gate(controls):
    """1 on sounding frames, fading to 0 over the 6 dB above the silence floor."""
    floor = controls.loudness.max() - ctl.SILENCE_DB
    return np.clip((controls.loudness - floor) / 6.0, 0.0, 1.0).astype(np.float32)


def check_pitched(controls, what, seconds,
                  advice="the harmonic method needs a melodic instrument: use --method "
                         "random-cnn for this clip"):
    """`what` names the clip in the message (None: the caller names it)."""
    if controls.voiced.sum() < 3:
        raise TfstyleError(
            f"{what + ': ' if what else ''}no pitched frames found in {seconds:.1f} s (silence, noise or speech "
            f"without a clear pitch?); {advice}")


def clear_pitch_share(controls):
    """The share of a clip's sounding frames (within 30 dB of its loudest) that have one
    clear pitch: not frames YIN calls aperiodic, nor frames periodic only at a chord's common
    subharmonic (almost no power near the reported f0: measured 0 on chords, >= 0.1 on 95 %
    of the voiced frames of piano, guitar, violin, flute, clarinet and trumpet melodies)."""
    sounding = controls.loudness >= controls.loudness.max() - 30.0
    clear = controls.voiced & (controls.partial_share >= 0.01)
    return float(clear[sounding].mean()) if sounding.any() else 0.0


def monophony_warning(controls):
    """A warning line when much of the sounding content has no single clear pitch
    (`clear_pitch_share`)."""
    share = clear_pitch_share(controls)
    if share < MONOPHONIC_SHARE:
        return (f"warning: only {100 * share:.0f}% of the content's sounding frames have one "
                "clear pitch; the harmonic method follows a single melody line, so chords, "
                "drums or noise will not come through")
    return None


def semitones(transpose, content, style):
    """Semitones to move the content by: "auto" (whole octaves into the style's range, see
    `controls.octave_shift`, and into its tuning, `controls.retune`) or a number (checked by
    the caller's config; the content's pitch is then moved by exactly that)."""
    if str(transpose).strip().lower() == "auto":
        return ctl.octave_shift(content, style) + ctl.retune(content, style)
    return float(transpose)


def decoder_inputs(controls, loudness=None, f0=None):
    from tfstyle.harmonic.decoder import scale_f0, scale_loudness

    loudness = controls.loudness if loudness is None else loudness
    f0 = controls.f0 if f0 is None else f0
    return {"f0_scaled": scale_f0(f0)[..., None],
            "loudness_scaled": scale_loudness(loudness)[..., None]}


# How a content's loudness becomes the performance's (`perform`'s `loudness`).
LOUDNESS = {
    "offset": "the input's dynamics kept, its level moved onto the instrument's "
              "(controls.offset_loudness)",
    "quantile": "each note's decay matched to the instrument's and the loudness distribution "
                "mapped onto its (controls.match_decay, map_loudness)",
    "learned": "the contour the instrument would give the input's notes, by a model fitted "
               "on paired renderings (dynamics), at the instrument's level; "
               "converters that carry one, and the timbre prior's, told the instrument by "
               "its embedding",
}


NO_DYNAMICS = ("--loudness learned needs a converter with a learned loudness mapping (the "
               "shipped violin, flute and trumpet have one); use --loudness offset")


def perform(content, style, frame_seconds, transpose="auto", loudness="quantile",
            dynamics=None):
    """The content's controls as the style's instrument would play them: moved by
    `semitones` (returned too), its loudness moved onto the style's (Controls or Profile) as
    `loudness` says (see LOUDNESS; "learned" needs the instrument's `dynamics` model, as
    `dynamics.apply` calls it). Silence stays where the content's own level puts it
    (`gate`)."""
    shift = semitones(transpose, content, style)
    f0 = (content.f0 * 2.0 ** (shift / 12.0)).astype(np.float32)
    if loudness == "learned":
        if dynamics is None:
            raise TfstyleError(NO_DYNAMICS)
        # The model learned from melodies in the instrument's range: it reads the moved pitch.
        loudness = dyn.apply(dynamics, dataclasses.replace(content, f0=f0),
                             ctl.target_level(style))
    elif loudness == "offset":
        loudness = ctl.offset_loudness(content, style)
    elif loudness == "quantile":
        loudness = ctl.map_loudness(ctl.match_decay(content, style, frame_seconds), style)
    else:
        raise TfstyleError(f"loudness must be one of {', '.join(LOUDNESS)}, got {loudness!r}")
    played = dataclasses.replace(content, f0=f0, loudness=loudness)
    return played, gate(content), shift


def render_blocks(decoder, synth, played, gates, n_samples, timbre=None):
    """Float32 blocks of the performance's audio, n_samples in all (see
    `synthesizer.render_blocks`); `timbre`: a conditioned decoder's embedding."""
    from tfstyle.harmonic.synthesizer import render_blocks as render

    inputs = {k: v[None] for k, v in decoder_inputs(played).items()}
    if timbre is not None:
        inputs["timbre"] = np.reshape(timbre, (1, -1)).astype(np.float32)
    for block in render(decoder, synth, inputs, played.f0, played.voiced.astype(np.float32),
                        gates, n_samples):
        if not np.all(np.isfinite(block)):
            raise TfstyleError("the harmonic model gives non-finite output (a diverged fit: "
                               "lower --learning-rate)")
        yield block
