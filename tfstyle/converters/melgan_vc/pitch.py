"""Pitch consistency for MelGAN-VC: the output must keep the input's pitch classes.

Nothing in the reference's losses ties G(a)'s pitch to a's (TraVeL keeps differences between
slices, the identity loss only sees domain B), and a generator trained on one melody generator
drifts toward the notes common in its training set. This term compares pitch-class profiles of
input and output frame by frame, computed from the normalised mel itself (so it needs no
tracker and costs one small matmul):

    c_t = chroma of the mel magnitude at frame t, scaled to sum to one
    L_pitch = Σ_t w_t · Σ_p |c_t(a) − c_t(G(a))| / Σ_t w_t
    w_t = the input frame's loudest band on the normalised scale, mapped to [0, 1]

The weight is a level in dB, not a magnitude: frames at the input's floor count for nothing,
but a note's decay 40 dB down still counts about half as much as its attack. Weighted by
magnitude, a first run kept the pitch classes of loud frames (chroma correlation 0.93 there)
and let decays and rests drift (0.44), which was most of the error on held-out melodies.
Pitch classes, not pitches, are compared: the target instrument may weight an octave's
harmonics differently, and chroma is also what the benchmark scores.
"""
import functools

import tensorflow as tf

from tfstyle import spectral
from tfstyle.converters.melgan_vc import frontend


@functools.lru_cache(maxsize=None)
def _chroma_bank(sr, n_fft, n_mels, fmin, fmax):
    return spectral.mel_chroma_filterbank(sr, n_fft, n_mels, fmin, fmax, htk=True, norm=None)


def _matrix(config):
    return tf.constant(_chroma_bank(config.sr, config.n_fft, config.n_mels, config.fmin,
                                    config.fmax))


def profiles(mel, config):
    """Normalised mel [..., frames, n_mels] → pitch-class profiles [..., frames, 12] summing
    to one per frame."""
    magnitude = tf.sqrt(frontend.denormalize(mel, config))
    chroma = tf.matmul(magnitude, _matrix(config))
    return chroma / (tf.reduce_sum(chroma, axis=-1, keepdims=True) + 1e-12)


def pitch_consistency(a, fake, config):
    """L_pitch between generator input and output, both [batch, n_mels, frames, 1]."""
    to_frames = lambda x: tf.transpose(x[..., 0], [0, 2, 1])
    source, output = profiles(to_frames(a), config), profiles(to_frames(fake), config)
    level = tf.reduce_max(to_frames(a), axis=-1)                      # [-1, 1]: floor to top
    weight = tf.stop_gradient(tf.clip_by_value((level + 1.0) / 2.0, 0.0, 1.0))
    distance = tf.reduce_sum(tf.abs(source - output), axis=-1)
    return tf.reduce_sum(weight * distance) / (tf.reduce_sum(weight) + 1e-12)
