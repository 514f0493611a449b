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
import dataclasses
import glob
import os
import warnings

import numpy as np

from tfstyle import datasets
from tfstyle.audio import AUDIO_EXTENSIONS
from tfstyle.datasets import TFDS
from tfstyle.errors import TfstyleError


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
        yield from datasets.sources(spec, sr, data_dir)
    else:
        for path in list_files(spec):
            yield path, path


@dataclasses.dataclass
class Domain:
    """Validated audio of one domain, and the report of how it was gathered."""

    spec: str
    clips: list                     # float32 waveforms at the config's rate
    names: list                     # where each clip came from
    skipped: list                   # (source, reason)

    @property
    def seconds(self):
        return sum(len(c) for c in self.clips)

    def report(self, label, sr):
        lines = [f"domain {label}: {self.spec}: {len(self.clips)} clips, "
                 f"{self.seconds / sr / 60:.1f} min"]
        for source, reason in self.skipped[:10]:
            lines.append(f"  skipped {source}: {reason}")
        if len(self.skipped) > 10:
            lines.append(f"  ... and {len(self.skipped) - 10} more skipped")
        return "\n".join(lines)


def _trim(y, top_db):
    if not top_db:
        return y
    import librosa

    trimmed, _ = librosa.effects.trim(y, top_db=top_db)
    return trimmed


def load_domain(spec, config, part=(0, 1)):
    """Reads a domain, skipping unusable sources with a reason; fails if nothing is usable.

    `part` (index, count) keeps every count-th source from the index-th: a worker's share when
    multi-worker training shards by files.
    """
    from tfstyle import audio

    clips, names, skipped = [], [], []
    index, count = part
    for k, (name, source) in enumerate(sources(spec, config.sr)):
        if k % count != index:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # silent clips are reported below instead
                y = audio.load(source, config.sr) if isinstance(source, str) else source
            y = _trim(y, config.trim_db)
        except TfstyleError as e:
            skipped.append((name, str(e).replace(f"{name}: ", "")))
            continue
        if len(y) < config.min_samples():
            skipped.append((name, f"{len(y) / config.sr:.2f} s after trimming silence, shorter "
                                  f"than one training crop ({config.min_samples() / config.sr:.2f}"
                                  " s)"))
            continue
        clips.append(np.asarray(y, np.float32))
        names.append(name)
    domain = Domain(spec, clips, names, skipped)
    if not clips:
        why = f" ({len(skipped)} skipped: {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        share = f" in this worker's share (source {index + 1} of every {count})" if count > 1 \
            else ""
        raise TfstyleError(f"{spec}: no usable audio{share}{why}")
    return domain
