"""Trained harmonic converters: the decoder and reverb of `tfstyle.harmonic`, trained once on
one instrument's recordings, then driven by any monophonic melody's pitch and loudness.

One file per role: `config` (settings and presets), `data` (pitch/loudness analysis of the
target domain, cached in the run, and the tf.data pipeline of training windows), `trainer`
(the keras.Model whose `cycle` is one spectral-loss step), `graph` (the analysis and the
control mapping as TensorFlow ops, for exported models), `export` (SavedModel and TFLite) and
`family` (what `tfstyle.converters` needs of a family, including the Converter).
"""
