"""`tfstyle fit --a A --b B --run-dir RUN`: train a MelGAN-VC converter from domain A to B."""
import argparse
import dataclasses
import sys
import time

from tfstyle.melgan_vc.frontend import PRESETS, MelGANConfig

EPILOG = """domain specs (--a, --b): a folder (recursive), a text file listing audio files, a
quoted glob, or tfds:NAME[?split=S&FEATURE=VALUE] for a prepared TensorFlow Datasets dataset.

Running the same command again resumes from the last checkpoint (settings come from the run's
config.json; options given again override them). Watch training with
  tensorboard --logdir RUN/tensorboard

examples:
  tfstyle fit --a recordings/piano --b recordings/violin --run-dir runs/p2v --preset music-22k
  tfstyle fit --a speakerA.txt --b 'data/B/**/*.flac' --run-dir runs/vc --max-minutes 60"""


def add_parser(commands):
    p = commands.add_parser(
        "fit", help="train a MelGAN-VC converter between two domains of audio",
        description="Train MelGAN-VC (generator, critic, siamese; hinge, identity, TraVeL and "
                    "margin losses) on unpaired audio of domains A and B, with checkpoints, "
                    "resume and TensorBoard logs in RUN.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, metavar="SPEC", help="domain A (the input side)")
    p.add_argument("--b", required=True, metavar="SPEC", help="domain B (the target side)")
    p.add_argument("--run-dir", required=True, metavar="RUN",
                   help="folder for config, checkpoints and logs; an existing run resumes")
    p.add_argument("--preset", choices=list(PRESETS), default=None,
                   help="front-end and model recipe for a new run: " + "; ".join(
                       f"{k}: {v[0]}" for k, v in PRESETS.items()) + " (default: melgan-vc)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None,
                        help="train until this many batches in total (default: 10000)")
    budget.add_argument("--max-minutes", type=float, default=None,
                        help="train for this long (wall clock) from now, then checkpoint")
    p.add_argument("--checkpoint-every", type=int, default=500, metavar="N",
                   help="save a checkpoint and audio previews every N steps (default: 500)")
    p.add_argument("--log-every", type=int, default=25, metavar="N",
                   help="write TensorBoard scalars every N steps (default: 25)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    settings = p.add_argument_group("model and training settings (default: the preset's)")
    for field in dataclasses.fields(MelGANConfig):
        settings.add_argument("--" + field.name.replace("_", "-"), type=field.type, default=None,
                              choices=field.metadata["choices"],
                              help=f"{field.metadata['help']} (melgan-vc: {field.default!r})")
    p.set_defaults(run=run)


def run(args):
    from tfstyle.cli import import_tensorflow
    from tfstyle.errors import TfstyleError
    from tfstyle.melgan_vc import data, frontend
    from tfstyle.melgan_vc.run import Run

    for name in ("steps", "checkpoint_every", "log_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise TfstyleError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.max_minutes is not None and not args.max_minutes > 0:
        raise TfstyleError(f"--max-minutes must be positive, got {args.max_minutes}")
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(MelGANConfig)
             if getattr(args, f.name) is not None}
    run_dir = Run(args.run_dir)
    if run_dir.exists():
        config, saved = run_dir.load_config()
        if args.preset and args.preset != saved.get("preset"):
            raise TfstyleError(f"{args.run_dir} was created with preset {saved.get('preset')}; "
                               "use a new --run-dir for another preset")
        config = dataclasses.replace(config, **given).validate()
        preset = saved.get("preset")
    else:
        preset = args.preset or "melgan-vc"
        config = frontend.preset(preset, **given)
    total_steps = args.steps or 10000

    domain_a = data.load_domain(args.a, config)
    domain_b = data.load_domain(args.b, config)
    print(domain_a.report("A", config.sr), file=sys.stderr)
    print(domain_b.report("B", config.sr), file=sys.stderr)
    for label, domain in (("A", domain_a), ("B", domain_b)):
        if domain.seconds / config.sr < 300:
            print(f"tfstyle: warning: domain {label} has only {domain.seconds / config.sr / 60:.1f}"
                  " min of audio; MelGAN-VC usually needs 5 min or more per domain",
                  file=sys.stderr)
    run_dir.save_config(config, preset=preset, a=args.a, b=args.b)

    import_tensorflow()
    from tfstyle.melgan_vc.training import train

    train(run_dir, config, domain_a, domain_b, total_steps=total_steps,
          max_seconds=None if args.max_minutes is None else args.max_minutes * 60,
          checkpoint_every=args.checkpoint_every, log_every=args.log_every,
          progress=not args.quiet, start_time=time.time())
