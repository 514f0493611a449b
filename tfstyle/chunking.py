"""Process long signals in overlapping pieces joined by linear crossfades (NumPy only).

Shared by `tfstyle convert`, the serving clients and the on-device runner in `export/`, which
must not need TensorFlow.
"""
import numpy as np


def crossfade_map(y, segment, overlap, fn):
    """Applies fn to pieces of y of `segment` samples overlapping by `overlap`, crossfaded.

    fn(piece) must return an array of the piece's length (longer is cut, shorter padded).
    Memory stays at one piece plus the output, whatever the length of y.
    """
    if overlap * 2 > segment:
        raise ValueError(f"overlap ({overlap}) must be at most half the segment ({segment})")
    out = np.zeros(len(y), np.float32)
    weight = np.zeros(len(y), np.float32)
    start = 0
    while True:
        stop = min(start + segment, len(y))
        piece = np.asarray(fn(y[start:stop]), np.float32)
        piece = np.pad(piece, (0, max(0, stop - start - len(piece))))[: stop - start]
        ramp = np.ones(stop - start, np.float32)
        if start > 0:
            ramp[:overlap] = np.linspace(0, 1, overlap, dtype=np.float32)
        if stop < len(y):
            ramp[-overlap:] = np.minimum(ramp[-overlap:], np.linspace(1, 0, overlap,
                                                                      dtype=np.float32))
        out[start:stop] += ramp * piece
        weight[start:stop] += ramp
        if stop >= len(y):
            return out / np.maximum(weight, 1e-6)
        start = stop - overlap
