"""Trained converters, one infrastructure for every model family.

Shared here: `api` (`tfstyle.fit`, `convert`, `export`), `run` (the run directory), `training`
(one loop for every family and `tf.distribute` strategy), `distribute` (strategies and
TF_CONFIG), `serving` (TF Serving layout, the WAV-bytes signature, builtin-only TFLite) and
`families` (the registry). One sub-package per family: `melgan_vc` (A → B between two domains
of unpaired audio) and `harmonic` (one instrument, learned from its recordings alone).
"""
