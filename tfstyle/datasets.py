"""TensorFlow Datasets as domains: the datasets tfstyle knows, `tfds:` specs opened and checked,
examples selected by label on-graph, summaries, and offline builds.

The spec grammar is documented in `tfstyle.domains`; the project's own builders live in the
top-level `tfds_builders` package and are registered when a spec is opened.
"""
import dataclasses
import importlib
import os
from urllib.parse import parse_qsl

import numpy as np

from tfstyle import audio
from tfstyle.errors import TfstyleError

TFDS = "tfds:"   # the prefix of a TensorFlow Datasets domain spec


@dataclasses.dataclass(frozen=True)
class Known:
    """A dataset tfstyle knows how to use as domains."""

    what: str
    labels: tuple       # the features a domain is usually selected by
    example: str        # a spec that works once the dataset is prepared
    prepare: str        # how to prepare it offline ({name}: the spec's NAME/CONFIG)


KNOWN = {
    "audio_domains": Known(
        "your own folders of audio, one split per subfolder plus 'heldout'", ("domain",),
        "tfds:audio_domains/NAME?split=piano",
        "tfstyle data build {name} --manual-dir DIR (DIR holds one subfolder per domain)"),
    "timbre_pairs": Known(
        "seeded melodies rendered by fluidsynth on two instruments, aligned note for note",
        ("instrument",), "tfds:timbre_pairs/piano_violin?instrument=piano",
        "tfstyle data build {name} (needs apt-get install fluidsynth fluid-soundfont-gm)"),
    "gtzan": Known(
        "GTZAN: 1000 30-s music clips, 10 genres", ("label",), "tfds:gtzan?label=jazz",
        "TFDS has no checksums for it: run 'tfds build gtzan' where there is network access "
        "and copy the gtzan folder into the data folder, or build audio_domains from its genre "
        "folders"),
    "nsynth": Known(
        "NSynth: 305,979 4-s notes of 1006 instruments", ("instrument/family",
                                                          "instrument/source", "pitch"),
        "tfds:nsynth/gansynth_subset?split=valid&family=brass&source=acoustic",
        "put the nsynth-*.tfrecord.tar files and their label files in DIR, then "
        "tfstyle data build nsynth/CONFIG --manual-dir DIR"),
    "ljspeech": Known(
        "LJ Speech: 13,100 clips of one English speaker (24 h)", (),
        "tfds:ljspeech?take=500",
        "put LJSpeech-1.1.tar.bz2 in DIR, then tfstyle data build ljspeech --manual-dir DIR"),
    "vctk": Known(
        "VCTK 0.92: 110 English speakers with various accents", ("speaker", "gender",
                                                                 "accent"),
        "tfds:vctk?gender=F&accent=Scottish",
        "put VCTK-Corpus-0.92.zip in DIR, then tfstyle data build vctk/mic1 --manual-dir DIR"),
}
_RESERVED = ("split", "take", "data_dir")
# Built here from local sources; every other dataset comes from files the user downloaded.
PROJECT = ("audio_domains", "timbre_pairs")


@dataclasses.dataclass
class TfdsSpec:
    """A parsed `tfds:` spec, opened: the builder, and the selection to apply to its split."""

    spec: str
    name: str                       # as TFDS names it: NAME[/CONFIG][:VERSION]
    split: str
    builder: object
    audio_key: str                  # flattened path of the audio feature
    wanted: dict                    # flattened feature path -> accepted values (encoded)
    labels: dict                    # flattened path -> ClassLabel, for reports
    keys: dict                      # flattened path -> the dict keys that reach it
    take: int = None

    def dataset(self):
        """tf.data of (index in the split, example), selected on-graph before decoding to NumPy."""
        import tensorflow as tf

        try:
            ds = self.builder.as_dataset(split=self.split, shuffle_files=False)
        except AssertionError:            # TFDS's way of saying "not prepared"
            raise TfstyleError(f"{self.spec}: {self.name} is not prepared in "
                               f"{self.builder.data_dir_root}; "
                               f"{_how_to_prepare(self.name)}") from None
        except Exception as e:            # e.g. an unknown split under a mocked or odd builder
            raise TfstyleError(f"{self.spec}: cannot read split {self.split!r} of {self.name} "
                               f"({type(e).__name__}: {_first_line(e)})") from None
        ds = ds.enumerate()
        for path, values in self.wanted.items():
            def keep(index, example, path=path, target=tf.constant(values)):
                value = feature_value(example, self.keys[path])
                if value.dtype != target.dtype:
                    value = tf.cast(value, target.dtype)
                return tf.reduce_any(tf.equal(value, target))
            ds = ds.filter(keep)
        if self.take:
            ds = ds.take(self.take)
        return ds

    def rate(self, example=None):
        """Sample rate of the audio feature, or of one example where it varies."""
        feature = feature_value(self.builder.info.features, self.keys[self.audio_key])
        if getattr(feature, "sample_rate", None):
            return int(feature.sample_rate)
        if example is not None and "sample_rate" in example:
            return int(example["sample_rate"])
        return None


