"""Conversion of audio of any length with a trained MelGAN-VC generator, in bounded memory.

The generator sees `frames`-wide slices, as in training. Instead of the reference's bare
concatenation of slices, slices overlap by half and are crossfaded with a Hann window (which
sums to one at 50 % overlap), so no seam is a hard cut. Long audio is converted in segments of
`segment_seconds` overlapping by `overlap_seconds`, each inverted on its own and crossfaded in
the waveform, so memory does not grow with the length.
"""
import numpy as np

from tfstyle.chunking import crossfade_blocks

INVERSIONS = ("griffin-lim", "optimize")
# Seconds per segment: a segment's mel, generator output and Griffin-Lim buffers are what
# grows the peak memory (1 min of audio: 1.79 GB with 30 s segments in an earlier version,
# 1.13 GB with 10 s, 1.04 GB with 5 s, 0.99 GB with 3 s; bench/memory_vs_length.py); the 1 s
# overlaps add 20 % of work at 5 s.
SEGMENT_SECONDS = 5.0
# Slices that go through the generator together: its activations for a whole segment's slices
# at once were most of the peak memory (bench/memory_vs_length.py).
SLICE_BATCH = 8


def convert_mel(generator, mel, config):
    """Normalised mel [frames, n_mels] → converted normalised mel of the same shape.

    Only TensorFlow ops on dynamic shapes, so the same function runs eagerly and inside the
    exported SavedModel signatures.
    """
    import tensorflow as tf

    width, hop = config.frames, config.frames // 2
    mel = tf.convert_to_tensor(mel, tf.float32)
    frames = tf.shape(mel)[0]
    # Half a slice in front (so the first real frame is fully covered) and whole slices to the
    # end, repeating the edge frames rather than inventing silence.
    total = -((-(frames + 2 * hop - width)) // hop) * hop + width
    padded = tf.concat([tf.repeat(mel[:1], hop, axis=0), mel,
                        tf.repeat(mel[-1:], total - frames - hop, axis=0)], axis=0)
    slices = tf.signal.frame(padded, width, hop, axis=0)             # [n, width, n_mels]
    images = tf.transpose(slices, [0, 2, 1])[..., None]              # [n, n_mels, width, 1]
    count = tf.shape(images)[0]
    groups = -(-count // SLICE_BATCH)
    batches = tf.reshape(tf.pad(images, [[0, groups * SLICE_BATCH - count], [0, 0], [0, 0],
                                         [0, 0]]),
                         [groups, SLICE_BATCH, config.n_mels, width, 1])
    generated = tf.map_fn(lambda batch: generator(batch, training=False), batches)
    generated = tf.reshape(generated, [groups * SLICE_BATCH, config.n_mels, width, 1])[:count]
    converted = tf.transpose(generated[..., 0], [0, 2, 1])
    window = tf.signal.hann_window(width, periodic=True)[:, None]
    summed = tf.signal.overlap_and_add(tf.transpose(converted * window, [2, 0, 1]), hop)
    weight = tf.signal.overlap_and_add(
        tf.tile(tf.transpose(window)[None], [1, tf.shape(images)[0], 1]), hop)
    result = tf.transpose(summed / tf.maximum(weight, 1e-3))        # [padded frames, n_mels]
    return result[hop:hop + frames]


def convert_audio(generator, y, config, inversion="griffin-lim", gl_iters=64,
                  optimize_steps=2000, segment_seconds=SEGMENT_SECONDS, overlap_seconds=1.0,
                  seed=0, vocoder=None):
    """Waveform at config.sr → converted waveform of the same length."""
    return np.concatenate(list(convert_blocks(generator, [y], config, inversion, gl_iters,
                                              optimize_steps, segment_seconds,
                                              overlap_seconds, seed, vocoder)))


def convert_blocks(generator, blocks, config, inversion="griffin-lim", gl_iters=64,
                   optimize_steps=2000, segment_seconds=SEGMENT_SECONDS, overlap_seconds=1.0,
                   seed=0, vocoder=None):
    """Successive blocks of a waveform at config.sr → successive blocks of its conversion,
    as many samples in all: memory stays at about one segment whatever the length.
    `vocoder`: a vocoder generator (`tfstyle.converters.vocoder`) of the same mel front end,
    which turns the converted mel into sound instead of `inversion`."""
    from tfstyle.converters.melgan_vc import frontend

    if inversion not in INVERSIONS:
        raise ValueError(f"inversion must be one of {INVERSIONS}")
    def piece_fn(piece):
        length = len(piece)
        if length < config.n_fft:   # reflect padding needs a little audio
            piece = np.pad(piece, (0, config.n_fft - length))
        mel = convert_mel(generator, frontend.normalized_mel(piece, config), config)
        if vocoder is not None:
            from tfstyle.converters.vocoder.synthesis import vocode

            audio = vocode(vocoder, mel.numpy(), len(piece))
        elif inversion == "griffin-lim":
            audio = frontend.mel_to_audio(mel, config, len(piece), gl_iters, seed)
        else:
            audio = frontend.optimize_inversion(mel, config, len(piece), optimize_steps,
                                                seed=seed)
        return np.asarray(audio)[:length]

    return crossfade_blocks(blocks, int(segment_seconds * config.sr),
                            int(overlap_seconds * config.sr), piece_fn)
