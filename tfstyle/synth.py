"""Melodies written as MIDI and rendered by fluidsynth with a General MIDI soundfont.

This is how the project makes audio with a known truth: the same notes on two instruments give
two recordings that differ only in timbre and are aligned to the sample (the `timbre_pairs`
dataset, the bundled examples). fluidsynth and the soundfont are system packages, not Python ones;
when they are missing the error names the Debian packages.
"""
import dataclasses
import os
import shutil
import subprocess
import tempfile

import numpy as np

from tfstyle.errors import TfstyleError

DEBIAN_PACKAGES = "fluidsynth fluid-soundfont-gm"
# Where Debian, Ubuntu, Fedora and Arch put a General MIDI soundfont.
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2",
              "/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/soundfonts/default.sf2")
# MIDI timing: 480 ticks per beat at 120 bpm, so one tick is 1/960 s and note times in seconds
# map to whole ticks without drift.
_TICKS_PER_BEAT = 480
_TICKS_PER_SECOND = 960
# The MIDI channel the melody plays on; channel 10 (index 9) is the drum kit in General MIDI.
_CHANNEL = 0

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


@dataclasses.dataclass(frozen=True)
class Note:
    pitch: int          # MIDI note number
    start: float        # seconds
    end: float          # seconds
    velocity: int = 96


def fluidsynth_path():
    path = shutil.which("fluidsynth")
    if not path:
        raise TfstyleError(f"fluidsynth is not installed; on Debian or Ubuntu: "
                           f"apt-get install {DEBIAN_PACKAGES}")
    return path


def soundfont_path(path=None):
    """The soundfont to render with: `path`, else $TFSTYLE_SOUNDFONT, else the system's GM one."""
    path = path or os.environ.get("TFSTYLE_SOUNDFONT")
    if path:
        if not os.path.isfile(path):
            raise TfstyleError(f"{path}: soundfont not found")
        return path
    for candidate in SOUNDFONTS:
        if os.path.isfile(candidate):
            return candidate
    raise TfstyleError(f"no General MIDI soundfont found (looked for {', '.join(SOUNDFONTS)}); "
                       f"on Debian or Ubuntu: apt-get install {DEBIAN_PACKAGES}, or point "
                       "TFSTYLE_SOUNDFONT at an .sf2 file")