def register():
    """Makes the project's builders (tfds_builders/) known to TFDS, and keeps TFDS's absl log
    chatter (deprecation notes, "Using custom data configuration") off the terminal."""
    from absl import logging

    if not os.environ.get("TFSTYLE_DEBUG"):
        logging.set_verbosity(logging.ERROR)
    importlib.import_module("tfds_builders")


def feature_value(example, keys):
    """The value at a nested feature's keys (a flat key may itself hold '/', as in gtzan)."""
    for key in keys:
        example = example[key]
    return example


def open_tfds(spec, data_dir=None):
    """Parses and checks a `tfds:` spec; every mistake is a one-line error listing the options."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise TfstyleError("tfds: specs need tensorflow-datasets (pip install "
                           "tensorflow-datasets)") from None
    register()

    body, _, query = spec[len(TFDS):].partition("?")
    name = body.strip()
    if not name:
        raise TfstyleError(f"{spec}: no dataset named; known: {', '.join(KNOWN)}")
    pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False) if query else []
    for key, value in pairs:
        if not value:
            raise TfstyleError(f"{spec}: '{key}' has no value (write FEATURE=VALUE)")
    if query and not pairs:
        raise TfstyleError(f"{spec}: cannot read the selection '{query}' (write "
                           "?split=S&FEATURE=VALUE)")
    params = dict(pairs)
    data_dir = params.pop("data_dir", None) or data_dir
    split = params.pop("split", "train")
    take = params.pop("take", None)
    if take is not None:
        if not take.isdigit() or int(take) < 1:
            raise TfstyleError(f"{spec}: take={take} must be a positive whole number")
        take = int(take)
    builder = _builder(spec, name, data_dir)
    flat = list(flat_features(builder.info.features))
    features = {path: feature for path, _, feature in flat}
    keys = {path: k for path, k, _ in flat}
    audio_paths = [path for path, f in features.items() if isinstance(f, tfds.features.Audio)]
    if not audio_paths:
        raise TfstyleError(f"{spec}: {name} has no audio feature")
    splits = list(builder.info.splits)
    if splits and split not in splits:
        raise TfstyleError(f"{spec}: {name} has no split {split!r}; its splits: "
                           f"{', '.join(splits)}")
    labels = {path: f for path, f in features.items()
              if isinstance(f, tfds.features.ClassLabel)}
    wanted = {}
    for key, value in params.items():
        path = _feature_path(spec, name, key, features)
        wanted[path] = _encode(spec, path, features[path], value.split(","), tfds)
    return TfdsSpec(spec, name, split, builder, audio_paths[0], wanted, labels, keys, take)


def _builder(spec, name, data_dir):
    import tensorflow_datasets as tfds

    base, config = split_name(name)
    try:
        return tfds.builder(name, data_dir=data_dir, try_gcs=False)
    except tfds.core.registered.DatasetNotFoundError:
        raise TfstyleError(f"{spec}: unknown dataset {base!r}; known: {', '.join(KNOWN)} (or "
                           "any TFDS catalog dataset with audio)") from None
    except (ValueError, TypeError) as e:
        # A config not in the code can still be a prepared dataset (audio_domains/NAME).
        prepared = _prepared_dir(base, config, data_dir)
        if prepared:
            return tfds.builder_from_directory(prepared)
        configs = [c.name for c in getattr(tfds.builder_cls(base), "BUILDER_CONFIGS", [])] \
            if config else []
        if configs:
            raise TfstyleError(f"{spec}: {base} has no config {config!r} here; its configs: "
                               f"{', '.join(configs)}") from None
        raise TfstyleError(f"{spec}: cannot open {name} ({_first_line(e)})") from None


def split_name(name):
    """(dataset, config or '') of a TFDS name NAME[/CONFIG][:VERSION]."""
    base, _, config = name.partition(":")[0].partition("/")
    return base, config


def _prepared_dir(base, config, data_dir):
    """The newest prepared version folder of base/config in the data dir, if any."""
    if not config:
        return None
    import tensorflow_datasets as tfds

    root = os.path.join(os.path.expanduser(data_dir or tfds.core.constants.DATA_DIR),
                        base, config)
    if not os.path.isdir(root):
        return None
    versions = [v for v in os.listdir(root)
                if os.path.isfile(os.path.join(root, v, "dataset_info.json"))]
    if not versions:
        return None
    newest = max(versions, key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()))
    return os.path.join(root, newest)


def flat_features(features, keys=()):
    """(path, keys, feature) for every leaf of a FeaturesDict; nested paths read 'a/b'."""
    import tensorflow_datasets as tfds

    for key, feature in features.items():
        if isinstance(feature, tfds.features.FeaturesDict):
            yield from flat_features(feature, keys + (key,))
        else:
            yield "/".join(keys + (key,)), keys + (key,), feature


def selectable(features):
    """The flattened features a spec can select by: labels, numbers, flags and text."""
    import tensorflow_datasets as tfds

    out = []
    for path, feature in features.items():
        if isinstance(feature, (tfds.features.ClassLabel, tfds.features.Text)) or (
                isinstance(feature, tfds.features.Tensor) and feature.shape == ()):
            out.append(path)
    return out


def _feature_path(spec, name, key, features):
    if key in features:
        return key
    matches = [path for path in features if path.split("/")[-1] == key]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise TfstyleError(f"{spec}: '{key}' is ambiguous in {name}; write one of "
                           f"{', '.join(matches)}")
    raise TfstyleError(f"{spec}: unknown feature '{key}'; {name} can be selected by "
                       f"{', '.join(selectable(features)) or 'nothing (no label features)'}; "
                       f"reserved: {', '.join(_RESERVED)}")


def _encode(spec, path, feature, values, tfds):
    """The stored form of each value: class index, number, bool or bytes."""
    if isinstance(feature, tfds.features.ClassLabel):
        names = feature.names
        unknown = [v for v in values if v not in names]
        if unknown:
            shown = ", ".join(names[:40]) + (f", ... ({len(names)} in all)"
                                             if len(names) > 40 else "")
            raise TfstyleError(f"{spec}: {path}={unknown[0]} is not one of {shown}")
        return np.array([feature.str2int(v) for v in values], np.int64)
    if isinstance(feature, tfds.features.Text):
        return np.array([v.encode() for v in values], object)
    dtype = np.dtype(getattr(feature, "np_dtype", np.float32))
    try:
        if dtype == np.bool_:
            lookup = {"true": True, "1": True, "false": False, "0": False}
            return np.array([lookup[v.lower()] for v in values], np.bool_)
        return np.array([float(v) if dtype.kind == "f" else int(v) for v in values],
                        np.float64 if dtype.kind == "f" else np.int64)
    except (ValueError, KeyError):
        raise TfstyleError(f"{spec}: {path}={','.join(values)} is not a valid "
                           f"{dtype.name} value") from None


def _first_line(error):
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0][:500]


def _how_to_prepare(name):
    base, config = split_name(name)
    known = KNOWN.get(base)
    how = known.prepare.format(name=f"{base}/{config}" if config else base) if known else \
        f"tfds build {base} on a machine with network access"
    return f"to prepare it: {how} (see docs/data.md)"


def sources(spec, sr, data_dir=None):
    """(name, float32 mono waveform at `sr`) for each selected example of a `tfds:` spec."""
    import tensorflow_datasets as tfds

    opened = spec if isinstance(spec, TfdsSpec) else open_tfds(spec, data_dir)
    base = opened.name.replace("/", "_").replace(":", "_")
    for index, example in tfds.as_numpy(opened.dataset()):
        y = np.asarray(feature_value(example, opened.keys[opened.audio_key]))
        yield f"{base}[{opened.split}][{index}]", to_float_mono(y, opened.rate(example) or sr,
                                                                 sr)


def to_float_mono(y, rate, sr):
    """A TFDS audio tensor as float32 mono at `sr` (integer PCM is rescaled to [-1, 1))."""
    if np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.float32) / 32768.0   # TFDS keeps 16-bit PCM values in integer tensors
    y = np.asarray(y, np.float32)
    if y.ndim > 1:
        y = y.mean(axis=-1)
    return audio.resample(y, rate, sr)




def prepared(name, data_dir=None):
    """The prepared configs of a dataset in the data dir ('' for a dataset without configs)."""
    import tensorflow_datasets as tfds

    root = os.path.join(os.path.expanduser(data_dir or tfds.core.constants.DATA_DIR), name)
    if not os.path.isdir(root):
        return []
    found = []
    for entry in sorted(os.listdir(root)):
        inner = os.path.join(root, entry)
        if not os.path.isdir(inner):
            continue
        if os.path.isfile(os.path.join(inner, "dataset_info.json")):
            found.append("")                                # a version folder: no configs
        elif any(os.path.isfile(os.path.join(inner, v, "dataset_info.json"))
                 for v in os.listdir(inner) if os.path.isdir(os.path.join(inner, v))):
            found.append(entry)
    return sorted(set(found))


@dataclasses.dataclass
class Summary:
    """What a `tfds:` spec selects: counts, duration, rates and label values."""

    examples: int
    seconds: float
    of: int                 # examples in the whole split (None if TFDS does not know)
    rates: dict             # sample rate -> examples
    labels: dict            # label path -> {value name: examples}


def summarize(opened, progress=False):
    """Counts what an opened spec selects without decoding audio to NumPy."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from tfstyle.progress import tqdm

    fixed_rate = opened.rate()

    def light(index, example):
        out = {"samples": tf.shape(feature_value(example, opened.keys[opened.audio_key]))[0]}
        out.update({path: feature_value(example, opened.keys[path]) for path in opened.labels})
        if not fixed_rate and "sample_rate" in example:
            out["sample_rate"] = example["sample_rate"]
        return out

    split = opened.builder.info.splits.get(opened.split) if opened.builder.info.splits else None
    total = split.num_examples if split else None
    examples, seconds, rates = 0, 0.0, {}
    labels = {path: {} for path in opened.labels}
    rows = tfds.as_numpy(opened.dataset().map(light))
    for row in tqdm(rows, total=opened.take or total, desc=opened.spec, unit="example",
                    disable=not progress, leave=False):
        rate = int(row.get("sample_rate", fixed_rate or 0))
        examples += 1
        seconds += row["samples"] / rate if rate else 0.0
        rates[rate] = rates.get(rate, 0) + 1
        for path, feature in opened.labels.items():
            value = feature.int2str(int(row[path]))
            labels[path][value] = labels[path].get(value, 0) + 1
    return Summary(examples, seconds, total, rates, labels)


