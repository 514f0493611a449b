"""Fitting a converter's DynamicsModel on paired renderings: the same melodies played by other
instruments (the inputs) and by the converter's own (the truth), as MIDI renderings give them.
The decoder needs only the target's recordings; how the target shapes another instrument's
notes can only be learned from pairs. `fit` learns the truth's contour; `refine` then trains a
fitted mapping on the sound the decoder makes of it."""
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


def check_pairs(pairs, conditioned):
    """A one-line error for pairs a mapping cannot be fitted on: a conditioned mapping's
    without a timbre embedding (or the reverse), or none with a melody on both sides."""
    if any((len(pair) == 3) != conditioned for pair in pairs):
        raise TfstyleError("a conditioned loudness mapping needs a timbre embedding with "
                           "every pair, an unconditioned one none")
    if not any(c.voiced.sum() >= 10 and t.voiced.sum() >= 10 for c, t, *_ in pairs):
        raise TfstyleError("no pair has a melody on both sides to fit a loudness mapping on")


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
    check_pairs(pairs, bool(model.timbre_dims))
    context = model.receptive_field
    xs, ys, timbres = examples(pairs, context)
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

    def restore(self, rng, losses, *more_rngs):
        """The step resumed from (0: none), with `rng` (and `more_rngs`) and `losses` set to
        its state."""
        import json
        import os

        for path in reversed(self.manager.checkpoints):
            step = int(path.rsplit("-", 1)[1])
            if os.path.exists(self._state_path(step)):
                self.checkpoint.restore(path).assert_existing_objects_matched()
                with open(self._state_path(step)) as f:
                    state = json.load(f)
                rng.bit_generator.state = state["rng"]
                for other, saved in zip(more_rngs, state.get("more_rngs", [])):
                    other.bit_generator.state = saved
                losses[:] = state["losses"]
                return step
        return 0

    def save(self, step, rng, losses, *more_rngs):
        import json
        import os

        self.manager.save(checkpoint_number=step)
        tmp = self._state_path(step) + ".partial"
        with open(tmp, "w") as f:
            json.dump({"rng": rng.bit_generator.state, "losses": losses,
                       "more_rngs": [r.bit_generator.state for r in more_rngs]}, f)
        os.replace(tmp, self._state_path(step))
        # The states of the checkpoints the manager let go.
        kept = {os.path.basename(self._state_path(int(p.rsplit("-", 1)[1])))
                for p in self.manager.checkpoints}
        for name in os.listdir(self.folder):
            if name.startswith("state-") and name.endswith(".json") and name not in kept:
                os.remove(os.path.join(self.folder, name))


# --- Refinement through the decoder ------------------------------------------------------
# `fit` places the truth's contour frame by frame, every frame alike; what a listener (and the
# benchmarks' mel distance) hears is the decoder playing that contour. Fitted on three times
# the melodies, the prior's mapping came nearer the truth's contour (5.37 -> 4.71 dB) and
# further from the truth's sound (0.661x -> 0.675x identity on the development set): a
# note's end a few frames early can cost little contour error and much of the mel distance.
# `refine` trains a fitted mapping on that distance itself.

def performance_example(content, truth, timbre=None, frames=None):
    """One (content, truth[, timbre]) pair as `refine` plays it, or None where either side
    has fewer than 10 voiced frames: the content moved by whole octaves onto the truth's
    register (as `--transpose auto` moves it onto the style's), its features for the mapping,
    its pitch, voicing and gate for the decoder, and the truth's loudness and level; padded
    to `frames` (default: the shorter clip's length; longer clips are cut)."""
    import dataclasses

    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic import performance as perf

    if content.voiced.sum() < 10 or truth.voiced.sum() < 10:
        return None
    n = min(len(content), len(truth), frames or len(content))
    frames = frames or n
    content, truth = content.slice(0, n), truth.slice(0, n)
    both = content.voiced & truth.voiced
    shift = 0.0
    if both.sum() >= 5:
        shift = 12.0 * round(float(np.median(ctl.hz_to_midi(truth.f0[both])
                                             - ctl.hz_to_midi(content.f0[both]))) / 12.0)
    moved = dataclasses.replace(content, f0=(content.f0 * 2.0 ** (shift / 12.0)).astype(
        np.float32))

    def padded(a, value=0.0):
        return np.concatenate([a, np.full(frames - n, value)]).astype(np.float32)

    out = {"features": dyn.features(moved), "pad": frames - n,
           "level": np.float32(dyn.level(truth.loudness, truth.voiced)),
           "f0": padded(moved.f0, 440.0),
           "truth": padded(truth.loudness, -100.0),
           "voiced": padded(content.voiced), "gate": padded(perf.gate(content))}
    if timbre is not None:
        out["timbre"] = np.asarray(timbre, np.float32)
    return out


