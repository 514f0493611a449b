"""Vocoding of any length: a normalised mel [frames, n_mels] → waveform, and audio resynthesised
through its own mel, block by block in bounded memory.

A mel longer than `BLOCK_FRAMES` is vocoded in blocks that carry the generator's receptive field
of context on each side, so each block's kept samples are what the whole mel would give; the
kept parts meet with a short linear crossfade over `FADE_FRAMES` frames of context that both
blocks computed, so even float rounding leaves no step at a join.
"""
import numpy as np

# Frames per block (a few seconds at MelGAN-VC's hop): what bounds the activations' memory.
BLOCK_FRAMES = 400
FADE_FRAMES = 2
# Segments of `resynthesise_blocks` (audio in, audio out), as MelGAN-VC's conversion cuts them.
SEGMENT_SECONDS = 5.0
OVERLAP_SECONDS = 0.5

_traced = {}


def _function(generator):
    """One traced call per generator, for any number of frames: (mel, carry, reference, step)
    → (waveform, carry) as `WaveNetISTFTVocoder.vocode_block`, which passes the carry on
    where the phase is not summed, as does the waveform head's call here."""
    import tensorflow as tf

    key = id(generator)
    if key not in _traced:
        _traced.clear()   # one generator at a time: don't hold on to old ones
        block = getattr(generator, "vocode_block", None) or (
            lambda mel, carry, reference, step: (generator.synthesise(mel), carry))
        _traced[key] = (generator, tf.function(block, autograph=False, input_signature=[
            tf.TensorSpec([None, None, generator.n_mels], tf.float32),
            tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([], tf.int32),
            tf.TensorSpec([], tf.int32)]))
    return _traced[key][1]


def vocode(generator, mel, length=None, block_frames=BLOCK_FRAMES):
    """Normalised mel [frames, n_mels] → float32 waveform [frames · hop] (or `length`)."""
    mel = np.asarray(mel, np.float32)
    frames, hop = len(mel), generator.hop_length
    call = _function(generator)
    # Blocks start on multiples of the generator's frame period (the iSTFT head's phase ramp).
    period = getattr(generator, "frame_period", 1)
    context = -(-(generator.receptive_field() + FADE_FRAMES) // period) * period
    block_frames = -(-block_frames // period) * period
    # The integrated phase (`ISTFTHead`) at each block's first kept frame, as the block before
    # computed it there (within its right context, so exactly).
    carry = np.zeros((1, getattr(generator, "bins", 1)), np.float32)
    if frames <= block_frames + 2 * context:
        audio = call(mel[None], carry, 0, 0)[0].numpy()[0]
    else:
        audio = np.zeros(frames * hop, np.float32)
        fade = FADE_FRAMES * hop
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False, dtype=np.float32)
        for start in range(0, frames, block_frames):
            stop = min(start + block_frames, frames)
            lo, hi = max(0, start - context), min(frames, stop + context)
            piece, carry = call(mel[None, lo:hi], carry, start - lo, min(stop, hi - 1) - start)
            # Only the phase's turn matters: kept small, it keeps float32's precision.
            piece, carry = piece.numpy()[0], np.mod(carry.numpy(), 2 * np.pi)
            # Kept: [start, stop), extended back over the fade into the previous block's part.
            a = (start - lo) * hop
            keep = piece[a - (fade if start else 0):(stop - lo) * hop]
            if start:
                begin = start * hop - fade
                audio[begin:begin + fade] = (audio[begin:begin + fade] * (1.0 - ramp)
                                             + keep[:fade] * ramp)
                keep = keep[fade:]
            audio[start * hop:stop * hop] = keep
    return audio if length is None else np.pad(audio, (0, max(0, length - len(audio))))[:length]


def resample_frames(mel, hop_length, target_hop, frames):
    """Mel frames [frames_in, n_mels] taken every `hop_length` samples → `frames` frames every
    `target_hop` samples, centred alike (frame t at sample t · hop), linear in time on the
    normalised (dB) scale; past the last frame, the last frame."""
    mel = np.asarray(mel, np.float32)
    if hop_length == target_hop and len(mel) == frames:
        return mel
    position = np.minimum(np.arange(frames) * (target_hop / hop_length), len(mel) - 1)
    left = np.floor(position).astype(int)
    right = np.minimum(left + 1, len(mel) - 1)
    share = (position - left)[:, None].astype(np.float32)
    return mel[left] * (1.0 - share) + mel[right] * share


def vocode_magnitude(generator, config, magnitude, n_fft, hop_length, length):
    """A linear STFT magnitude [frames, n_fft // 2 + 1] of audio at `config.sr` (any n_fft and
    hop, as an optimisation transfer produces it) → `length` samples through the vocoder: its
    mel as the vocoder's front end measures it (`frontend.magnitude_to_mel`), at the vocoder's
    frame rate."""
    from tfstyle.converters.melgan_vc.frontend import magnitude_to_mel

    mel = magnitude_to_mel(magnitude, config, n_fft).numpy()
    frames = length // config.hop_length + 1
    return vocode(generator, resample_frames(mel, hop_length, config.hop_length, frames), length)


def resynthesise(generator, y, config):
    """Waveform at config.sr → the same through its normalised mel and the vocoder."""
    from tfstyle.converters.melgan_vc.frontend import normalized_mel

    y = np.asarray(y, np.float32)
    padded = np.pad(y, (0, max(0, config.n_fft - len(y))))   # reflect padding needs audio
    return vocode(generator, normalized_mel(padded, config).numpy(), len(y))


def resynthesise_blocks(generator, blocks, config, segment_seconds=SEGMENT_SECONDS,
                        overlap_seconds=OVERLAP_SECONDS):
    """Successive blocks of a waveform → successive blocks of its resynthesis, in segments
    analysed apart (as conversion analyses them) and crossfaded."""
    from tfstyle.chunking import crossfade_blocks

    return crossfade_blocks(blocks, int(segment_seconds * config.sr),
                            int(overlap_seconds * config.sr),
                            lambda piece: resynthesise(generator, piece, config))
