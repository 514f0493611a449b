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
    return np.concatenate(list(crossfade_blocks([y], segment, overlap, fn)))


def crossfade_blocks(blocks, segment, overlap, fn):
    """`crossfade_map` of a signal given as successive blocks, yielding the result in blocks:
    memory stays at about one piece, whatever the length.

    Pieces start every `segment - overlap` samples; each one fades in over its first `overlap`
    samples (except the first) and out over its last (except the last), and the faded pieces
    are summed and divided by the summed fades.
    """
    if overlap * 2 > segment:
        raise ValueError(f"overlap ({overlap}) must be at most half the segment ({segment})")
    blocks = iter(blocks)
    buffer, exhausted, carried = np.zeros(0, np.float32), False, None
    while True:
        # One sample past the piece tells whether another piece follows.
        while not exhausted and len(buffer) <= segment:
            block = next(blocks, None)
            if block is None:
                exhausted = True
            else:
                buffer = np.concatenate([buffer, np.asarray(block, np.float32)])
        last = exhausted and len(buffer) <= segment
        n = min(segment, len(buffer))
        piece = np.asarray(fn(buffer[:n]), np.float32)
        piece = np.pad(piece, (0, max(0, n - len(piece))))[:n]
        ramp = np.ones(n, np.float32)
        if carried is not None:
            ramp[:overlap] = np.linspace(0, 1, overlap, dtype=np.float32)
        if not last and overlap:
            ramp[-overlap:] = np.minimum(ramp[-overlap:], np.linspace(1, 0, overlap,
                                                                      dtype=np.float32))
        values, weights = ramp * piece, ramp
        if carried is not None:
            values[:overlap] += carried[0]
            weights[:overlap] += carried[1]
        if last:
            yield values / np.maximum(weights, 1e-6)
            return
        keep = n - overlap
        yield values[:keep] / np.maximum(weights[:keep], 1e-6)
        carried = values[keep:], weights[keep:]
        buffer = buffer[keep:]