def build(name, manual_dir=None, data_dir=None, rebuild=False):
    """Prepares a dataset offline; `audio_domains/NAME` makes a config NAME from `manual_dir`."""
    import tensorflow_datasets as tfds

    register()
    if manual_dir and not os.path.isdir(manual_dir):
        raise TfstyleError(f"{manual_dir}: no such folder (--manual-dir)")
    base, config = split_name(name)
    if base == "audio_domains" and config and config != "default":
        from tfds_builders.audio_domains import Config

        if not manual_dir:
            raise TfstyleError(f"{name}: give the folder of domain subfolders with --manual-dir")
        if not config.replace("_", "").replace("-", "").isalnum():
            raise TfstyleError(f"{name}: a config name may hold letters, digits, - and _ only")
        root = os.path.abspath(manual_dir)
        builder = tfds.builder_cls("audio_domains")(
            config=Config(name=config, root=root, description=f"domains from {root}"),
            data_dir=data_dir)
    else:
        builder = _builder(name, name, data_dir)
        if base not in PROJECT:
            _check_offline(name, type(builder), manual_dir)
    mode = (tfds.download.GenerateMode.REUSE_CACHE_IF_EXISTS if rebuild
            else tfds.download.GenerateMode.REUSE_DATASET_IF_EXISTS)
    try:
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            manual_dir=manual_dir, download_mode=mode))
    except TfstyleError:
        raise
    except Exception as e:   # downloads without network, missing manual files, bad archives
        raise TfstyleError(f"{name}: the build failed ({type(e).__name__}: {_first_line(e)}); "
                           f"{_how_to_prepare(name)}") from None
    return builder


