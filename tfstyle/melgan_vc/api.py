"""Python entry points of MelGAN-VC: `tfstyle.fit(...)` and `tfstyle.convert(...)`."""
import glob
import os
import sys
import time

from tfstyle.errors import TfstyleError
from tfstyle.domains import AUDIO_EXTENSIONS


def fit(a, b, run_dir, preset=None, steps=None, max_minutes=None, checkpoint_every=500,
        log_every=25, progress=False, log=None, start_tensorflow=None, strategy="default",
        tpu=None, shard="data", **settings):
    """Trains (or resumes) a MelGAN-VC run from domain specs `a` and `b`; returns the step.

    A new run starts from `preset` (default melgan-vc) with `settings` on top; an existing run
    keeps its saved settings, `settings` overriding them. Without `steps`, training stops at
    10000 steps, or when `max_minutes` have passed if that is given. Domain reports go to `log`.
    `start_tensorflow(start)` runs the function that starts the strategy and returns its result
    (the CLI keeps TensorFlow's start-up log quiet there). `strategy` is one of
    `distribute.STRATEGIES` (multi-worker reads TF_CONFIG; `tpu` names the TPU), and `shard`
    ("data" or "files") how workers divide the input.
    """
    import dataclasses

    from tfstyle.melgan_vc import data, distribute, frontend
    from tfstyle.melgan_vc.run import Run

    start = time.time()
    cluster = distribute.cluster(strategy)
    if shard not in distribute.SHARDING:
        raise TfstyleError(f"unknown sharding {shard!r}; choose one of "
                           f"{', '.join(distribute.SHARDING)}")
    run = Run(run_dir)
    saved = {}
    if run.exists():
        config, saved = run.load_config()
        if preset and preset != saved.get("preset"):
            raise TfstyleError(f"{run_dir} was created with preset {saved.get('preset')}; use a "
                               "new run directory for another preset")
        preset = saved.get("preset")
        config = dataclasses.replace(config, **settings).validate()
    else:
        preset = preset or "melgan-vc"
        config = frontend.preset(preset, **settings)
    start_tensorflow = start_tensorflow or (lambda start: start())
    start = lambda: distribute.make_strategy(strategy, tpu)
    # Collective ops must be configured before TensorFlow runs its first op (which TFDS
    # domains do while loading), so a distributed strategy starts before the data is read.
    if strategy == "multi-worker":
        if log:
            print(f"{cluster.label}: waiting for every worker in TF_CONFIG to start",
                  file=log, flush=True)
        distribute.wait_for_workers(cluster, log=log)
    strategy_ = None if strategy == "default" else start_tensorflow(start)
    part = (cluster.index, cluster.workers) if shard == "files" else (0, 1)
    domain_a, domain_b = data.load_domain(a, config, part), data.load_domain(b, config, part)
    if log:
        if cluster.chief:
            print(f"preset {preset}: " + ", ".join(f"{k}={v}" for k, v in
                                                   dataclasses.asdict(config).items()), file=log)
        if cluster.chief or shard == "files":
            for label, domain in (("A", domain_a), ("B", domain_b)):
                print(domain.report(label, config.sr), file=log)
                if domain.seconds / config.sr < 300 and cluster.chief:
                    print(f"tfstyle: warning: domain {label} has only "
                          f"{domain.seconds / config.sr / 60:.1f} min of audio; MelGAN-VC "
                          "usually needs 5 min or more per domain", file=log)
    strategy_ = strategy_ or start_tensorflow(start)
    replicas = strategy_.num_replicas_in_sync
    if log:
        print(f"strategy {strategy}: {cluster.label}, {replicas} replica"
              f"{'s' if replicas > 1 else ''} in sync, global batch {replicas} x "
              f"{config.batch_size} = {replicas * config.batch_size}", file=log)
        if saved.get("replicas", replicas) != replicas and cluster.chief:
            print(f"tfstyle: warning: {run_dir} trained so far with {saved['replicas']} "
                  f"replicas; the global batch changes from "
                  f"{saved['replicas'] * config.batch_size} to {replicas * config.batch_size}",
                  file=log)
    if cluster.chief:
        run.save_config(config, preset=preset, a=a, b=b, strategy=strategy, replicas=replicas,
                        shard=shard)
    from tfstyle.melgan_vc.training import UNLIMITED, train

    total = steps or (10000 if max_minutes is None else UNLIMITED)
    return train(run, config, domain_a, domain_b, total, None if max_minutes is None
                 else max_minutes * 60, checkpoint_every, log_every, progress, start,
                 strategy=strategy_, cluster=cluster, shard=shard)[0]


