"""MelGAN-VC (Pasini 2019): unpaired A→B conversion of mel spectrograms.

One file per role: `frontend` (the normalised-mel recipe and presets), `spectral_norm`,
`generator`, `siamese`, `critic` (the networks), `trainer` (the `keras.Model` with the custom
`train_step`), `data` (tf.data pipelines from folders, lists or TFDS), `run` (run directory:
config, checkpoints, resume) and `convert` (any-length conversion with crossfaded chunks).
"""
