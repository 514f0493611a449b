"""Training data for MelGAN-VC: a domain spec → validated clips → a tf.data pipeline of crops.

Domain specs (folders, lists, globs, `tfds:` datasets selected by label) are resolved by
`tfstyle.domains`. Sources are read and checked once up front (so a report can say what was
used and skipped, and an empty domain fails before training starts), silence is trimmed, and
the normalised mel of each clip is computed on-graph and cached. Every epoch each clip starts at a random offset and is
cut into critic crops of 3 slices, one slice apart, so long clips give proportionally more crops.
"""
import dataclasses
import warnings

import numpy as np

from tfstyle import domains
from tfstyle.errors import TfstyleError


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
    for k, (name, source) in enumerate(domains.sources(spec, config.sr)):
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


def crops(domain, config, seed=0):
    """Endless tf.data pipeline of critic crops [n_mels, 3·frames, 1] from one domain."""
    import tensorflow as tf

    from tfstyle.melgan_vc.frontend import normalized_mel

    crop = config.crop_frames
    clips = domain.clips
    ds = tf.data.Dataset.from_generator(lambda: iter(clips),
                                        output_signature=tf.TensorSpec([None], tf.float32))
    ds = ds.map(lambda y: normalized_mel(y, config), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.cache().shuffle(len(clips), seed=seed, reshuffle_each_iteration=True).repeat()

    def cut(mel, index):
        # A fresh random offset per clip and epoch, then crops one slice apart.
        offset = tf.random.stateless_uniform([], [seed, index], 0, config.frames, tf.int64)
        pieces = tf.signal.frame(mel[offset:], crop, config.frames, axis=0)
        return tf.data.Dataset.from_tensor_slices(tf.transpose(pieces, [0, 2, 1])[..., None])

    ds = ds.enumerate().flat_map(lambda i, mel: cut(mel, i))
    return ds.shuffle(2048, seed=seed)


def training_pipeline(domain_a, domain_b, config, rows=None, seed=None):
    """Zipped (a, b) batches [rows, joint_every, n_mels, 3·frames, 1] (rows: batch_size).

    Each row holds the joint_every crops that one schedule cycle uses in turn, so a batch can be
    split by rows among replicas (or workers) and the union of their step k is exactly the
    single-device step k of the same global batch.
    """
    import tensorflow as tf

    seed = config.seed if seed is None else seed
    pairs = tf.data.Dataset.zip((crops(domain_a, config, seed), crops(domain_b, config, seed + 1)))
    return pairs.batch(config.joint_every, drop_remainder=True).batch(
        rows or config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