def _batch(rows, context):
    batch = {k: np.stack([r[k] for r in rows]) for k in rows[0]
             if k not in ("features", "pad")}
    batch["features"] = np.stack([dyn.pad(r["features"], context, context + r["pad"])
                                  for r in rows])
    return batch


def refine(model, decoder, synth, pairs, steps, held=None, frames=344, batch_size=8,
           learning_rate=1e-4, seed=0, eval_rows=96, log=None, checkpoint_dir=None,
           checkpoint_every=250):
    """A fitted DynamicsModel trained on through a frozen decoder and synthesiser on the
    benchmarks' log-mel distance (`spectral_loss.log_mel_distance`): each (content, truth
    [, timbre]) pair of `pairs` (as `fit` takes them) is played twice by the decoder, at the
    content's pitch, voicing and gate, once with the truth's loudness (the aim) and once with
    the mapping's (`performance_example`); `frames` per row (4 s at hop 256: whole clips,
    so that each row's distance is the metric's over a clip).

    Returns the model (trained in place) and its record: the mean loss (dB) of the first and
    last 100 steps, and the distance before and after on `eval_rows` pairs drawn from
    `held` (where given) and from `pairs`. Resumable as `fit` is, from `checkpoint_dir`."""
    import keras
    import tensorflow as tf

    from tfstyle.converters.harmonic.graph import decode
    from tfstyle.dsp.spectral_loss import log_mel_distance

    context, hop = model.receptive_field, synth.hop_length
    conditioned = bool(model.timbre_dims)
    check_pairs(list(pairs) + list(held or []), conditioned)
    rng, noise_rng = np.random.default_rng(seed), np.random.default_rng(seed + 1)

    def drawn(source, count):
        rows = [performance_example(*source[int(i)], frames=frames)
                for i in rng.choice(len(source), min(count, len(source)), replace=False)]
        return [r for r in rows if r is not None]

    scored = {"held out": drawn(held, eval_rows)} if held else {}
    scored["training"] = drawn(pairs, eval_rows)
    eval_noise = noise_rng.uniform(-1.0, 1.0, (16, frames * hop)).astype(np.float32)

    def play(batch, loudness, noise):
        outputs = decode(decoder, batch["f0"], loudness,
                         tf.zeros([tf.shape(loudness)[0], decoder.gru_units]),
                         batch["timbre"] if conditioned else None)
        return synth(outputs, batch["f0"], batch["voiced"], batch["gate"],
                     noise=noise)[:, :frames * hop]

    def loss_of_batch(batch, noise, training):
        features = batch["features"]
        relative = model({"features": features, "timbre": batch["timbre"]} if conditioned
                         else features, training=training)
        aim = tf.stop_gradient(play(batch, batch["truth"], noise))
        return log_mel_distance(aim, play(batch, batch["level"][:, None]
                                          + dyn.DB_SCALE * relative, noise), synth.sr)

    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(model.trainable_variables)

    @tf.function(reduce_retracing=True, autograph=False)
    def step(batch, noise):
        with tf.GradientTape() as tape:
            loss = loss_of_batch(batch, noise, True)
        grads, _ = tf.clip_by_global_norm(tape.gradient(loss, model.trainable_variables), 1.0)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    evaluate = tf.function(lambda batch, noise: loss_of_batch(batch, noise, False),
                           reduce_retracing=True, autograph=False)

    def score(rows):
        return float(np.mean([evaluate(_batch(rows[i:i + 16], context),
                                       eval_noise[:len(rows[i:i + 16])])
                              for i in range(0, len(rows), 16)]))

    losses = []
    saver = _Saver(checkpoint_dir, model, optimizer) if checkpoint_dir else None
    record = {"steps": steps, "frames": frames, "batch_size": batch_size,
              "learning_rate": learning_rate, "pairs": len(pairs)}
    record.update({f"{title} before": score(rows) for title, rows in scored.items()})
    done = saver.restore(rng, losses, noise_rng) if saver else 0
    for i in range(done, steps):
        rows = []
        while len(rows) < batch_size:
            row = performance_example(*pairs[int(rng.integers(len(pairs)))], frames=frames)
            if row is not None:
                rows.append(row)
        noise = noise_rng.uniform(-1.0, 1.0, (batch_size, frames * hop)).astype(np.float32)
        losses.append(float(step(_batch(rows, context), noise)))
        if log and (i + 1) % 50 == 0:
            print(f"loudness mapping through the decoder: step {i + 1}/{steps}, log-mel "
                  f"distance {np.mean(losses[-50:]):.3f} dB", file=log, flush=True)
        if saver and ((i + 1) % checkpoint_every == 0 or i + 1 == steps):
            saver.save(i + 1, rng, losses, noise_rng)
    record.update({f"{title} after": score(rows) for title, rows in scored.items()})
    record.update(first_loss=float(np.mean(losses[:100])) if losses else None,
                  last_loss=float(np.mean(losses[-100:])) if losses else None)
    return model, record
