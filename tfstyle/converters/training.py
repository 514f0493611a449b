"""The training loop: one loop for every converter family and every `tf.distribute` strategy.

Keras 3's `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585), so tfstyle
drives the family's `model.cycle` itself, on one device as on many workers: losses, schedule,
checkpoints and logs are the same code whatever the family and the strategy. Steps are counted
in global batches; one cycle consumes `model.steps_per_cycle` of them (MelGAN-VC's
`joint_every`, as the reference counts them; 1 for the harmonic model). Every `log_every` steps the
loss terms (mean over those steps and over all replicas) go to TensorBoard; every
`checkpoint_every` steps, at the step target and when the time budget runs out, a checkpoint is
saved with audio previews.

Between workers: every worker builds the whole global batch from the same seeded pipeline and
keeps its own rows (`--shard data`, the default, which makes N workers step exactly as one
device on the global batch), or reads only its share of the files (`--shard files`). The chief
alone writes the run directory; the others save into a private temporary folder because saving
may involve collective ops that every worker must join. Stopping is agreed through an
all-reduce, so no worker waits forever for one that has left.
"""
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

import keras
import numpy as np
import tensorflow as tf

from tfstyle.converters import distribute
from tfstyle.errors import Stopped, TfstyleError

PREVIEW_SECONDS = 4.0
UNLIMITED = 10 ** 12   # the step target of a run bounded only by time
_SEED_STRIDE = 7919     # separates the data seeds of workers that read different files
_SIGNALLED = 1000.0     # a worker's stop flag when it received Ctrl-C or SIGTERM


def build(family, config, strategy=None, record=None):
    """The family's compiled training model and the step counter, under `strategy` (default:
    the current one); `record`: what the family's `prepare` gave the run."""
    strategy = strategy or tf.distribute.get_strategy()
    with strategy.scope():
        model = family.build(config, record)
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    return model, step


def distributed_input(strategy, family, config, domains, shard="data"):
    """The training batches, split per replica: batch_size rows each."""
    rows = config.batch_size

    def dataset(context):
        local = context.num_replicas_in_sync // context.num_input_pipelines
        worker = context.input_pipeline_id
        if shard == "files":
            ds = family.pipeline(domains, config, rows=local * rows,
                                 seed=config.seed + _SEED_STRIDE * worker)
        else:
            ds = family.pipeline(domains, config,
                                 rows=context.num_replicas_in_sync * rows, seed=config.seed)
            if context.num_input_pipelines > 1:
                first, last = worker * local * rows, (worker + 1) * local * rows
                ds = ds.map(lambda *batch: tf.nest.map_structure(
                    lambda x: x[first:last], batch if len(batch) > 1 else batch[0]))
        # Consecutive elements go to this worker's replicas in turn.
        return ds.rebatch(rows) if local > 1 else ds

    return strategy.distribute_datasets_from_function(dataset)


def cycle_function(strategy, model):
    """A tf.function (iterator, stop flag) → (each loss term averaged over all replicas, the
    stop flags summed over them) that runs one schedule cycle on every replica."""

    @tf.function
    def cycle(iterator, stop):
        def replica(batch, stop):
            context = tf.distribute.get_replica_context()
            mean = tf.distribute.ReduceOp.MEAN
            return (context.all_reduce(mean, model.cycle(batch)),
                    context.all_reduce(tf.distribute.ReduceOp.SUM, tf.identity(stop)))

        losses, stops = strategy.run(replica, args=(next(iterator), stop))
        first = lambda x: strategy.experimental_local_results(x)[0]
        return tf.nest.map_structure(first, losses), first(stops)

    return cycle


def _all_workers(strategy, value):
    """(min, max) of a number over every replica; (value, value) on one device."""
    if strategy.num_replicas_in_sync == 1:
        return value, value

    @tf.function
    def gather(value):
        return strategy.gather(strategy.run(lambda: tf.identity(value)[None]), axis=0)

    values = gather(tf.constant(value, tf.float32)).numpy()
    return float(values.min()), float(values.max())


