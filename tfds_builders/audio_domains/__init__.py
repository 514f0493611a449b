"""audio_domains dataset."""
from .audio_domains_dataset_builder import Builder, Config, HELDOUT

__all__ = ["Builder", "Config", "HELDOUT"]
