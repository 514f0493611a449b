"""A training run's directory: its configuration, checkpoints and TensorBoard logs.

    RUN/config.json        resolved settings, data specs, package versions (written atomically)
    RUN/checkpoints/       TF checkpoints of G, D, S, both optimizers, the schedule and the step
    RUN/tensorboard/       scalars of every loss term and audio previews at each checkpoint

TensorFlow writes a checkpoint's data files first and only then replaces the small `checkpoint`
index, so a run killed at any moment resumes from its last complete checkpoint.
"""
import json
import os
import platform
import time

from tfstyle.errors import TfstyleError
from tfstyle.melgan_vc.frontend import MelGANConfig


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
            return MelGANConfig.from_dict(saved["config"]), saved
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TfstyleError(f"{self.config_path}: unreadable run configuration ({e})") \
                from None

    def save_config(self, config, **extra):
        os.makedirs(self.path, exist_ok=True)
        record = {"config": json.loads(config.to_json()), **extra, "versions": versions(),
                  "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = self.config_path + ".partial"
        with open(tmp, "w") as f:
            json.dump(record, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.config_path)

    def checkpoint(self, generator, critic, siamese, d_optimizer=None, g_optimizer=None,
                   step=None, max_to_keep=3, directory=None):
        """(tf.train.Checkpoint, CheckpointManager) over whatever objects are given, saving
        into the run (or `directory`)."""
        import tensorflow as tf

        objects = dict(generator=generator, critic=critic, siamese=siamese,
                       d_optimizer=d_optimizer, g_optimizer=g_optimizer, step=step)
        checkpoint = tf.train.Checkpoint(**{k: v for k, v in objects.items() if v is not None})
        manager = tf.train.CheckpointManager(checkpoint, directory or self.checkpoint_dir,
                                             max_to_keep)
        return checkpoint, manager

    def latest(self):
        import tensorflow as tf

        return tf.train.latest_checkpoint(self.checkpoint_dir)

    def generator(self):
        """The trained generator of the latest checkpoint, and the run's config."""
        from tfstyle.melgan_vc.trainer import build_networks

        config, _ = self.load_config()
        latest = self.latest()
        if latest is None:
            raise TfstyleError(f"{self.path}: the run has no checkpoint yet; train it with "
                               "'tfstyle fit' first")
        generator, critic, siamese = build_networks(config)
        checkpoint, _ = self.checkpoint(generator, critic, siamese)
        checkpoint.restore(latest).expect_partial()
        return generator, config
