"""timbre_pairs dataset."""
from .timbre_pairs_dataset_builder import Builder, Config, INSTRUMENTS, melodies

__all__ = ["Builder", "Config", "INSTRUMENTS", "melodies"]