def _check_offline(name, builder_cls, manual_dir):
    """Refuses a catalog build that would reach for the network: every file TFDS would download
    must already be in the manual dir, under the name in TFDS's checksums."""
    infos = builder_cls.url_infos
    if not infos:
        raise TfstyleError(f"{name}: TFDS lists no file names or checksums for this dataset, so "
                           "it cannot be built from local files; build it where there is "
                           f"network access and copy the folder (see docs/data.md)")
    wanted = {info.filename: info.size for info in infos.values()}
    if not manual_dir:
        raise TfstyleError(f"{name}: give the folder holding {', '.join(wanted)} with "
                           "--manual-dir (nothing is downloaded)")
    missing = [f"{f} ({size})" for f, size in wanted.items()
               if not os.path.isfile(os.path.join(manual_dir, f))]
    if missing:
        raise TfstyleError(f"{name}: {manual_dir} lacks {', '.join(missing)} (nothing is "
                           "downloaded; see docs/data.md for where to get them)")
    # A partial or different download is told apart by its size before TFDS hashes gigabytes.
    wrong = [f"{f} is {os.path.getsize(os.path.join(manual_dir, f))} bytes, not {int(size)}"
             for f, size in wanted.items()
             if os.path.getsize(os.path.join(manual_dir, f)) != int(size)]
    if wrong:
        raise TfstyleError(f"{name}: in {manual_dir}, {'; '.join(wrong)} (a partial or "
                           "different download; see docs/data.md for where to get it)")
