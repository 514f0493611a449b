"""The training loop around `MelGANVC.fit`: resume, checkpoints, TensorBoard, budget, progress.

`fit` runs one long epoch. Steps are counted in batches, as the reference counts them; one
`train_step` consumes a schedule cycle of `joint_every` batches. A callback counts steps, logs the loss terms (mean over the last
`log_every` steps), saves a checkpoint with audio previews every `checkpoint_every` steps and
stops at the step or time budget, saving once more on the way out.
"""
import sys
import time

import keras
import tensorflow as tf

from tfstyle.melgan_vc import convert, data, frontend
from tfstyle.melgan_vc.trainer import MelGANVC, build_networks

PREVIEW_SECONDS = 4.0
UNLIMITED = 10 ** 12   # the step target of a run bounded only by time


def build(config, strategy=None):
    """The compiled training model, under `strategy` (default: the current one)."""
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        generator, critic, siamese = build_networks(config)
        model = MelGANVC(generator, critic, siamese, config)
        adam = lambda: keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1)
        model.compile(d_optimizer=adam(), g_optimizer=adam())
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    return model, step


class _Loop(keras.callbacks.Callback):
    def __init__(self, run_dir, manager, step, total_steps, deadline, checkpoint_every,
                 log_every, previews, config, progress):
        super().__init__()
        self.manager, self.step, self.total, self.deadline = manager, step, total_steps, deadline
        self.checkpoint_every, self.log_every = checkpoint_every, log_every
        self.previews, self.config = previews, config
        self.writer = tf.summary.create_file_writer(run_dir.log_dir)
        from tqdm.auto import tqdm

        start = int(step.numpy())
        interval = 0.5 if sys.stderr.isatty() else 15.0
        # Without a step target (a time budget only) the bar counts without an ETA.
        self.bar = tqdm(total=None if total_steps >= UNLIMITED else total_steps, initial=start,
                        desc="training", unit="step",
                        disable=not progress, mininterval=interval, dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        before = int(self.step.numpy())
        step = int(self.step.assign_add(self.config.joint_every).numpy())
        self.bar.update(step - before)
        if step // self.log_every > before // self.log_every:
            # Generator terms exist only on joint steps: report only terms seen since last log.
            shown = {m.name: float(m.result()) for m in self.model.metrics
                     if float(m.count.numpy()) > 0}
            self.bar.set_postfix({k: f"{v:.3g}" for k, v in shown.items()
                                  if k in ("d_loss", "g_adv", "identity", "travel")},
                                 refresh=False)
            with self.writer.as_default(step=step):
                for name, value in shown.items():
                    tf.summary.scalar(f"loss/{name}", value)
            for metric in self.model.metrics:
                metric.reset_state()
        out_of_time = self.deadline is not None and time.time() >= self.deadline
        due = step // self.checkpoint_every > before // self.checkpoint_every
        if due or step >= self.total or out_of_time:
            self.save(step)
        if step >= self.total or out_of_time:
            self.model.stop_training = True

    def save(self, step):
        if self.manager.latest_checkpoint and self.manager.latest_checkpoint.endswith(
                f"-{step}"):
            return
        self.manager.save(checkpoint_number=step)
        with self.writer.as_default(step=step):
            for name, clip in self.previews:
                mel = frontend.normalized_mel(clip, self.config)
                converted = convert.convert_mel(self.model.generator, mel, self.config)
                audio = frontend.mel_to_audio(converted, self.config, len(clip), n_iter=32)
                tf.summary.audio(f"preview/{name}", audio[None, :, None], self.config.sr,
                                 max_outputs=1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.bar.close()


def train(run_dir, config, domain_a, domain_b, total_steps=10000, max_seconds=None,
          checkpoint_every=500, log_every=25, progress=False, start_time=None, strategy=None):
    """Trains (or resumes) the run; returns the step reached."""
    model, step = build(config, strategy)
    checkpoint, manager = run_dir.checkpoint(model.generator, model.critic, model.siamese,
                                             model.d_optimizer, model.g_optimizer, step=step)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        print(f"resuming {run_dir.path} from step {int(step.numpy())}", file=sys.stderr)
    remaining = total_steps - int(step.numpy())
    if remaining <= 0:
        print(f"{run_dir.path} already has {int(step.numpy())} steps (target {total_steps})",
              file=sys.stderr)
        return int(step.numpy())
    deadline = None if max_seconds is None else (start_time or time.time()) + max_seconds
    n = int(PREVIEW_SECONDS * config.sr)
    previews = [(f"a{i}", clip[:n]) for i, clip in enumerate(domain_a.clips[:2])]
    loop = _Loop(run_dir, manager, step, total_steps, deadline, checkpoint_every, log_every,
                 previews, config, progress)
    pipeline = data.training_pipeline(domain_a, domain_b, config)
    cycles = -(-remaining // config.joint_every)
    model.fit(pipeline, epochs=1, steps_per_epoch=cycles, verbose=0, callbacks=[loop],
              shuffle=False)
    loop.save(int(step.numpy()))
    return int(step.numpy())
