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
        log=None, checkpoint_dir=None, checkpoint_every=250, **model_kwargs):
    """A DynamicsModel fitted to (content Controls, truth Controls) pairs, or (content,
    truth, timbre embedding) triples for a conditioned one (`timbre_dims` in
    `model_kwargs`), and the mean loss of its first and last 100 steps (`loss_of`).

    Each step reads `batch_size` random windows of `window_frames` frames of output (clips
    shorter than that are zero-padded, the padding unweighted). With `checkpoint_dir`, the
    weights, the optimizer, the window sampler's state and the losses so far are saved there
    every `checkpoint_every` steps, and a fit started again with the same arguments resumes
    from the last save: it ends exactly as one that was never stopped."""
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
    saver = _Saver(checkpoint_dir, model, optimizer) if checkpoint_dir else None
    done = saver.restore(rng, losses) if saver else 0
    for i in range(done, steps):
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
        if saver and ((i + 1) % checkpoint_every == 0 or i + 1 == steps):
            saver.save(i + 1, rng, losses)
    return model, float(np.mean(losses[:100])), float(np.mean(losses[-100:]))


class _Saver:
    """A fit's checkpoints: TensorFlow's for the model and optimizer, and beside each a JSON
    file with the sampler's state and the losses, written after it (a checkpoint without
    its JSON is one that was cut short, and is not resumed from)."""

    def __init__(self, folder, model, optimizer):
        import tensorflow as tf

        self.folder = folder
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
        self.manager = tf.train.CheckpointManager(self.checkpoint, folder, max_to_keep=2)

    def _state_path(self, step):
        import os

        return os.path.join(self.folder, f"state-{step}.json")

    def restore(self, rng, losses):
        """The step resumed from (0: none), with `rng` and `losses` set to its state."""
        import json
        import os

        for path in reversed(self.manager.checkpoints):
            step = int(path.rsplit("-", 1)[1])
            if os.path.exists(self._state_path(step)):
                self.checkpoint.restore(path).assert_existing_objects_matched()
                with open(self._state_path(step)) as f:
                    state = json.load(f)
                rng.bit_generator.state = state["rng"]
                losses[:] = state["losses"]
                return step
        return 0

    def save(self, step, rng, losses):
        import json
        import os

        self.manager.save(checkpoint_number=step)
        tmp = self._state_path(step) + ".partial"
        with open(tmp, "w") as f:
            json.dump({"rng": rng.bit_generator.state, "losses": losses}, f)
        os.replace(tmp, self._state_path(step))
        # The states of the checkpoints the manager let go.
        kept = {os.path.basename(self._state_path(int(p.rsplit("-", 1)[1])))
                for p in self.manager.checkpoints}
        for name in os.listdir(self.folder):
            if name.startswith("state-") and name.endswith(".json") and name not in kept:
                os.remove(os.path.join(self.folder, name))
