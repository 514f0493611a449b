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


@dataclasses.dataclass
class Controls:
    """One clip's controls, all [frames] float32 NumPy arrays at one hop length."""

    f0: np.ndarray            # Hz; unvoiced frames carry the nearest voiced frame's value
    periodicity: np.ndarray   # 0..1
    loudness: np.ndarray      # A-weighted dB re full scale
    voiced: np.ndarray        # bool

    def __len__(self):
        return len(self.f0)

    def slice(self, start, stop):
        return Controls(*(getattr(self, f.name)[start:stop] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(parts):
        return Controls(*(np.concatenate([getattr(p, f.name) for p in parts])
                          for f in dataclasses.fields(Controls)))


def analyse(y, sr, hop_length):
    """Controls of waveform y [samples] with 1 + len(y) // hop_length frames."""
    import tensorflow as tf

    from tfstyle import dsp

    y = tf.constant(np.asarray(y, np.float32)[None])
    f0, periodicity = dsp.yin(y, sr, FMIN, FMAX, FRAME_LENGTH, hop_length)
    loudness = dsp.loudness(y, sr, n_fft=FRAME_LENGTH, hop_length=hop_length)
    f0, periodicity, loudness = (t.numpy()[0] for t in (f0, periodicity, loudness))
    voiced = (periodicity >= PERIODICITY) & (loudness >= loudness.max() - SILENCE_DB)
    voiced = _drop_short_runs(voiced, 3)
    return Controls(_fill_unvoiced(_median3(f0), voiced), periodicity, loudness, voiced)


def low_partial_share(y, sr, controls, hop_length, n_fft=FRAME_LENGTH):
    """Per frame, the share of the power that lies between 0.5·f0 and 2.5·f0.

    A single note puts a good part of its power in its first two harmonics; a chord makes YIN
    report the chord's common subharmonic, far below every note, and leaves that band all but
    empty. Used to warn about polyphonic content."""
    y = np.pad(np.asarray(y, np.float32), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop_length][:len(controls)]
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    f0 = controls.f0[:len(frames), None]
    band = (freqs >= 0.5 * f0) & (freqs <= 2.5 * f0)
    return (power * band).sum(-1) / np.maximum(power.sum(-1), 1e-20)


def _median3(f0):
    """A 3-frame median: removes one-frame octave slips without blurring note changes."""
    padded = np.pad(f0, 1, mode="edge")
    return np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)


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


def octave_shift(content, style):
    """Whole octaves (in semitones) that bring the content's median pitch into the style's
    range, or 0 when it is already inside: a melody the style's instrument can play as
    written is not moved (the true rendering would not be), one outside is moved by the
    fewest octaves, as DDSP does for, e.g., a voice given to a violin."""
    notes = hz_to_midi(style.f0[style.voiced])
    low = float(np.percentile(notes, 5)) - RANGE_MARGIN
    high = float(np.percentile(notes, 95)) + RANGE_MARGIN
    median = median_midi(content)
    if median < low:
        return 12 * int(np.ceil((low - median) / 12.0))
    if median > high:
        return -12 * int(np.ceil((median - high) / 12.0))
    return 0


def map_loudness(content, style):
    """The content's loudness moved onto the style's distribution over voiced frames.

    Quantile mapping: a content frame at the q-th quantile of the content's voiced loudness
    gets the style's q-th quantile; frames outside the content's voiced range move by the
    offset at its nearest end, so quiet tails and silences stay as far below the notes.
    """
    quantiles = np.linspace(0.0, 1.0, 101)
    src = np.quantile(content.loudness[content.voiced], quantiles)
    dst = np.quantile(style.loudness[style.voiced], quantiles)
    src = np.maximum.accumulate(src + np.arange(len(src)) * 1e-6)   # strictly increasing
    mapped = np.interp(content.loudness, src, dst)
    below, above = content.loudness < src[0], content.loudness > src[-1]
    mapped[below] = content.loudness[below] + (dst[0] - src[0])
    mapped[above] = content.loudness[above] + (dst[-1] - src[-1])
    return mapped.astype(np.float32)