def random_melody(rng, seconds, low, high, tail=0.25):
    """A seeded monophonic melody in a random major or minor key within [low, high].

    Mostly stepwise motion with occasional leaps and rests, durations of 1/2 to 2 beats at a
    random tempo of 80-140 bpm; every note ends `tail` seconds before `seconds` so its release
    fits in the clip.
    """
    tonic = int(rng.integers(12))
    scale = MAJOR if rng.random() < 0.5 else MINOR
    pitches = [p for p in range(low, high + 1) if (p - tonic) % 12 in scale]
    if len(pitches) < 5:
        raise ValueError(f"range {low}-{high} is too narrow for a melody")
    beat = 60.0 / float(rng.uniform(80, 140))
    index = int(rng.integers(len(pitches) // 3, 2 * len(pitches) // 3 + 1))
    notes, t = [], 0.0
    while t < seconds - tail - 0.1:
        length = beat * rng.choice([0.5, 1.0, 1.5, 2.0], p=[0.35, 0.4, 0.1, 0.15])
        if notes and rng.random() < 0.1:          # a rest
            t += length
            continue
        index += int(rng.choice([-4, -3, -2, -1, 0, 1, 2, 3, 4],
                                p=[0.03, 0.05, 0.12, 0.27, 0.06, 0.27, 0.12, 0.05, 0.03]))
        if not 0 <= index < len(pitches):          # reflect at the ends of the range
            index = -index if index < 0 else 2 * (len(pitches) - 1) - index
        end = min(t + 0.95 * length, seconds - tail)
        notes.append(Note(pitches[index], round(float(t), 4), round(float(end), 4),
                          int(rng.integers(80, 112))))
        t += length
    return notes


# Scales of `varied_melody`, beside MAJOR and MINOR.
MAJOR_PENTATONIC = (0, 2, 4, 7, 9)
DORIAN = (0, 2, 3, 5, 7, 9, 10)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)


def varied_melody(rng, seconds, low, high, tail=0.25):
    """A seeded monophonic melody drawn from a wider space than `random_melody`.

    Each melody draws its own character, so a training set covers what users play: tempo
    60-200 bpm; one of five scales; a register of 12-24 semitones placed anywhere in
    [low, high]; its own mix of note lengths from sixteenths to dotted halves; 0-30 % rests;
    an articulation from staccato (30 % of the note's span) to legato (notes touching);
    a loudness from pp to ff with a crescendo or diminuendo and per-note accents; a leap
    probability of 5-35 %. Every note ends `tail` seconds before `seconds`.
    """
    tonic = int(rng.integers(12))
    scale = (MAJOR, MINOR, MAJOR_PENTATONIC, DORIAN, HARMONIC_MINOR)[int(rng.integers(5))]
    width = int(rng.integers(12, 25))
    bottom = int(rng.integers(low, max(low, high - width) + 1))
    pitches = [p for p in range(bottom, min(high, bottom + width) + 1)
               if (p - tonic) % 12 in scale]
    if len(pitches) < 5:
        raise ValueError(f"range {low}-{high} is too narrow for a melody")
    beat = 60.0 / float(rng.uniform(60, 200))
    lengths = np.array([0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
    mix = rng.dirichlet(np.full(len(lengths), 0.7))
    rests, leaps = float(rng.uniform(0.0, 0.3)), float(rng.uniform(0.05, 0.35))
    articulation = float(rng.uniform(0.3, 1.0))
    level, trend = float(rng.uniform(40, 115)), float(rng.uniform(-12, 12))   # per second
    index = int(rng.integers(len(pitches)))
    notes, t = [], 0.0
    while t < seconds - tail - 0.05:
        length = beat * float(rng.choice(lengths, p=mix))
        if notes and rng.random() < rests:
            t += length
            continue
        step = int(rng.integers(2, 6)) if rng.random() < leaps else int(rng.integers(0, 2))
        index += step if rng.random() < 0.5 else -step
        if not 0 <= index < len(pitches):          # reflect at the ends of the register
            index = -index if index < 0 else 2 * (len(pitches) - 1) - index
            index = min(max(index, 0), len(pitches) - 1)
        # Legato notes run into the next onset (a note-off sorts before a note-on at one time).
        held = 1.0 if articulation > 0.92 else min(1.0, articulation + rng.normal(0, 0.05))
        end = min(t + max(held * length, 0.05), seconds - tail)
        velocity = level + trend * t + rng.normal(0, 6) + (12 if rng.random() < 0.15 else 0)
        notes.append(Note(pitches[index], round(float(t), 4), round(float(end), 4),
                          int(np.clip(velocity, 20, 127))))
        t += length
    return notes


def write_midi(notes, program, path):
    """A type-0 MIDI file playing `notes` (times in seconds) on General MIDI `program`."""
    import mido

    events = [(0, 0, mido.Message("program_change", program=program, channel=_CHANNEL))]
    for note in notes:
        on, off = round(note.start * _TICKS_PER_SECOND), round(note.end * _TICKS_PER_SECOND)
        # At equal times note-offs sort before note-ons, so repeated pitches retrigger.
        events.append((off, 0, mido.Message("note_off", note=note.pitch, velocity=0,
                                            channel=_CHANNEL)))
        events.append((on, 1, mido.Message("note_on", note=note.pitch, velocity=note.velocity,
                                           channel=_CHANNEL)))
    midi = mido.MidiFile(type=0, ticks_per_beat=_TICKS_PER_BEAT)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    midi.save(path)


def render(melodies, program, sr, seconds, soundfont=None, gap=2.0):
    """Renders each melody on `program` to a float32 mono clip of exactly `seconds`.

    All melodies go through one fluidsynth run (loading a 140 MB soundfont costs about 0.5 s),
    each in its own slot followed by `gap` seconds of silence so releases never bleed into the
    next one. Reverb and chorus are off: the clip is the instrument itself. Each clip is peak
    normalised to -3 dBFS and faded out over its last 20 ms.
    """
    import soundfile as sf

    binary, font = fluidsynth_path(), soundfont_path(soundfont)
    slot = seconds + gap
    shifted = [Note(n.pitch, n.start + i * slot, n.end + i * slot, n.velocity)
               for i, melody in enumerate(melodies) for n in melody]
    with tempfile.TemporaryDirectory(prefix="tfstyle-synth-") as tmp:
        midi, wav = os.path.join(tmp, "melodies.mid"), os.path.join(tmp, "melodies.wav")
        write_midi(shifted, program, midi)
        done = subprocess.run([binary, "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.5",
                               "-r", str(sr), "-F", wav, font, midi],
                              capture_output=True, text=True)
        if done.returncode != 0 or not os.path.exists(wav):
            raise TfstyleError(f"fluidsynth failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        y, rate = sf.read(wav, dtype="float32", always_2d=True)
    if rate != sr:
        raise TfstyleError(f"fluidsynth wrote {rate} Hz audio, {sr} Hz was asked for")
    y = y.mean(axis=1)
    n = round(seconds * sr)
    y = np.pad(y, (0, max(0, round(len(melodies) * slot * sr) - len(y))))
    fade = np.linspace(1.0, 0.0, min(n, round(0.02 * sr)), dtype=np.float32)
    clips = []
    for i in range(len(melodies)):
        start = round(i * slot * sr)
        clip = y[start:start + n].copy()
        clip[n - len(fade):] *= fade
        peak = np.max(np.abs(clip))
        clips.append(clip * (10 ** (-3 / 20) / peak) if peak > 0 else clip)
    return clips
