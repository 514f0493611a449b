"""Python entry points of the converters, whatever their family: `tfstyle.fit(...)`,
`tfstyle.convert(...)` and `tfstyle.export(...)`."""
import glob
import os
import sys
import time

from tfstyle.errors import TfstyleError
from tfstyle.audio import AUDIO_EXTENSIONS


def fit(a=None, b=None, run_dir=None, model=None, preset=None, steps=None, max_minutes=None,
        checkpoint_every=500, log_every=25, progress=False, log=None, start_tensorflow=None,
        strategy="default", tpu=None, shard="data", **settings):
    """Trains (or resumes) a converter run; returns the step reached.

    `model` is the family (`families.FAMILIES`: "melgan-vc", the default for a new run, or
    "harmonic"); `b` is the target domain spec and `a` the input side's (MelGAN-VC only). A
    new run starts from `preset` (default: the family's) with `settings` on top; an existing
    run keeps its family and saved settings, `settings` overriding them. Without `steps`,
    training stops at 10000 steps, or when `max_minutes` have passed if that is given. Domain
    reports go to `log`. `start_tensorflow(start)` runs the function that starts the strategy
    and returns its result (the CLI keeps TensorFlow's start-up log quiet there). `strategy`
    is one of `distribute.STRATEGIES` (multi-worker reads TF_CONFIG; `tpu` names the TPU), and
    `shard` ("data" or "files") how workers divide the input.
    """
    import dataclasses

    from tfstyle.converters import distribute, families
    from tfstyle.converters.run import Run
    from tfstyle.domains import load_domain

    if not run_dir:
        raise TfstyleError("give the run directory (run_dir)")
    started = time.time()   # the time budget counts from here
    cluster = distribute.cluster(strategy)
    if shard not in distribute.SHARDING:
        raise TfstyleError(f"unknown sharding {shard!r}; choose one of "
                           f"{', '.join(distribute.SHARDING)}")
    run = Run(run_dir)
    saved = {}
    if run.exists():
        config, saved = run.load_config()
        if model and model != saved["family"]:
            raise TfstyleError(f"{run_dir} is a {saved['family']} run; use a new run directory "
                               f"for --model {model}")
        family = families.get(saved["family"])
        if preset and preset != saved.get("preset"):
            raise TfstyleError(f"{run_dir} was created with preset {saved.get('preset')}; use a "
                               "new run directory for another preset")
        preset = saved.get("preset")
        config = dataclasses.replace(config, **settings).validate()
        a = a or saved.get("a")
        b = b or saved.get("b")
    else:
        family = families.get(model or "melgan-vc")
        preset = preset or family.DEFAULT_PRESET
        config = family.preset(preset, **settings)
    config.check_trainable()
    specs = {"a": a, "b": b}
    for role in ("a", "b"):
        if role in family.ROLES and not specs[role]:
            raise TfstyleError(f"a {family.NAME} run needs --{role} (the "
                               f"{'input' if role == 'a' else 'target'} domain)")
        if role not in family.ROLES and specs[role]:
            raise TfstyleError(f"a {family.NAME} run trains on --b alone; leave out --{role}")
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
    domains = {role: load_domain(specs[role], config, part) for role in family.ROLES}
    if log:
        if cluster.chief:
            print(f"{family.NAME}, preset {preset}: " + ", ".join(
                f"{k}={v}" for k, v in dataclasses.asdict(config).items()), file=log)
        if cluster.chief or shard == "files":
            for role, domain in domains.items():
                print(domain.report(role.upper(), config.sr), file=log)
        if cluster.chief:
            family.check_domains(domains, config, log)
    strategy_ = strategy_ or start_tensorflow(start)
    domains, learned = family.prepare(domains, config, run, log, progress and cluster.chief)
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
        run.save_config(config, family.NAME, preset=preset,
                        **{role: specs[role] for role in family.ROLES}, strategy=strategy,
                        replicas=replicas, shard=shard, **learned)
    from tfstyle.converters.training import UNLIMITED, train

    total = steps or (10000 if max_minutes is None else UNLIMITED)
    return train(run, family, config, domains, total, None if max_minutes is None
                 else max_minutes * 60, checkpoint_every, log_every, progress, started,
                 strategy=strategy_, cluster=cluster, shard=shard, record=learned)[0]


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
    """Fails fast, before TensorFlow loads, on a missing run or unknown model; returns
    (family module, config, saved record)."""
    from tfstyle import pretrained
    from tfstyle.converters import families
    from tfstyle.converters.run import Run

    if (run_dir is None) == (model is None):
        raise TfstyleError("give either a run directory or --model NAME")
    config, record = pretrained.load_config(model) if model else Run(run_dir).load_config()
    return families.get(record.get("family", "melgan-vc")), config, record


