"""The project's TensorFlow Datasets builders, one folder per dataset (TFDS's convention).

Importing this package registers them with TFDS, so `tfds.load("timbre_pairs/piano_violin")`
and `tfds:` domain specs find them; `tfds build tfds_builders/<name>` builds one from its folder.
"""
from tfds_builders import audio_domains, timbre_pairs

__all__ = ["audio_domains", "timbre_pairs"]
