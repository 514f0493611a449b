"""A training run's directory, the same for every converter family.

    RUN/config.json        model family, resolved settings, data specs, package versions
                           (written atomically)
    RUN/checkpoints/       TF checkpoints of the family's networks, optimizers and the step
    RUN/tensorboard/       scalars of every loss term and audio previews at each checkpoint
    RUN/cache/             what a family computes once from the data (e.g. pitch analysis)

TensorFlow writes a checkpoint's data files first and only then replaces the small `checkpoint`
index, so a run killed at any moment resumes from its last complete checkpoint.
"""
import json
import os
import platform
import time

from tfstyle.converters import families
from tfstyle.errors import TfstyleError


def versions():
    import importlib.metadata as md

    found = {"python": platform.python_version()}
    for package in ("tfstyle", "tensorflow", "keras", "numpy", "librosa", "soundfile"):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return found


class Run:
    def __init__(self, path):
        self.path = path
        self.config_path = os.path.join(path, "config.json")
        self.checkpoint_dir = os.path.join(path, "checkpoints")
        self.log_dir = os.path.join(path, "tensorboard")
        self.cache_dir = os.path.join(path, "cache")

    def exists(self):
        return os.path.exists(self.config_path)

    def load_config(self):
        if not os.path.isdir(self.path):
            raise TfstyleError(f"{self.path}: no such run directory")
        if not self.exists():
            raise TfstyleError(f"{self.path}: not a tfstyle run directory (no config.json); "
                               "create one with 'tfstyle fit'")
        try:
            with open(self.config_path) as f:
                saved = json.load(f)
            # Runs from before there were two families are MelGAN-VC runs.
            family = families.get(saved.setdefault("family", "melgan-vc"))
            return family.Config.from_dict(saved["config"]), saved
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TfstyleError(f"{self.config_path}: unreadable run configuration ({e})") \
                from None

    def save_config(self, config, family, **extra):
        os.makedirs(self.path, exist_ok=True)
        record = {"family": family, "config": json.loads(config.to_json()), **extra,
                  "versions": versions(),
                  "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = self.config_path + ".partial"
        with open(tmp, "w") as f:
            json.dump(record, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.config_path)

    def checkpoint(self, objects, max_to_keep=3, directory=None):
        """(tf.train.Checkpoint, CheckpointManager) over the named objects that are not None,
        saving into the run (or `directory`)."""
        import tensorflow as tf

        checkpoint = tf.train.Checkpoint(**{k: v for k, v in objects.items() if v is not None})
        manager = tf.train.CheckpointManager(checkpoint, directory or self.checkpoint_dir,
                                             max_to_keep)
        return checkpoint, manager

    def latest(self):
        import tensorflow as tf

        return tf.train.latest_checkpoint(self.checkpoint_dir)

    def latest_step(self):
        """The step of the latest checkpoint (0 when there is none)."""
        latest = self.latest()
        return int(os.path.basename(latest).rsplit("-", 1)[-1]) if latest else 0

    def restore(self, objects):
        """Restores the named objects from the latest checkpoint (others in it are ignored)."""
        latest = self.latest()
        if latest is None:
            raise TfstyleError(f"{self.path}: the run has no checkpoint yet; train it with "
                               "'tfstyle fit' first")
        checkpoint, _ = self.checkpoint(objects)
        checkpoint.restore(latest).expect_partial()
        return self.latest_step()