# --vocoder's names beside a run folder: the shipped vocoder of the mel at hand, or none.
WAVENET, GRIFFIN_LIM = "wavenet", "griffin-lim"


def _vocoder_source(source):
    """(run_dir, model) of a vocoder given as a run folder or a shipped vocoder's name."""
    from tfstyle import pretrained

    return (None, source) if source in pretrained.MODELS else (source, None)


def shipped_vocoder(sr, front_end=None):
    """(name, record) of the shipped vocoder trained at `sr` (and, given a MelFrontEnd, on
    exactly that mel), or (None, None); no TensorFlow needed."""
    from tfstyle import pretrained

    for name in pretrained.available():
        config, record = pretrained.load_config(name)
        if record.get("family") == "vocoder" and config.sr == sr and not (
                front_end is not None and config.front_end_differences(front_end)):
            return name, record
    return None, None


def choose_vocoder(choice, family, config):
    """What turns a MelGAN-VC model's mel into sound, from --vocoder: a vocoder (a run folder
    or a shipped vocoder's name) or None for the model's inversion (Griffin-Lim). `wavenet`
    is the shipped vocoder of the model's mel; no choice is the default: that vocoder where
    it measured better than Griffin-Lim (its record's `default`), else Griffin-Lim. Fails
    fast, before TensorFlow loads."""
    if choice == GRIFFIN_LIM or (choice is None and family.NAME != "melgan-vc"):
        return None
    if choice in (None, WAVENET):
        if family.NAME != "melgan-vc":
            raise TfstyleError(f"--vocoder applies to MelGAN-VC models; this one is "
                               f"{family.NAME}")
        name, record = shipped_vocoder(config.sr, config)
        if choice is None:
            return name if name and record.get("default") else None
        if not name:
            raise TfstyleError(f"no vocoder ships for this model's mel ({config.sr} Hz, n_fft "
                               f"{config.n_fft}, hop {config.hop_length}, {config.n_mels} "
                               "bands): train one on it (tfstyle fit --model vocoder) and give "
                               "its run folder")
        return name
    check_vocoder(choice, family, config)
    return choice


def load_vocoder(source):
    """The vocoder Converter of a run folder or a shipped vocoder's name."""
    run_dir, model = _vocoder_source(source)
    return load_converter(run_dir, model)


def _vocoder_generator(choice, converter):
    """The generator of the vocoder that a conversion or export of `converter` uses for
    `choice` (as `choose_vocoder` takes it; None: none), or None for its own inversion."""
    from tfstyle.converters import families

    if not choice:
        return None
    source = choose_vocoder(choice, families.get(converter.family), converter.config)
    return load_vocoder(source).generator if source else None


def vocoder_settings(source, sr=None):
    """Fails fast, before TensorFlow loads, unless `source` is a vocoder run or a shipped
    vocoder (and, given `sr`, one trained at that rate); returns its VocoderConfig."""
    run_dir, model = _vocoder_source(source)
    _, config, record = check_converter(run_dir, model)
    if record.get("family") != "vocoder":
        raise TfstyleError(f"{source} is a {record.get('family', 'melgan-vc')} run, not a "
                           "vocoder ('tfstyle fit --model vocoder')")
    if sr is not None and config.sr != sr:
        raise TfstyleError(f"the vocoder {source} was trained at {config.sr} Hz and this "
                           f"transfer works at {sr} Hz: give --sr {config.sr}")
    return config


def check_vocoder(run_dir, family, config):
    """Fails fast, before TensorFlow loads, unless `run_dir` is a vocoder run whose mel front
    end is the one of the MelGAN-VC converter (`family`, `config`) it will serve."""
    if family.NAME != "melgan-vc":
        raise TfstyleError(f"--vocoder applies to MelGAN-VC models; this one is {family.NAME}")
    vocoder_config = vocoder_settings(run_dir)
    different = vocoder_config.front_end_differences(config)
    if different:
        raise TfstyleError(f"{run_dir} inverts another mel than this model's ("
                           + ", ".join(f"{n} {getattr(vocoder_config, n)} against "
                                       f"{getattr(config, n)}" for n in different) + ")")


def load_converter(run_dir=None, model=None):
    """The family's Converter of a run's latest checkpoint or of a model shipped with tfstyle."""
    from tfstyle import pretrained
    from tfstyle.converters.run import Run

    family, config, record = check_converter(run_dir, model)
    if model:
        return pretrained.load(model)
    return family.Converter.from_run(Run(run_dir), config, record)


