"""Regenerate the bundled example clips (needs Debian's fluidsynth, fluid-soundfont-gm, espeak-ng).

    apt-get install fluidsynth fluid-soundfont-gm espeak-ng
    python examples/make_examples.py

Every clip is made here from scratch: melodies are written as MIDI and rendered by fluidsynth with
the FluidR3 General MIDI soundfont (MIT licence); speech is synthesised by espeak-ng. The result is
deterministic for a given fluidsynth/soundfont version.
"""
import os
import subprocess
import tempfile

import numpy as np
import soundfile as sf

from tfstyle import synth

HERE = os.path.dirname(os.path.abspath(__file__))
SR = 22050
SECONDS = 5.0

# (pitch, beats) pairs; 120 bpm, so one beat is 0.5 s.
ODE_TO_JOY = [(64, 1), (64, 1), (65, 1), (67, 1), (67, 1), (65, 1), (64, 1), (62, 1),
              (60, 1), (60, 1), (62, 1), (64, 1)]
ARPEGGIO = [(57, 0.5), (60, 0.5), (64, 0.5), (69, 1), (67, 0.5), (64, 0.5), (60, 0.5),
            (62, 1), (65, 0.5), (69, 0.5), (72, 1.5), (71, 1)]
SCALE_RUN = [(72, 0.5), (74, 0.5), (76, 0.5), (77, 0.5), (79, 1), (77, 0.5), (76, 0.5),
             (74, 1), (72, 1), (67, 1.5), (72, 1.5)]

CLIPS = {
    # name: (notes, General MIDI program)
    "piano_melody": (ODE_TO_JOY, 0),      # Acoustic Grand Piano
    "violin_phrase": (ARPEGGIO, 40),      # Violin
    "flute_phrase": (SCALE_RUN, 73),      # Flute
}
SPEECH = "Style transfer moves the timbre of one sound onto the content of another."


def as_notes(melody, beat=0.5):
    """(pitch, beats) pairs at 120 bpm as timed, legato notes."""
    notes, t = [], 0.0
    for pitch, beats in melody:
        notes.append(synth.Note(pitch, t, t + beats * beat, velocity=96))
        t += beats * beat
    return notes


def finish(y, path):
    """Mono, exactly SECONDS long with a short fade-out, peak at -3 dBFS, 16-bit WAV."""
    if y.ndim == 2:
        y = y.mean(axis=1)
    n = int(SR * SECONDS)
    y = np.pad(y, (0, max(0, n - len(y))))[:n]
    fade = int(0.05 * SR)
    y[-fade:] *= np.linspace(1.0, 0.0, fade)
    y = y / (np.abs(y).max() + 1e-9) * 10 ** (-3 / 20)
    sf.write(path, y.astype(np.float32), SR, subtype="PCM_16")
    print("wrote", path)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for name, (notes, program) in CLIPS.items():
            midi = os.path.join(tmp, name + ".mid")
            wav = os.path.join(tmp, name + ".wav")
            synth.write_midi(as_notes(notes), program, midi)
            # Unlike timbre_pairs, the examples keep fluidsynth's default reverb and chorus.
            subprocess.run([synth.fluidsynth_path(), "-ni", "-g", "0.8", "-r", str(SR), "-F",
                            wav, synth.soundfont_path(), midi], check=True, capture_output=True)
            y, sr = sf.read(wav, dtype="float32")
            assert sr == SR
            finish(y, os.path.join(HERE, name + ".wav"))
        wav = os.path.join(tmp, "speech.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, SPEECH], check=True)
        y, sr = sf.read(wav, dtype="float32")
        import soxr
        finish(soxr.resample(y, sr, SR), os.path.join(HERE, "speech.wav"))


if __name__ == "__main__":
    main()
