"""Harmonic-plus-noise timbre transfer (after DDSP, Engel et al. 2020), in TF/Keras.

The content's pitch and loudness drive a synthesiser whose timbre is learned from the style:

- `controls`: per-frame f0, periodicity and loudness of a clip (the DSP core's YIN and
  A-weighted loudness), voicing, and the mapping of one clip's pitch and loudness into
  another's range;
- `decoder`: `HarmonicDecoder`, a small Keras model from scaled f0 and loudness to an overall
  amplitude, a harmonic distribution and noise magnitudes;
- `synthesizer`: decoder outputs → audio (harmonic bank + filtered noise + learned reverb),
  differentiable for fitting and block by block, in bounded memory, for long signals;
- `one_shot`: `tfstyle transfer --method harmonic`: fit on the style clip(s), render the
  content.
"""
