"""MelGAN-VC (Pasini 2019): unpaired A→B conversion of mel spectrograms.

One file per role: `frontend` (the normalised-mel recipe and presets), `spectral_norm`,
`generator`, `siamese`, `critic` (the networks), `trainer` (the `keras.Model`: one schedule
`cycle`, and Keras' `train_step`), `data` (tf.data pipelines from folders, lists or TFDS), `run`
(run directory: config, checkpoints, resume), `distribute` (tf.distribute strategies and
TF_CONFIG), `training` (the loop, the same under every strategy), `api` (`tfstyle.fit` and
`tfstyle.convert`), `convert` (any-length conversion with crossfaded chunks) and `export`.
"""