def one_shot_converter(style, loudness=None):
    """The shipped timbre prior as a harmonic converter of the instrument that the audio
    files `style` play (their embedding and pitch and loudness profile; nothing trained).
    `loudness`: as `tfstyle transfer --loudness`, by default the harmonic preset's."""
    from tfstyle import audio, presets
    from tfstyle.converters.harmonic.family import Converter
    from tfstyle.harmonic.prior import Prior

    loudness = loudness or presets.HARMONIC["loudness"]
    prior = Prior.load()
    clips = [audio.load(path, prior.config.sr, min_samples=4 * prior.config.hop_length)
             for path in style]
    return Converter.from_prior(prior, clips, loudness)


def export(run_dir=None, out="export", fmt="all", quantize=("none",), name="tfstyle",
           version=None, gl_iters=64, log=None, model=None, style=None, prior=False,
           vocoder=None):
    """Exports a run's latest converter (or the shipped `model`, or with `style`, a list of
    audio files of one instrument, the one-shot converter of the shipped timbre prior for
    it: `one_shot_converter`) to SavedModel and TFLite; with `prior`, the shipped timbre
    prior itself with its encoder (`harmonic.export.export_prior`). `vocoder`: what a MelGAN-VC
    export uses instead of Griffin-Lim, as `choose_vocoder` takes it (None: none). Returns
    {artifact path: description}."""
    from tfstyle.converters.serving import FORMATS

    if fmt not in FORMATS:
        raise TfstyleError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if prior:
        from tfstyle.converters.harmonic.export import export_prior
        from tfstyle.converters.harmonic.family import Converter
        from tfstyle.harmonic.prior import Prior

        shipped = Prior.load()
        written = export_prior(Converter.of_prior(shipped), shipped.encoder, out, fmt,
                               list(quantize), name, version)
    else:
        converter = one_shot_converter(style) if style else load_converter(run_dir, model)
        vocoder = _vocoder_generator(vocoder, converter)
        extra = {} if vocoder is None else {"vocoder": vocoder}
        written = converter.export(out, fmt, list(quantize), name, version, gl_iters,
                                   **extra)
    if log:
        for path, description in written.items():
            print(f"wrote {path}: {description}", file=log)
    return written


def convert(run_dir=None, inputs=None, output=None, jobs=None, sr=None, skip_existing=False,
            progress=False, log=None, model=None, **options):
    """Converts files with a run's latest converter (or the shipped `model`); returns the paths
    written.

    Give `inputs` (files, folders, globs) and `output` (file or folder), or explicit `jobs`
    [(source, destination)]. Unreadable inputs are reported and skipped; the rest go on.
    `options` are the family's (MelGAN-VC: inversion, gl_iters, optimize_steps, vocoder: what
    replaces the inversion, as `choose_vocoder` takes it (None: none); harmonic:
    transpose, loudness); a family ignores the other's. Memory stays flat with the input's
    length; the lowest peak needs TensorFlow's pooling allocator, which only an environment variable set
    before TensorFlow loads can choose: `TF_CPU_ALLOCATOR_USE_BFC=true` (the CLI sets it).
    """
    from tfstyle import audio

    if jobs is None:
        jobs = plan_jobs(list(inputs), output)
    converter = load_converter(run_dir, model)
    if options.get("vocoder"):
        options["vocoder"] = _vocoder_generator(options["vocoder"], converter)
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
            blocks, samples = audio.stream(source, converter.sr,
                                           min_samples=converter.min_samples)
            os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
            audio.check_writable(destination)
            level = audio.Level(blocks())
            out_sr = sr or converter.sr
            out = audio.resample_blocks(converter.convert_blocks(level, **options),
                                        converter.sr, out_sr)
            audio.save_blocks(destination, out, out_sr, lambda: level.rms)
        except TfstyleError as e:
            # Reading errors name the file; errors found in its content are given its name.
            reason = str(e) if str(e).startswith(source) else f"{source}: {e}"
            failed.append(reason)
            print(f"tfstyle: skipped {reason}", file=log)
            continue
        written.append(destination)
        if progress:
            seconds = time.perf_counter() - start
            print(f"[{index}/{len(jobs)}] {source} -> {destination} ({samples / converter.sr:.1f} "
                  f"s audio in {seconds:.1f} s)", file=log)
    if failed and not written and not kept:
        raise TfstyleError(f"nothing converted: {failed[0]}"
                           + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""))
    return written
