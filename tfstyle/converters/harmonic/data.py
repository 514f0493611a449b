"""Training data of a harmonic converter: the target domain's controls, analysed once and
cached in the run, and endless seeded batches of windows of them with their audio.

The cache (RUN/cache/controls-KEY.npz) is keyed by the clips' names, lengths and a checksum
of their samples, and by the analysis settings, so a resumed run, or another worker, reads it
instead of analysing again, and changed data is analysed afresh.
"""
import dataclasses
import hashlib
import json
import os

import numpy as np

from tfstyle.domains import Domain
from tfstyle.errors import TfstyleError
from tfstyle.harmonic import controls as ctl
from tfstyle.harmonic.performance import decoder_inputs, gate

FIELDS = [f.name for f in dataclasses.fields(ctl.Controls)]


@dataclasses.dataclass
class AnalysedDomain(Domain):
    controls: list = None      # a ctl.Controls per clip


def cache_key(domain, config):
    digest = hashlib.sha1(json.dumps([config.sr, config.hop_length, ctl.FRAME_LENGTH,
                                      ctl.FMIN, ctl.FMAX, ctl.ANALYSIS_VERSION]).encode())
    for name, clip in zip(domain.names, domain.clips):
        digest.update(f"{name}:{len(clip)}".encode())
        digest.update(np.ascontiguousarray(clip[::97]).tobytes())
    return digest.hexdigest()[:16]


def analyse(domain, config, cache_dir=None, progress=False):
    """The domain with every clip's controls, from the cache when it matches."""
    path = os.path.join(cache_dir, f"controls-{cache_key(domain, config)}.npz") \
        if cache_dir else None
    cached = bool(path) and os.path.isfile(path)
    if cached:
        with np.load(path) as saved:
            counts = saved["frames"]
            arrays = {name: np.split(saved[name], np.cumsum(counts)[:-1]) for name in FIELDS}
        parts = [ctl.Controls(*(arrays[name][i] for name in FIELDS))
                 for i in range(len(counts))]
    else:
        from tfstyle.progress import tqdm

        parts = [ctl.analyse(clip, config.sr, config.hop_length)
                 for clip in tqdm(domain.clips, desc="analysing pitch and loudness",
                                  unit="clip", disable=not progress)]
    voiced = sum(int(p.voiced.sum()) for p in parts)
    if voiced < config.window_frames:
        raise TfstyleError(f"{domain.spec}: only {voiced} pitched frames found; a harmonic "
                           "converter learns a melodic instrument from its pitched notes")
    if path and not cached:   # only usable analyses are kept: a failed fit leaves no folder
        os.makedirs(cache_dir, exist_ok=True)
        joined = ctl.Controls.concat(parts)
        tmp = path + ".partial.npz"
        np.savez(tmp, frames=np.array([len(p) for p in parts]),
                 **{name: getattr(joined, name) for name in FIELDS})
        os.replace(tmp, path)
    return AnalysedDomain(**{f.name: getattr(domain, f.name)
                             for f in dataclasses.fields(Domain)}, controls=parts)


def profile(domain, config):
    """The target's `controls.Profile`, from every clip's voiced frames."""
    return ctl.Profile.of(ctl.Controls.concat(domain.controls), config.hop_length / config.sr)


class Windows:
    """All clips' per-frame arrays end to end, and where a training window may start: inside
    one clip, at a sounding frame."""

    def __init__(self, domain, config):
        hop, width = config.hop_length, config.window_frames
        arrays, audio, starts, offset = [], [], [], 0
        for clip, controls in zip(domain.clips, domain.controls):
            frames = len(controls)
            gates = gate(controls)
            arrays.append({**decoder_inputs(controls), "f0": controls.f0,
                           "voiced": controls.voiced.astype(np.float32), "gate": gates})
            audio.append(np.pad(clip, (0, frames * hop - len(clip)))[:frames * hop])
            usable = np.flatnonzero(gates[:max(0, frames - width)] > 0)
            starts.append(offset + usable)
            offset += frames
        self.arrays = {k: np.concatenate([a[k] for a in arrays]) for k in arrays[0]}
        self.audio = np.concatenate(audio).astype(np.float32)
        self.starts = np.concatenate(starts)
        if not len(self.starts):
            raise TfstyleError(f"{domain.spec}: no clip has {width} frames of sound; lower "
                               "window_frames or give longer recordings")
        self.hop, self.width = hop, width

    def batch(self, starts):
        hop, width = self.hop, self.width
        out = {k: np.stack([v[s:s + width] for s in starts]) for k, v in self.arrays.items()}
        out["audio"] = np.stack([self.audio[s * hop:(s + width) * hop] for s in starts])
        return out


def pipeline(domain, config, rows, seed):
    """Endless batches {f0_scaled, loudness_scaled: [rows, W, 1], f0, voiced, gate: [rows, W],
    audio, noise: [rows, W * hop]}: windows drawn uniformly over the sounding frames, and the
    white noise the synthesiser filters for each (fresh every step, and a row's own wherever
    its replica is: two workers then step as one device on the global batch), seeded."""
    import tensorflow as tf

    windows = Windows(domain, config)
    width, hop = config.window_frames, config.hop_length

    def batches():
        rng = np.random.default_rng(seed)
        while True:
            batch = windows.batch(rng.choice(windows.starts, size=rows))
            batch["noise"] = rng.uniform(-1.0, 1.0, (rows, width * hop)).astype(np.float32)
            yield batch

    spec = {"f0_scaled": tf.TensorSpec([rows, width, 1], tf.float32),
            "loudness_scaled": tf.TensorSpec([rows, width, 1], tf.float32),
            "f0": tf.TensorSpec([rows, width], tf.float32),
            "voiced": tf.TensorSpec([rows, width], tf.float32),
            "gate": tf.TensorSpec([rows, width], tf.float32),
            "audio": tf.TensorSpec([rows, width * hop], tf.float32),
            "noise": tf.TensorSpec([rows, width * hop], tf.float32)}
    return tf.data.Dataset.from_generator(batches, output_signature=spec).prefetch(2)