def plan_jobs(inputs, output, fmt="wav"):
    """[(source file, destination file)] for the given inputs and output."""
    single = (len(inputs) == 1 and os.path.isfile(inputs[0])
              and output.lower().endswith(AUDIO_EXTENSIONS))
    if single:
        return [(inputs[0], output)]
    jobs = []
    for spec in inputs:
        if os.path.isdir(spec):
            for root, _, files in os.walk(spec):
                for f in sorted(files):
                    if f.lower().endswith(AUDIO_EXTENSIONS):
                        rel = os.path.relpath(os.path.join(root, f), spec)
                        jobs.append((os.path.join(root, f), os.path.join(
                            output, os.path.basename(os.path.normpath(spec)), rel)))
        elif any(ch in spec for ch in "*?["):
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                raise TfstyleError(f"{spec}: no file matches")
            jobs += [(m, os.path.join(output, os.path.basename(m))) for m in matches
                     if m.lower().endswith(AUDIO_EXTENSIONS)]
        elif os.path.isfile(spec):
            jobs.append((spec, os.path.join(output, os.path.basename(spec))))
        else:
            raise TfstyleError(f"{spec}: no such file or folder")
    if not jobs:
        raise TfstyleError("no audio files among the inputs")
    return [(src, os.path.splitext(dst)[0] + "." + fmt) for src, dst in jobs]


def check_converter(run_dir=None, model=None):
    """Fails fast, before TensorFlow loads, on a missing run or unknown model; returns the
    converter's config."""
    from tfstyle import pretrained
    from tfstyle.melgan_vc.run import Run

    if (run_dir is None) == (model is None):
        raise TfstyleError("give either a run directory or --model NAME")
    return (pretrained.load_config(model) if model else Run(run_dir).load_config())[0]


def load_converter(run_dir=None, model=None):
    """(generator, config) of a run's latest checkpoint or of a model shipped with tfstyle."""
    from tfstyle import pretrained
    from tfstyle.melgan_vc.run import Run

    check_converter(run_dir, model)
    return pretrained.generator(model) if model else Run(run_dir).generator()


def convert(run_dir=None, inputs=None, output=None, jobs=None, sr=None, skip_existing=False,
            inversion="griffin-lim", gl_iters=64, optimize_steps=2000, progress=False,
            log=None, model=None):
    """Converts files with a run's latest generator (or the shipped `model`); returns the paths
    written.

    Give `inputs` (files, folders, globs) and `output` (file or folder), or explicit `jobs`
    [(source, destination)]. Unreadable inputs are reported and skipped; the rest go on.
    """
    from tfstyle import audio
    from tfstyle.melgan_vc.convert import convert_blocks

    if jobs is None:
        jobs = plan_jobs(list(inputs), output)
    generator, config = load_converter(run_dir, model)
    written, failed, kept = [], [], 0
    log = log or sys.stderr
    for index, (source, destination) in enumerate(jobs, start=1):
        if skip_existing and os.path.exists(destination):
            kept += 1
            continue
        start = time.perf_counter()
        # Read, converted and written in blocks: memory does not grow with the file's length.
        # A file found bad half-way (NaN, truncated) is skipped; its output is never written.
        try:
            blocks, samples = audio.stream(source, config.sr, min_samples=config.n_fft)
            os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
            audio.check_writable(destination)
            level = audio.Level(blocks())
            out_sr = sr or config.sr
            out = audio.resample_blocks(convert_blocks(
                generator, level, config, inversion, gl_iters, optimize_steps), config.sr, out_sr)
            audio.save_blocks(destination, out, out_sr, lambda: level.rms)
        except TfstyleError as e:
            failed.append(str(e))
            print(f"tfstyle: skipped {e}", file=log)
            continue
        written.append(destination)
        if progress:
            seconds = time.perf_counter() - start
            print(f"[{index}/{len(jobs)}] {source} -> {destination} ({samples / config.sr:.1f} "
                  f"s audio in {seconds:.1f} s)", file=log)
    if failed and not written and not kept:
        raise TfstyleError(f"nothing converted: {failed[0]}"
                           + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""))
    return written
