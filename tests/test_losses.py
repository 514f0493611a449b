"""Gram style loss: both algebraic forms equal the direct definition."""
import numpy as np
import pytest
import tensorflow as tf

from tfstyle.losses import GramStyleLoss, content_loss, gram


def _direct(F, S):
    gf = F.T @ F / len(F)
    gs = S.T @ S / len(S)
    return np.mean((gf - gs) ** 2)


@pytest.mark.parametrize("tx,ts,c", [(20, 30, 64), (50, 10, 8), (7, 7, 100)])
def test_gram_forms_agree_with_definition(tx, ts, c):
    rng = np.random.default_rng(0)
    F = rng.random((tx, c)).astype(np.float32)
    S = rng.random((ts, c)).astype(np.float32)
    frames_form = GramStyleLoss(S, content_frames=tx)
    gram_form = GramStyleLoss(S)
    assert not gram_form.use_frames_form
    assert frames_form.use_frames_form == (tx < c)
    expected = _direct(F.astype(np.float64), S.astype(np.float64))
    assert float(gram_form(F)) == pytest.approx(expected, rel=1e-4)
    assert float(frames_form(F)) == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_frames_form_gradient_matches_gram_form():
    rng = np.random.default_rng(1)
    F = tf.Variable(rng.random((16, 128)).astype(np.float32))
    S = rng.random((24, 128)).astype(np.float32)
    grads = []
    for loss in (GramStyleLoss(S, content_frames=16), GramStyleLoss(S)):
        with tf.GradientTape() as tape:
            value = loss(F)
        grads.append(tape.gradient(value, F).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-3, atol=1e-7)


def test_gram_and_content_loss_basics():
    F = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    np.testing.assert_allclose(gram(F), [[5.0, 7.0], [7.0, 10.0]])
    assert float(content_loss(F, F + 1.0)) == pytest.approx(1.0)
    assert float(GramStyleLoss(F)(F)) == pytest.approx(0.0, abs=1e-6)
