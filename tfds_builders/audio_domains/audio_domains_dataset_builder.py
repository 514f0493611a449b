"""audio_domains: a user's own folders of audio, one split per domain plus a held-out split."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from tfstyle import audio
from tfstyle.audio import AUDIO_EXTENSIONS
from tfstyle.errors import TfstyleError

HELDOUT = "heldout"


@dataclasses.dataclass
class Config(tfds.core.BuilderConfig):
    """Where the domains are and how much of each to hold out."""

    root: str | None = None         # a folder of domain subfolders; None: the manual dir
    heldout_fraction: float = 0.1


def split_name(folder):
    """A domain folder's name as a TFDS split name (lower case, [a-z0-9_])."""
    name = re.sub(r"[^a-z0-9_]+", "_", folder.lower()).strip("_")
    return name or "domain"


def find_domains(root):
    """{split name: sorted audio files} for each subfolder of `root` that holds audio."""
    if not os.path.isdir(root):
        raise TfstyleError(f"{root}: no such folder (expected one subfolder per domain)")
    domains, folders = {}, {}
    for entry in sorted(os.listdir(root)):
        folder = os.path.join(root, entry)
        if not os.path.isdir(folder) or entry.startswith("."):
            continue
        files = sorted(os.path.join(dirpath, f) for dirpath, _, names in os.walk(folder)
                       for f in names if f.lower().endswith(AUDIO_EXTENSIONS))
        name = split_name(entry)
        if name == HELDOUT:
            raise TfstyleError(f"{folder}: '{HELDOUT}' is the held-out split's name; rename "
                               "the folder")
        if name in domains:
            raise TfstyleError(f"{folder} and {folders[name]} both become the split '{name}'; "
                               "rename one")
        if not files:
            raise TfstyleError(f"{folder}: the domain holds no audio files "
                               f"({', '.join(AUDIO_EXTENSIONS)})")
        domains[name], folders[name] = files, folder
    if not domains:
        loose = [f for f in os.listdir(root) if f.lower().endswith(AUDIO_EXTENSIONS)]
        hint = " (audio files directly in it do not count)" if loose else ""
        raise TfstyleError(f"{root}: no domain subfolders with audio{hint}; put each domain's "
                           "files in its own subfolder, e.g. piano/ and violin/")
    return domains


def hold_out(files, fraction, root):
    """Splits a domain's files into (kept, held out) by a hash of their relative paths.

    The hash, not the listing order, decides, so a file stays on its side when others are added.
    A domain of two or more files always gives at least one file when `fraction` > 0.
    """
    if fraction <= 0 or len(files) < 2:
        return files, []
    count = max(1, round(len(files) * fraction))
    ranked = sorted(files, key=lambda f: hashlib.sha1(
        os.path.relpath(f, root).encode()).hexdigest())
    held = set(ranked[:count])
    return [f for f in files if f not in held], [f for f in files if f in held]


class Builder(tfds.core.GeneratorBasedBuilder):
    """Folders of audio as domains; unreadable files are reported and skipped."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """\
    Put one subfolder per domain in the manual dir, e.g. `piano/` and `violin/`, holding audio
    files (.wav, .flac, .ogg, .mp3; searched recursively), then build with
    `tfds build tfds_builders/audio_domains --manual_dir DIR` or
    `tfstyle data build audio_domains/NAME --manual-dir DIR`.
    """
    BUILDER_CONFIGS = [Config(name="default", description="domains from the manual dir")]

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                # Kept at each file's own rate and mixed to mono; `sample_rate` says which.
                "audio": tfds.features.Audio(shape=(None,), dtype=np.float32),
                "sample_rate": np.int32,
                "duration": np.float32,
                "domain": tfds.features.Text(),
                "path": tfds.features.Text(),
            }),
            metadata=tfds.core.MetadataDict(),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        config = self.builder_config
        root = os.path.abspath(os.path.expanduser(config.root)) if config.root \
            else os.path.abspath(os.fspath(dl_manager.manual_dir))
        self.info.metadata["root"] = root
        self.info.metadata["skipped"] = {}
        splits, heldout = {}, []
        for name, files in find_domains(root).items():
            kept, held = hold_out(files, config.heldout_fraction, root)
            splits[name] = self._generate_examples(root, name, kept)
            heldout += [(name, f) for f in held]
        if heldout:
            splits[HELDOUT] = self._generate_heldout(root, heldout)
        return splits

    def _generate_examples(self, root, domain, files):
        yielded = 0
        for path in files:
            example = self._example(root, domain, path)
            if example:
                yielded += 1
                yield example
        if not yielded:
            first = self.info.metadata["skipped"].get(domain, ["?"])[0]
            raise TfstyleError(f"domain {domain}: none of its {len(files)} files is readable "
                               f"({first})")

    def _generate_heldout(self, root, pairs):
        for domain, path in pairs:
            example = self._example(root, domain, path)
            if example:
                yield example

    def _example(self, root, domain, path):
        relative = os.path.relpath(path, root)
        try:
            y, sr = audio.read(path)
        except TfstyleError as e:
            reason = str(e).replace(f"{path}: ", "")
            logging.warning("audio_domains: skipped %s: %s", relative, reason)
            self.info.metadata["skipped"].setdefault(domain, []).append(f"{relative}: {reason}")
            return None
        return relative, {"audio": y, "sample_rate": sr, "duration": len(y) / sr,
                          "domain": domain, "path": relative}