class _StopRequest:
    """The first Ctrl-C or SIGTERM asks for a stop after the current cycle, with a checkpoint
    (on every worker: the request travels with the all-reduced stop flag); a second Ctrl-C
    stops at once. SIGTERM is what cluster managers send before they kill a worker."""

    def __enter__(self):
        self.signo, self.previous = None, {}
        if threading.current_thread() is threading.main_thread():
            for signo in (signal.SIGINT, signal.SIGTERM):
                self.previous[signo] = signal.signal(signo, self._handle)
        return self

    def _handle(self, signo, frame):
        if self.signo is not None:
            raise KeyboardInterrupt
        self.signo = signo
        print(f"\ntfstyle: {signal.Signals(signo).name}: stopping after this step with a "
              "checkpoint (Ctrl-C again to stop at once)", file=sys.stderr, flush=True)

    def __exit__(self, *exc):
        for signo, handler in self.previous.items():
            signal.signal(signo, signal.SIG_DFL if handler is None else handler)


class _Loop:
    """Progress bar, TensorBoard scalars, checkpoints with previews, and the budget."""

    def __init__(self, run_dir, model, manager, step, total, deadline, checkpoint_every,
                 log_every, previews, config, progress, chief):
        self.model, self.manager, self.step, self.total = model, manager, step, total
        self.deadline, self.checkpoint_every, self.log_every = deadline, checkpoint_every, \
            log_every
        self.previews, self.config, self.chief = previews, config, chief
        self.writer = tf.summary.create_file_writer(run_dir.log_dir) if chief else None
        self.sums, self.count = {}, 0
        from tfstyle.progress import tqdm

        interval = 0.5 if sys.stderr.isatty() else 15.0
        # Without a step target (a time budget only) the bar counts without an ETA.
        self.bar = tqdm(total=None if total >= UNLIMITED else total, initial=int(step.numpy()),
                        desc="training", unit="step", disable=not (progress and chief),
                        mininterval=interval, dynamic_ncols=True)

    def out_of_time(self):
        return self.deadline is not None and time.time() >= self.deadline

    def after_cycle(self, losses, stop):
        """Counts the cycle's steps, logs and saves; True when training should end."""
        before = int(self.step.numpy())
        step = int(self.step.assign_add(self.model.steps_per_cycle).numpy())
        self.bar.update(step - before)
        for name, value in losses.items():
            self.sums[name] = self.sums.get(name, 0.0) + float(value)
        self.count += 1
        if step // self.log_every > before // self.log_every:
            self.log(step)
        done = stop or step >= self.total
        if done or step // self.checkpoint_every > before // self.checkpoint_every:
            self.save(step)
        return done

    def log(self, step):
        means = {name: total / self.count for name, total in self.sums.items()}
        self.sums, self.count = {}, 0
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in means.items()
                              if k in self.model.shown}, refresh=False)
        if self.writer:
            with self.writer.as_default(step=step):
                for name, value in means.items():
                    tf.summary.scalar(f"loss/{name}", value)

    def save(self, step):
        """Every worker saves (the chief into the run); the chief adds audio previews."""
        if self.manager.latest_checkpoint and self.manager.latest_checkpoint.endswith(
                f"-{step}"):
            return
        self.manager.save(checkpoint_number=step)
        if not self.writer:
            return
        with self.writer.as_default(step=step):
            for name, clip in self.previews:
                audio = np.asarray(self.model.preview(clip), np.float32)
                tf.summary.audio(f"preview/{name}", audio[None, :, None], self.config.sr,
                                 max_outputs=1)
        self.writer.flush()

    def close(self):
        self.bar.close()


