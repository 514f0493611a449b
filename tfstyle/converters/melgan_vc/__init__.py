"""MelGAN-VC (Pasini 2019): unpaired A→B conversion of mel spectrograms.

One file per role: `frontend` (the normalised-mel recipe, settings and presets),
`spectral_norm`, `generator`, `siamese`, `critic` (the networks), `trainer` (the `keras.Model`:
one schedule `cycle`, and Keras' `train_step`), `data` (the tf.data pipeline of critic crops),
`convert` (any-length conversion with crossfaded slices and segments), `export` (SavedModel
and TFLite) and `family` (what `tfstyle.converters` needs of a family). The run directory,
the training loop, the strategies and the entry points are shared with the other family in
`tfstyle.converters`.
"""
