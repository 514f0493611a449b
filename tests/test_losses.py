"""Losses against direct NumPy definitions: Gram forms and normalisers, L2, autocorrelation, TV."""
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.optimisation import losses
from tfstyle.optimisation.losses import GramStyleLoss, content_loss, gram


def _direct(F, S):
    gf = F.T @ F / len(F)
    gs = S.T @ S / len(S)
    return np.mean((gf - gs) ** 2)


@pytest.mark.parametrize("tx,ts,c", [(20, 30, 64), (50, 10, 8), (7, 7, 100)])
def test_gram_forms_agree_with_definition(tx, ts, c):
    rng = np.random.default_rng(0)
    F = rng.random((tx, c)).astype(np.float32)
    S = rng.random((ts, c)).astype(np.float32)
    frames_form = GramStyleLoss(S, content_positions=tx)
    gram_form = GramStyleLoss(S)
    assert not gram_form.use_frames_form
    assert frames_form.use_frames_form == (tx < c)
    expected = _direct(F.astype(np.float64), S.astype(np.float64))
    assert float(gram_form(F)) == pytest.approx(expected, rel=1e-4)
    assert float(frames_form(F)) == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_normalisers_reductions_and_pooled_chunks():
    rng = np.random.default_rng(2)
    F = rng.random((12, 6)).astype(np.float64)
    S = rng.random((9, 6)).astype(np.float64)
    d = F.T @ F / 12 - S.T @ S / 9
    c = 6
    cases = {("frames", "mean"): np.mean(d ** 2), ("frames", "sum"): np.sum(d ** 2),
             ("frames_channels", "sum"): np.sum((d / c) ** 2),
             ("gatys", "sum"): np.sum(d ** 2) / (4 * c * c)}
    for (norm, reduction), expected in cases.items():
        value = GramStyleLoss(S.astype(np.float32), norm=norm, reduction=reduction)(F)
        assert float(value) == pytest.approx(expected, rel=1e-4), (norm, reduction)
    # Gatys' own form: unnormalised Grams, ÷ 4 N² M², when the lengths match.
    S12 = rng.random((12, 6))
    gatys = np.sum((F.T @ F - S12.T @ S12) ** 2) / (4 * c * c * 12 * 12)
    assert float(GramStyleLoss(S12.astype(np.float32), norm="gatys")(F)) == \
        pytest.approx(gatys, rel=1e-4)
    # A style given in chunks pools to the Gram of the whole.
    pooled = GramStyleLoss([S[:4].astype(np.float32), S[4:].astype(np.float32)])
    assert float(pooled(F)) == pytest.approx(np.mean(d ** 2), rel=1e-4)


@pytest.mark.parametrize("positions", [(10, 7), (6, 4, 5)])
def test_a_style_in_chunks_takes_the_frames_form_and_pools_exactly(positions):
    """A long style clip's chunks (2-D maps too, [height, frames, C]) in the frames form:
    loss and gradient equal to the direct Gram of the whole, in float64."""
    rng = np.random.default_rng(3)
    c = 96
    shape = (3,) if len(positions) == 3 else ()
    chunks = [rng.random(shape + (m, c)).astype(np.float32) for m in positions]
    F = tf.Variable(rng.random(shape + (8, c)).astype(np.float32))
    flat = [x.reshape(-1, c).astype(np.float64) for x in chunks]
    whole = np.concatenate(flat)
    f = F.numpy().reshape(-1, c).astype(np.float64)
    d = f.T @ f / len(f) - whole.T @ whole / len(whole)
    frames = GramStyleLoss(chunks, content_positions=len(f))
    gram_form = GramStyleLoss(chunks)
    assert frames.use_frames_form and not gram_form.use_frames_form
    assert float(frames(F)) == pytest.approx(np.mean(d ** 2), rel=1e-4)
    grads = []
    for loss in (frames, gram_form):
        with tf.GradientTape() as tape:
            value = loss(F)
        grads.append(tape.gradient(value, F).numpy())
    # d/dF of mean((FᵀF/M − G)²) = 4·F·D / (M·C²), D the difference of the Grams.
    want = (4.0 * f @ d / (len(f) * c * c)).reshape(F.shape)
    for got in grads:
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_the_cheaper_form_is_chosen_by_multiply_adds():
    from tfstyle.optimisation.losses import frames_form_is_cheaper

    assert frames_form_is_cheaper(215, 215, 4096)          # the default's 5 s clips
    assert frames_form_is_cheaper(215, 2 * 1024, 4096)     # a long style in chunks
    assert not frames_form_is_cheaper(128 * 216, 128 * 216, 64)   # VGG's first layer
    assert frames_form_is_cheaper(8 * 13, 8 * 13, 512)     # and its fifth block


def test_frames_form_gradient_matches_gram_form():
    rng = np.random.default_rng(1)
    F = tf.Variable(rng.random((16, 128)).astype(np.float32))
    S = rng.random((24, 128)).astype(np.float32)
    grads = []
    for loss in (GramStyleLoss(S, content_positions=16), GramStyleLoss(S)):
        with tf.GradientTape() as tape:
            value = loss(F)
        grads.append(tape.gradient(value, F).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-3, atol=1e-7)


def test_gram_and_content_loss_basics():
    F = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    np.testing.assert_allclose(gram(F), [[5.0, 7.0], [7.0, 10.0]])
    assert float(content_loss(F, F + 1.0)) == pytest.approx(1.0)
    assert float(content_loss(F, F + 1.0, "sum")) == pytest.approx(4.0)
    assert float(GramStyleLoss(F)(F)) == pytest.approx(0.0, abs=1e-6)
    # 2-D maps flatten all positions.
    image = np.random.default_rng(3).random((3, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(gram(image), gram(image.reshape(15, 4)), rtol=1e-6)


def test_autocorrelation_matches_numpy():
    x = np.random.default_rng(4).standard_normal((7, 5)).astype(np.float32)
    rows = losses.autocorrelation(x, axis=0).numpy()       # along time, per channel
    cols = losses.autocorrelation(x, axis=-1).numpy()      # along channels, per frame
    assert rows.shape == (13, 5) and cols.shape == (7, 9)
    for ch in range(5):
        np.testing.assert_allclose(rows[:, ch], np.correlate(x[:, ch], x[:, ch], "full"),
                                   atol=1e-4)
    for t in range(7):
        np.testing.assert_allclose(cols[t], np.correlate(x[t], x[t], "full"), atol=1e-4)


def test_autocorrelation_loss_matches_numpy():
    rng = np.random.default_rng(5)
    x, s = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    for axis, np_axis in ((-2, 0), (-1, 1)):
        ac = lambda a: np.apply_along_axis(lambda v: np.correlate(v, v, "full"), np_axis, a)
        expected = np.sum((ac(x) - ac(s)) ** 2) / x.size
        got = losses.autocorrelation_loss(x.astype(np.float32), s.astype(np.float32), axis)
        assert float(got) == pytest.approx(expected, rel=1e-4)


def test_l2_style_aligns_lengths_and_tv():
    f = np.ones((5, 3), np.float32)
    s = np.arange(6, dtype=np.float32).reshape(2, 3)
    aligned = losses.align_frames(s, 5).numpy()
    np.testing.assert_array_equal(aligned, np.concatenate([s, s, s[:1]]))
    assert float(losses.l2_style_loss(f, s)) == pytest.approx(np.mean((f - aligned) ** 2))
    ramp = np.tile(np.arange(4, dtype=np.float32)[:, None], (1, 3))
    assert float(losses.total_variation(ramp)) == pytest.approx(3 * 2 * 1.0, rel=1e-4)
