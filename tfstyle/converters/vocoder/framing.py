"""Overlap-add of frames placed every hop, by pads and adds alone: the vocoder's inverse STFTs
(`generator.ISTFTHead`, `correction.MelCorrection`) export to builtin TFLite ops with it."""
from keras import ops


def overlap_add(frames, hop, overlap):
    """[batch, frames, overlap·hop] → [batch, (frames + overlap - 1)·hop]: frames placed every
    hop and summed, by pads and adds alone (TFLite builtins)."""
    parts = ops.reshape(frames, (ops.shape(frames)[0], -1, overlap, hop))
    total = sum(ops.pad(parts[:, :, j], ((0, 0), (j, overlap - 1 - j), (0, 0)))
                for j in range(overlap))
    return ops.reshape(total, (ops.shape(frames)[0], -1))
