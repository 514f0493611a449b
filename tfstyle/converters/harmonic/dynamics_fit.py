"""Fitting a converter's DynamicsModel on paired renderings: the same melodies played by other
instruments (the inputs) and by the converter's own (the truth), as MIDI renderings give them.
The decoder needs only the target's recordings; how the target shapes another instrument's
notes can only be learned from pairs."""
import numpy as np

from tfstyle.errors import TfstyleError
from tfstyle.harmonic import dynamics as dyn


def examples(pairs, context):
    """(features, targets, timbres) per (content, truth) Controls pair, or (content, truth,
    the truth's instrument's timbre embedding) triple: the content's features padded with
    `context` SILENCE frames either side, the truth's relative loudness, both cut to the
    shorter clip (timbres None for pairs). Pairs with fewer than 10 voiced frames on either
    side are left out (there is no level to measure)."""
    xs, ys, timbres = [], [], []
    for content, truth, *timbre in pairs:
        if content.voiced.sum() < 10 or truth.voiced.sum() < 10:
            continue
        n = min(len(content), len(truth))
        content, truth = content.slice(0, n), truth.slice(0, n)
        xs.append(dyn.pad(dyn.features(content), context, context))
        ys.append(dyn.relative(truth.loudness, dyn.level(truth.loudness, truth.voiced)))
        timbres.append(np.asarray(timbre[0], np.float32) if timbre else None)
    if not xs:
        raise TfstyleError("no pair has a melody on both sides to fit a loudness mapping on")
    return xs, ys, (None if timbres[0] is None else np.stack(timbres))


def _inputs(x, timbre):
    return x if timbre is None else {"features": x, "timbre": timbre}


def loss_of(predicted, target, weight):
    """Weighted mean absolute error of relative loudness, both floored at `dyn.FLOOR`: below
    it, silence is silence. NumPy arrays or tensors."""
    import tensorflow as tf

    error = tf.abs(tf.maximum(predicted, dyn.FLOOR) - tf.maximum(target, dyn.FLOOR))
    return tf.reduce_sum(error * weight) / tf.reduce_sum(weight)


def _whole_loss(predicted, targets):
    """`loss_of` over whole clips, every frame weighted alike."""
    targets = np.concatenate(targets)
    return float(loss_of(np.concatenate(predicted), targets,
                         np.ones(len(targets), np.float32)))


def offset_loss(pairs):
    """The loss of the untrained model (`--loudness offset`) over whole pairs: the baseline a
    fit must beat."""
    xs, ys, _ = examples(pairs, 0)
    return _whole_loss([x[:, 0] for x in xs], ys)


def mapping_loss(model, pairs):
    """`offset_loss`'s measure for a fitted model: how far it places the truth's loudness."""
    xs, ys, timbres = examples(pairs, model.receptive_field)
    return _whole_loss([np.asarray(model(_inputs(
        x[None], None if timbres is None else timbres[i:i + 1])))[0]
        for i, x in enumerate(xs)], ys)


def fit(pairs, steps=1500, batch_size=16, window_frames=256, learning_rate=1e-3, seed=0,
        log=None, **model_kwargs):
    """A DynamicsModel fitted to (content Controls, truth Controls) pairs, or (content,
    truth, timbre embedding) triples for a conditioned one (`timbre_dims` in
    `model_kwargs`), and the mean loss of its first and last 100 steps (`loss_of`).

    Each step reads `batch_size` random windows of `window_frames` frames of output (clips
    shorter than that are zero-padded, the padding unweighted)."""
    import keras
    import tensorflow as tf

    from tfstyle.harmonic.dynamics_model import DynamicsModel

    model = DynamicsModel(seed=seed, **model_kwargs)
    context = model.receptive_field
    xs, ys, timbres = examples(pairs, context)
    if (timbres is None) != (not model.timbre_dims):
        raise TfstyleError("a conditioned loudness mapping needs a timbre embedding with "
                           "every pair, an unconditioned one none")
    window = min(window_frames, max(len(y) for y in ys))
    optimizer = keras.optimizers.Adam(learning_rate)

    @tf.function(reduce_retracing=True, autograph=False)
    def step(x, timbre, y, weight):
        with tf.GradientTape() as tape:
            loss = loss_of(model(_inputs(x, timbre), training=True), y, weight)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    losses = []
    for i in range(steps):
        x = np.tile(dyn.SILENCE, (batch_size, window + 2 * context, 1))
        y = np.full((batch_size, window), dyn.FLOOR, np.float32)
        weight = np.zeros((batch_size, window), np.float32)
        rows = rng.integers(0, len(ys), batch_size)
        for row, k in enumerate(rows):
            start = int(rng.integers(0, max(len(ys[k]) - window, 0) + 1))
            n = min(window, len(ys[k]) - start)
            x[row, :n + 2 * context] = xs[k][start:start + n + 2 * context]
            y[row, :n], weight[row, :n] = ys[k][start:start + n], 1.0
        losses.append(float(step(x, None if timbres is None else timbres[rows], y, weight)))
        if log and (i + 1) % 250 == 0:
            print(f"loudness mapping: step {i + 1}/{steps}, loss {np.mean(losses[-250:]):.4f}",
                  file=log, flush=True)
    return model, float(np.mean(losses[:100])), float(np.mean(losses[-100:]))
