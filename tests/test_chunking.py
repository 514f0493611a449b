"""Crossfaded processing of long signals in pieces, in one array or streamed in blocks."""
import numpy as np
import pytest

from tfstyle.chunking import crossfade_blocks, crossfade_map


def reference(y, segment, overlap, fn):
    """The definition: pieces every segment - overlap samples, linear fades where two pieces
    meet, the sum of faded pieces divided by the sum of the fades."""
    out, weight, start = np.zeros(len(y)), np.zeros(len(y)), 0
    while True:
        stop = min(start + segment, len(y))
        ramp = np.ones(stop - start)
        if start > 0:
            ramp[:overlap] = np.linspace(0, 1, overlap)
        if stop < len(y):
            ramp[-overlap:] = np.minimum(ramp[-overlap:], np.linspace(1, 0, overlap))
        out[start:stop] += ramp * fn(y[start:stop])
        weight[start:stop] += ramp
        if stop >= len(y):
            return out / np.maximum(weight, 1e-6)
        start = stop - overlap


def piecewise(piece):
    # Depends on the whole piece, so a piece cut in the wrong place shows.
    return piece[::-1] * (1.0 + (np.mean(piece) if len(piece) else 0.0))


@pytest.mark.parametrize("length", [0, 5, 100, 101, 257, 1000])
def test_streamed_blocks_equal_one_array_and_the_definition(length):
    y = np.random.default_rng(length).standard_normal(length).astype(np.float32)
    expected = reference(y, 100, 20, piecewise)
    np.testing.assert_allclose(crossfade_map(y, 100, 20, piecewise), expected, atol=1e-5)
    for sizes in ([7], [1, 99, 3], [400]):
        cuts = np.cumsum(np.resize(sizes, length + 1))
        blocks = np.split(y, cuts[cuts < length])
        out = list(crossfade_blocks(iter(blocks), 100, 20, piecewise))
        np.testing.assert_allclose(np.concatenate(out), expected, atol=1e-5)
        # Output comes as input arrives: never more than a piece behind.
        assert max(len(o) for o in out) <= 100


def test_overlap_must_fit_twice_in_a_segment():
    with pytest.raises(ValueError, match="at most half"):
        list(crossfade_blocks([np.zeros(10)], 10, 6, piecewise))