def train(run_dir, family, config, domains, total_steps=10000, max_seconds=None,
          checkpoint_every=500, log_every=25, progress=False, start_time=None, strategy=None,
          cluster=None, shard="data", record=None):
    """Trains (or resumes) the run of `family` on `domains` (a dict of `domains.Domain`, by
    role) under `strategy` (default: the current one).

    Returns (the step reached, the model). `cluster` says whether this process is the chief
    (default: a single worker); `shard` is "data" or "files" (see the module docstring);
    `record` what the family's `prepare` returned.
    """
    strategy = strategy or tf.distribute.get_strategy()
    cluster = cluster or distribute.Cluster()
    model, step = build(family, config, strategy, record)
    # The other workers' checkpoints are a by-product of the collective save: keep them apart,
    # in one folder per run and task that the next start clears if a killed worker left it.
    scratch = None
    if not cluster.chief:
        key = hashlib.sha1(os.path.abspath(run_dir.path).encode()).hexdigest()[:12]
        scratch = os.path.join(tempfile.gettempdir(),
                               f"tfstyle-{key}-{cluster.task.replace(' ', '-')}")
        shutil.rmtree(scratch, ignore_errors=True)
    try:
        return _train(run_dir, family, config, domains, model, step, total_steps,
                      max_seconds, checkpoint_every, log_every, progress, start_time, strategy,
                      cluster, shard, scratch)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _train(run_dir, family, config, domains, model, step, total_steps, max_seconds,
           checkpoint_every, log_every, progress, start_time, strategy, cluster, shard,
           scratch):
    checkpoint, manager = run_dir.checkpoint(
        {**model.checkpoint_objects(), "step": step}, directory=scratch,
        max_to_keep=3 if cluster.chief else 1)
    latest = run_dir.latest()
    if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
        # The checkpoint holds each optimizer's rate too; without this a --learning-rate given
        # on resume would be recorded in config.json and silently not used.
        for obj in model.checkpoint_objects().values():
            if isinstance(obj, keras.optimizers.Optimizer):
                obj.learning_rate = config.learning_rate
    reached = int(step.numpy())
    low, high = _all_workers(strategy, reached)
    if low != high:
        raise TfstyleError(f"the workers resumed from different steps ({low:.0f} to "
                           f"{high:.0f}): {run_dir.path} must be one folder that every worker "
                           "shares (a network filesystem)")
    if latest and cluster.chief:
        print(f"resuming {run_dir.path} from step {reached}", file=sys.stderr)
    if reached >= total_steps:
        if cluster.chief:
            print(f"{run_dir.path} already has {reached} steps (target {total_steps})",
                  file=sys.stderr)
        return reached, model
    deadline = None if max_seconds is None else (start_time or time.time()) + max_seconds
    n = int(PREVIEW_SECONDS * config.sr)
    source = next(iter(domains))   # previews convert the input side (or resynthesise)
    previews = [(f"{source}{i}", clip[:n]) for i, clip in enumerate(domains[source].clips[:2])]
    loop = _Loop(run_dir, model, manager, step, total_steps, deadline, checkpoint_every,
                 log_every, previews, config, progress, cluster.chief)
    iterator = iter(distributed_input(strategy, family, config, domains, shard))

    cycle = cycle_function(strategy, model)
    try:
        with _StopRequest() as request:
            while True:
                # 1 for a spent time budget, _SIGNALLED for a stop request: the all-reduced sum
                # tells every worker whether any of them was asked to stop.
                stop = _SIGNALLED if request.signo is not None else float(loop.out_of_time())
                losses, stops = cycle(iterator, tf.constant(stop))
                stops = float(stops.numpy())
                if loop.after_cycle({k: v.numpy() for k, v in losses.items()}, stops > 0):
                    break
    except (tf.errors.UnavailableError, tf.errors.CancelledError,
            tf.errors.DeadlineExceededError, tf.errors.AbortedError) as e:
        if cluster.workers == 1:
            raise
        saved = run_dir.latest()
        resume = f"step {saved.rsplit('-', 1)[-1]}" if saved else "the start"
        raise TfstyleError(f"{cluster.label} lost contact with the cluster "
                           f"({distribute.first_line(e)}); start every worker again with the "
                           f"same command to resume from {resume}") from None
    finally:
        loop.close()
    reached = int(step.numpy())
    if stops >= _SIGNALLED:
        why = signal.Signals(request.signo).name if request.signo else "another worker was " \
            "asked to stop"
        raise Stopped(f"stopped at step {reached} ({why}); the checkpoint is saved: run the same "
                      "command again to resume", request.signo or signal.SIGTERM)
    return reached, model
