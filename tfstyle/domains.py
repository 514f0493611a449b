"""Domain specs: what `tfstyle fit --a/--b` and `tfstyle data info` accept, resolved to audio.

A domain spec is one of:
- a folder (searched recursively for .wav, .flac, .ogg, .mp3),
- a text file listing audio paths, one per line (relative to the list's folder),
- a glob pattern (quoted), or a single audio file,
- `tfds:NAME[/CONFIG][:VERSION][?split=SPLIT&FEATURE=VALUE[,VALUE...]&take=N&data_dir=DIR]`,
  a prepared TensorFlow Datasets dataset whose examples are selected by label: for example
  `tfds:gtzan?label=jazz`, `tfds:nsynth/gansynth_subset?split=valid&family=brass`,
  `tfds:vctk?gender=F&accent=Scottish`. A nested feature is named by its path
  (`instrument/family`) or, where unambiguous, by its last part (`family`). Several values
  separated by commas select any of them. Nothing is downloaded: `tfstyle data build` prepares
  the project's own datasets, and docs/data.md says how to prepare the catalog ones offline.
"""
import glob
import os

from tfstyle.errors import TfstyleError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")
TFDS = "tfds:"


def list_files(spec):
    """Audio files named by a folder, list file, glob or single file spec."""
    if os.path.isdir(spec):
        found = [os.path.join(root, f) for root, _, files in os.walk(spec) for f in files
                 if f.lower().endswith(AUDIO_EXTENSIONS)]
        return sorted(found)
    if any(ch in spec for ch in "*?["):
        return sorted(f for f in glob.glob(spec, recursive=True)
                      if f.lower().endswith(AUDIO_EXTENSIONS))
    if not os.path.exists(spec):
        raise TfstyleError(f"{spec}: no such file or folder (a domain is a folder, a list of "
                           "files, a quoted glob, an audio file or tfds:NAME; see "
                           "'tfstyle data list')")
    if spec.lower().endswith(AUDIO_EXTENSIONS):
        return [spec]
    try:
        with open(spec, encoding="utf-8") as f:
            entries = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    except (UnicodeDecodeError, OSError) as e:
        raise TfstyleError(f"{spec}: not a folder, audio file or text list of files ({e})") \
            from None
    base = os.path.dirname(os.path.abspath(spec))
    return [e if os.path.isabs(e) else os.path.join(base, e) for e in entries]


def sources(spec, sr, data_dir=None):
    """(name, path or waveform) for every source a spec names; waveforms are at `sr`."""
    if spec.startswith(TFDS):
        from tfstyle import datasets

        yield from datasets.sources(spec, sr, data_dir)
    else:
        for path in list_files(spec):
            yield path, path
