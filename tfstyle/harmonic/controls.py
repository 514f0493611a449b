"""Per-frame controls of a clip (f0, voicing, loudness) and the mapping between two clips'."""
import dataclasses

import numpy as np

# Analysis settings shared by fitting and rendering: 2048-sample YIN frames reach down to
# ~22 Hz at 22.05 kHz, and 50 Hz-2 kHz covers the fundamentals of melodic instruments.
FMIN, FMAX = 50.0, 2000.0
FRAME_LENGTH = 2048
# A frame is voiced when YIN's periodicity is at least this (d' <= 0.2)...
PERIODICITY = 0.8
# ...and it is no more than this far below the clip's loudest frame.
SILENCE_DB = 60.0
# Raised whenever `analyse` gives other controls for the same audio, so that cached analyses
# (a run's training data) are made afresh. 2: `settle_onsets`.
ANALYSIS_VERSION = 2


@dataclasses.dataclass
class Controls:
    """One clip's controls, all [frames] float32 NumPy arrays at one hop length."""

    f0: np.ndarray            # Hz; unvoiced frames carry the nearest voiced frame's value
    periodicity: np.ndarray   # 0..1
    loudness: np.ndarray      # A-weighted dB re full scale
    voiced: np.ndarray        # bool
    partial_share: np.ndarray  # power share near f0 and 2·f0 (`partial_share`)

    def __len__(self):
        return len(self.f0)

    def slice(self, start, stop):
        return Controls(*(getattr(self, f.name)[start:stop] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(parts):
        return Controls(*(np.concatenate([getattr(p, f.name) for p in parts])
                          for f in dataclasses.fields(Controls)))


# Frames per analysis block: YIN's intermediates for 1024 frames raised the whole conversion's
# peak memory by 0.13 GB over 256 frames, for no gain in speed (bench/memory_vs_length.py).
ANALYSIS_BLOCK = 256


def analyse(y, sr, hop_length, block_frames=ANALYSIS_BLOCK, measure=None):
    """Controls of a waveform with 1 + samples // hop_length frames.

    Args:
        y: float waveform [samples], or an iterable of successive float32 blocks of one (as
            `audio.stream` yields them): the signal is analysed `block_frames` frames at a
            time, each block reading its own samples plus half a frame either side (frames
            are centred like `librosa.yin`), so memory stays bounded whatever the length.
        measure: window → (f0, periodicity, loudness) per frame of the window; default
            `measure_window` (TensorFlow); exported models' runners pass a TFLite one.
    """
    measure = measure or (lambda window: measure_window(window, sr, hop_length))
    blocks = [np.asarray(y, np.float32)] if isinstance(y, np.ndarray) else y
    parts = []
    for window in framed(blocks, hop_length, FRAME_LENGTH, block_frames):
        f0, periodicity, loudness = measure(window)
        parts.append((f0, periodicity, loudness,
                      partial_share(window, sr, _median3(f0), hop_length)))
    f0, periodicity, loudness, share = (np.concatenate(p) for p in zip(*parts))
    voiced = (periodicity >= PERIODICITY) & (loudness >= loudness.max() - SILENCE_DB)
    voiced = _drop_short_runs(voiced, 3)
    f0 = settle_onsets(_median3(f0), voiced, onset_frames(hop_length))
    return Controls(_fill_unvoiced(f0, voiced), periodicity, loudness, voiced, share)


def measure_window(window, sr, hop_length):
    """YIN f0 and periodicity and A-weighted loudness of each frame of a window (the DSP
    core, on-graph)."""
    import tensorflow as tf

    from tfstyle import dsp

    block = window if tf.is_tensor(window) else tf.constant(np.asarray(window, np.float32)[None])
    f0, periodicity = dsp.yin(block, sr, FMIN, FMAX, FRAME_LENGTH, hop_length, center=False)
    loudness = dsp.loudness(block, sr, n_fft=FRAME_LENGTH, hop_length=hop_length,
                            center=False)
    if tf.is_tensor(window):   # on-graph (an exported model): [1, frames] tensors
        return f0, periodicity, loudness
    return tuple(t.numpy()[0] for t in (f0, periodicity, loudness))


def framed(blocks, hop_length, frame_length, block_frames):
    """Sample windows of at most `block_frames` centred frames each, from successive blocks
    of one signal: window i covers frames [i * block_frames, ...) of the zero-padded signal,
    1 + samples // hop_length frames in all, as `np.pad(y, frame_length // 2)` framed."""
    half = frame_length // 2
    need = (block_frames - 1) * hop_length + frame_length
    buffer, total, done = np.zeros(half, np.float32), 0, 0
    for block in blocks:
        total += len(block)
        buffer = np.concatenate([buffer, block])
        while len(buffer) >= need:
            yield buffer[:need]
            buffer, done = buffer[block_frames * hop_length:], done + block_frames
    buffer = np.concatenate([buffer, np.zeros(need, np.float32)])
    while done < 1 + total // hop_length:
        n = min(block_frames, 1 + total // hop_length - done)
        yield buffer[:(n - 1) * hop_length + frame_length]
        buffer, done = buffer[n * hop_length:], done + n


def partial_share(window, sr, f0, hop_length, n_fft=FRAME_LENGTH):
    """Per frame of a window (framed as `framed` does), the share of the power that lies
    between 0.5·f0 and 2.5·f0.

    A single note puts a good part of its power in its first two harmonics; a chord makes YIN
    report the chord's common subharmonic, far below every note, and leaves that band all but
    empty. Used to warn about polyphonic content."""
    frames = np.lib.stride_tricks.sliding_window_view(window, n_fft)[::hop_length][:len(f0)]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = (freqs >= 0.5 * f0[:, None]) & (freqs <= 2.5 * f0[:, None])
    return ((power * band).sum(-1) / np.maximum(power.sum(-1), 1e-20)).astype(np.float32)


def _median3(f0):
    """A 3-frame median: removes one-frame octave slips without blurring note changes."""
    padded = np.pad(f0, 1, mode="edge")
    return np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)


def onset_frames(hop_length):
    """Frames at a note's start whose centred YIN window still reaches back before it."""
    return int(np.ceil(FRAME_LENGTH / 2 / hop_length))


# Pitches a note's first frames may slip to: its period times these.
SUBHARMONICS = (2, 3, 4)


def settle_onsets(f0, voiced, lead):
    """Each voiced run's first `lead` frames take the pitch of its frame `lead` where they lie
    at a subharmonic of it (within half a semitone).

    Those frames' windows hold the previous note's ringing tail and the new note's attack
    together, and YIN reports the pair's common period: an octave or a twelfth below the new
    note. On the development melodies that was 5 % of a guitar's voiced frames (a violin's or
    a flute's 1 %, a piano's none), each a low blip, of the wrong pitch class for a twelfth,
    at the loudest moment of the note. A real note is seldom both that short and exactly an
    octave or a twelfth below the next one without a gap."""
    n = len(f0)
    index = np.arange(n)
    starts = voiced & ~np.concatenate([[False], voiced[:-1]])
    start = np.maximum.accumulate(np.where(starts, index, 0))
    ref = np.minimum(start + lead, n - 1)
    leading = (voiced & (index < start + lead) & (start + lead < n)
               & voiced[ref] & (start[ref] == start))
    interval = hz_to_midi(f0[ref]) - hz_to_midi(f0)
    slipped = np.zeros(n, bool)
    for k in SUBHARMONICS:
        slipped |= np.abs(interval - 12.0 * np.log2(k)) < 0.5
    return np.where(leading & slipped, f0[ref], f0).astype(np.float32)


def _drop_short_runs(mask, shortest):
    """Voiced runs shorter than `shortest` frames are unvoiced: a real note lasts longer."""
    mask = mask.copy()
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start < shortest:
            mask[start:stop] = False
    return mask


def _fill_unvoiced(f0, voiced):
    """Unvoiced frames take the nearest voiced f0 (interpolated between notes), so the decoder
    sees a smooth pitch; with no voiced frame at all, a neutral 220 Hz."""
    if not voiced.any():
        return np.full_like(f0, 220.0)
    frames = np.arange(len(f0))
    return np.interp(frames, frames[voiced], f0[voiced]).astype(np.float32)


def median_midi(controls):
    """Median pitch of the voiced frames as a (fractional) MIDI note."""
    return float(np.median(hz_to_midi(controls.f0[controls.voiced])))


def hz_to_midi(f):
    return 69.0 + 12.0 * np.log2(np.maximum(f, 1e-3) / 440.0)


# The style's range for octave shifting: its 5th to 95th pitch percentiles, widened by an
# octave: a few seconds of style show only part of what its instrument can play.
RANGE_MARGIN = 12.0
# Before that margin, a range narrower than two octaves is widened to two, about its middle: a
# style of a few repeated notes (an arpeggio on three pitches, one sustained note) says little
# of the instrument's range, and moved a cello melody an octave down that a cello plays as
# written (a held-out melody whose style clip kept to 51-54).
MIN_RANGE = 24.0


def playable_range(low, high, maximum=np.maximum):
    """(lowest, highest) MIDI pitch a melody may have and be left where it is, for a style
    whose 5th-95th pitch percentiles are `low`, `high` (`maximum`: tf.maximum on-graph)."""
    widen = maximum(MIN_RANGE - (high - low), 0.0) / 2.0
    return low - widen - RANGE_MARGIN, high + widen + RANGE_MARGIN


QUANTILES = np.linspace(0.0, 1.0, 101)


@dataclasses.dataclass
class Profile:
    """What the mapping of a content's controls needs to know of the target instrument: its
    pitch range, loudness distribution, decay and tuning. A one-shot transfer takes it from
    the style clip; a trained converter stores that of its training data."""

    pitch_low: float              # 5th percentile of the voiced frames' MIDI pitch
    pitch_high: float             # 95th percentile
    loudness_quantiles: list      # QUANTILES of the voiced frames' loudness, dB
    decay: float                  # `decay_rate`, dB/s
    # `tuning`, cents; None in profiles stored before it was measured (played as given).
    tuning: float = None

    @classmethod
    def of(cls, controls, frame_seconds):
        notes = hz_to_midi(controls.f0[controls.voiced])
        return cls(float(np.percentile(notes, 5)), float(np.percentile(notes, 95)),
                   [float(q) for q in np.quantile(controls.loudness[controls.voiced],
                                                  QUANTILES)],
                   decay_rate(controls, frame_seconds), tuning(controls))


def _profile(style):
    # Pitch and loudness need no frame rate; only a decay would.
    return style if isinstance(style, Profile) else Profile.of(style, 1.0)


def octave_shift(content, style):
    """Whole octaves (in semitones) that bring the content's median pitch into the style's
    (Controls or Profile) range (`playable_range`), or 0 when it is already inside: a melody
    the style's instrument can play as written is not moved (the true rendering would not
    be), one outside is moved by the fewest octaves, as DDSP does for, e.g., a voice given to a
    violin."""
    style = _profile(style)
    low, high = playable_range(style.pitch_low, style.pitch_high)
    median = median_midi(content)
    if median < low:
        return 12 * int(np.ceil((low - median) / 12.0))
    if median > high:
        return -12 * int(np.ceil((median - high) / 12.0))
    return 0


def tuning(controls):
    """Where a clip's voiced pitch sits against the equal-tempered grid of A = 440 Hz: the
    circular mean of each frame's distance to its nearest semitone, cents in [-50, 50]
    (0 for a clip with no voiced frame)."""
    midi = hz_to_midi(controls.f0[controls.voiced])
    if not len(midi):
        return 0.0
    angle = 2 * np.pi * (midi - np.round(midi))
    return float(50 / np.pi * np.arctan2(np.mean(np.sin(angle)), np.mean(np.cos(angle))))


def retune(content, style):
    """Semitones (within ±0.5) that move the content's `tuning` onto the style's (Controls
    or Profile; 0 for a profile that has none). Instruments sit off the grid by their own
    amounts (FluidR3_GM's piano reads 11-24 cents sharp where its violin and cello read
    within 5 cents of it), and the true rendering of a melody sounds in the instrument's
    tuning: on the development set, playing the content in the style's tuning took one-shot
    transfer from 0.680x to 0.664x identity's mel distance, piano->violin from 0.639x to
    0.595x, chroma unchanged."""
    style = _profile(style)
    if style.tuning is None:
        return 0.0
    cents = style.tuning - tuning(content)
    return float((cents - 100 * np.round(cents / 100)) / 100)


# A new note starts where the pitch moves by more than this many semitones between frames.
NOTE_STEP = 0.5


def notes(controls):
    """(start, stop) frame ranges of the notes: voiced runs, split where the pitch steps."""
    midi = hz_to_midi(controls.f0)
    step = np.abs(np.diff(midi)) > NOTE_STEP
    boundary = np.concatenate([[True], step | ~controls.voiced[1:] | ~controls.voiced[:-1]])
    out, start = [], None
    for i in range(len(controls) + 1):
        if i == len(controls) or boundary[i] or not controls.voiced[i]:
            if start is not None and i - start >= 3:
                out.append((start, i))
            start = i if i < len(controls) and controls.voiced[i] else None
    return out


def decay_rate(controls, frame_seconds):
    """The clip's typical loudness slope after each note's peak, in dB/s (a piano's is
    strongly negative, a bowed or blown note's near 0); frame-weighted over its notes. The
    last quarter of each note, where it is released, is left out."""
    slopes, weights = [], []
    for start, stop in notes(controls):
        level = controls.loudness[start:stop]
        peak = int(np.argmax(level))
        tail = level[peak:peak + (3 * (len(level) - peak)) // 4]
        if len(tail) >= 4:
            t = np.arange(len(tail)) * frame_seconds
            slopes.append(np.polyfit(t, tail, 1)[0])
            weights.append(len(tail))
    return float(np.average(slopes, weights=weights)) if slopes else 0.0


def match_decay(content, style, frame_seconds, most_db=30.0):
    """The content's loudness with each note's decay after its peak changed to the style's
    typical one: a piano melody given to a violin sustains its notes instead of fading, a
    violin melody given to a piano fades (by at most `most_db`). `style`: Controls or a
    Profile."""
    target = style.decay if isinstance(style, Profile) else decay_rate(style, frame_seconds)
    change = target - decay_rate(content, frame_seconds)
    loudness = content.loudness.copy()
    for start, stop in notes(content):
        peak = start + int(np.argmax(content.loudness[start:stop]))
        t = np.arange(stop - peak) * frame_seconds
        loudness[peak:stop] += np.clip(change * t, -most_db, most_db)
    return dataclasses.replace(content, loudness=loudness.astype(np.float32))


# `offset_loudness` lines up this quantile of the voiced loudness: the level of a melody's
# louder notes, which both a soft and a loud passage reach.
OFFSET_QUANTILE = 0.75


def voiced_level(loudness, voiced, quantile=OFFSET_QUANTILE):
    """A clip's level (dB): the `quantile` of its voiced frames' loudness."""
    return float(np.quantile(loudness[voiced], quantile))


def target_level(style, quantile=OFFSET_QUANTILE):
    """The style's (Controls or Profile) `quantile` of voiced loudness, dB."""
    return float(np.interp(quantile, QUANTILES, _profile(style).loudness_quantiles))


def offset_loudness(content, style, quantile=OFFSET_QUANTILE):
    """The content's loudness moved by one offset, so that its `quantile` of voiced loudness
    is the style's (Controls or Profile): the content's dynamics are kept as they are, crescendo,
    accents and soft passages alike, where `map_loudness` squeezes them into the style's range."""
    target = target_level(style, quantile)
    level = voiced_level(content.loudness, content.voiced, quantile)
    return (content.loudness + (target - level)).astype(np.float32)


def map_loudness(content, style):
    """The content's loudness moved onto the style's (Controls or Profile) distribution over
    voiced frames.

    Quantile mapping: a content frame at the q-th quantile of the content's voiced loudness
    gets the style's q-th quantile; frames outside the content's voiced range move by the
    offset at its nearest end, so quiet tails and silences stay as far below the notes.
    """
    src = np.quantile(content.loudness[content.voiced], QUANTILES)
    dst = np.asarray(_profile(style).loudness_quantiles)
    src = np.maximum.accumulate(src + np.arange(len(src)) * 1e-6)   # strictly increasing
    mapped = np.interp(content.loudness, src, dst)
    below, above = content.loudness < src[0], content.loudness > src[-1]
    mapped[below] = content.loudness[below] + (dst[0] - src[0])
    mapped[above] = content.loudness[above] + (dst[-1] - src[-1])
    return mapped.astype(np.float32)
