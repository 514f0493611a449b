"""Training data for MelGAN-VC: a domain spec → validated clips → a tf.data pipeline of crops.

A domain spec is one of:
- a folder (searched recursively for .wav, .flac, .ogg, .mp3),
- a text file listing audio paths, one per line (relative to the list's folder),
- a glob pattern (quoted), or a single audio file,
- `tfds:NAME[:CONFIG][?split=SPLIT&FEATURE=VALUE...]`, a prepared TensorFlow Datasets dataset
  filtered by feature values (e.g. `tfds:gtzan?label=jazz`); nothing is downloaded.

Files are read and checked once up front (so a report can say what was used and skipped, and
an empty domain fails before training starts), silence is trimmed, and the normalised mel of
each clip is computed on-graph and cached. Every epoch each clip starts at a random offset and is
cut into critic crops of 3 slices, one slice apart, so long clips give proportionally more crops.
"""
import dataclasses
import glob
import os
import warnings

import numpy as np

from tfstyle.errors import TfstyleError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


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
        raise TfstyleError(f"{spec}: no such file or folder")
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


def _trim(y, top_db):
    if not top_db:
        return y
    import librosa

    trimmed, _ = librosa.effects.trim(y, top_db=top_db)
    return trimmed


def load_domain(spec, config):
    """Reads a domain, skipping unusable sources with a reason; fails if nothing is usable."""
    from tfstyle import audio

    if spec.startswith("tfds:"):
        sources = _tfds_sources(spec, config)
    else:
        sources = [(path, path) for path in list_files(spec)]
    clips, names, skipped = [], [], []
    for name, source in sources:
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
        raise TfstyleError(f"{spec}: no usable audio{why}")
    return domain


def _tfds_sources(spec, config):
    """(name, waveform) pairs of a TFDS spec `tfds:NAME[:CONFIG][?split=S&KEY=VALUE...]`."""
    from urllib.parse import parse_qsl

    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise TfstyleError("tfds: specs need tensorflow-datasets (pip install "
                           "tensorflow-datasets)") from None
    body, _, query = spec[len("tfds:"):].partition("?")
    params = dict(parse_qsl(query))
    split = params.pop("split", "train")
    name = body.replace(":", "/")
    try:
        builder = tfds.builder(name, data_dir=params.pop("data_dir", None), try_gcs=False)
        dataset = builder.as_dataset(split=split)
    except Exception as e:  # TFDS raises many types for unknown or unprepared datasets
        raise TfstyleError(f"{spec}: cannot open the TFDS dataset {name!r} split {split!r} "
                           f"({type(e).__name__}: {str(e).splitlines()[0][:160]}); prepare it "
                           f"first with 'tfds build' (see docs), nothing is downloaded") from None
    features = builder.info.features
    unknown = [k for k in params if k not in features]
    if unknown:
        raise TfstyleError(f"{spec}: unknown feature(s) {', '.join(unknown)}; this dataset has "
                           f"{', '.join(features.keys())}")
    wanted = {}
    for key, value in params.items():
        feature = features[key]
        if isinstance(feature, tfds.features.ClassLabel):
            if value not in feature.names:
                raise TfstyleError(f"{spec}: {key}={value} is not one of {', '.join(feature.names)}")
            wanted[key] = feature.str2int(value)
        else:
            wanted[key] = value
    rate = getattr(features["audio"], "sample_rate", None) or config.sr
    sources = []
    for i, example in enumerate(tfds.as_numpy(dataset)):
        if any(_decoded(example[k]) != v for k, v in wanted.items()):
            continue
        y = np.asarray(example["audio"], np.float32)
        if np.issubdtype(example["audio"].dtype, np.integer):
            y = y / 32768.0   # TFDS keeps 16-bit PCM values in integer tensors
        if y.ndim > 1:
            y = y.mean(axis=-1)
        if rate != config.sr:
            import soxr
            y = soxr.resample(y, rate, config.sr).astype(np.float32)
        sources.append((f"{name}[{split}][{i}]", y))
    return sources


def _decoded(value):
    return value.decode() if isinstance(value, bytes) else (
        int(value) if np.ndim(value) == 0 and np.issubdtype(np.asarray(value).dtype, np.integer)
        else value)


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


def training_pipeline(domain_a, domain_b, config):
    """Zipped (a, b) batches for `MelGANVC.fit`: each holds one schedule cycle
    (joint_every batches of batch_size)."""
    import tensorflow as tf

    pairs = tf.data.Dataset.zip((crops(domain_a, config, config.seed),
                                 crops(domain_b, config, config.seed + 1)))
    return pairs.batch(config.batch_size * config.joint_every,
                       drop_remainder=True).prefetch(tf.data.AUTOTUNE)
