"""The DSP core of harmonic-plus-noise synthesis: analysis (pitch, loudness), synthesis
(harmonic oscillator bank, filtered noise, reverb) and the multi-scale spectral loss.

TensorFlow ops on float32 tensors shaped [batch, ...], differentiable where they synthesise,
usable inside `tf.function` and exported graphs. Like `tfstyle.spectral` (whose STFT they use),
nothing here imports models, training or the CLI: the decoder (`tfstyle.harmonic`) and the
transfer and converter code sit on top.
"""
from tfstyle.dsp.harmonic import harmonic_synth, upsample
from tfstyle.dsp.loudness import a_weighting, loudness
from tfstyle.dsp.noise import filtered_noise
from tfstyle.dsp.pitch import yin
from tfstyle.dsp.reverb import fft_convolve
from tfstyle.dsp.spectral_loss import multiscale_spectral_loss

__all__ = ["a_weighting", "fft_convolve", "filtered_noise", "harmonic_synth", "loudness",
           "multiscale_spectral_loss", "upsample", "yin"]
