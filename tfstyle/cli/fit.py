"""`tfstyle fit [--model harmonic] [--a A] --b B --run-dir RUN`: train a converter."""
import argparse
import dataclasses
import sys

from tfstyle.converters.distribute import SHARDING, STRATEGIES
from tfstyle.converters.harmonic.config import PRESETS as HARMONIC_PRESETS
from tfstyle.converters.harmonic.config import HarmonicConfig
from tfstyle.converters.melgan_vc.frontend import PRESETS as MELGAN_PRESETS
from tfstyle.converters.melgan_vc.frontend import MelGANConfig
from tfstyle.converters.vocoder.config import PRESETS as VOCODER_PRESETS
from tfstyle.converters.vocoder.config import VocoderConfig

# Each family's settings, by the --model value; shown together, checked per family.
SETTINGS = {"melgan-vc": MelGANConfig, "harmonic": HarmonicConfig, "vocoder": VocoderConfig}
FAMILY_PRESETS = {"melgan-vc": MELGAN_PRESETS, "harmonic": HARMONIC_PRESETS,
                  "vocoder": VOCODER_PRESETS}
PRESETS = {**MELGAN_PRESETS, **HARMONIC_PRESETS, **VOCODER_PRESETS}

EPILOG = """models (--model): melgan-vc (default) learns A -> B from two unpaired domains of any
audio (speech, timbres) and converts mel spectrograms; harmonic learns one instrument from
--b alone (10-20 min of monophonic melodies) and resynthesises any melody's pitch and loudness
with it: the melody is kept by construction; vocoder learns to turn the normalised mel of
--b's audio back into sound (a mel-conditioned WaveNet), for MelGAN-VC's conversion in place
of Griffin-Lim (tfstyle convert --vocoder RUN).

domain specs (--a, --b): a folder (recursive), a text file listing audio files, a
quoted glob, or tfds:NAME[/CONFIG][?split=S&FEATURE=VALUE[,VALUE]&take=N] for a prepared
TensorFlow Datasets dataset selected by label ('tfstyle data list' shows them, 'tfstyle data info
SPEC' what a spec selects).

Distributed training (docs/distributed.md): --strategy mirrored uses every local GPU;
--strategy multi-worker runs one process per worker, each started with the same command and
its own TF_CONFIG. --batch-size is per replica: the global batch is batch size x replicas, and a
step is one global batch. Worker 0 (or the 'chief' task) writes RUN, which must be a folder
all workers share; a run whose worker died resumes when every worker is started again.

Running the same command again resumes from the last checkpoint (settings come from the run's
config.json; options given again override them). Watch training with
  tensorboard --logdir RUN/tensorboard

examples:
  tfstyle fit --a recordings/piano --b recordings/violin --run-dir runs/p2v --preset music-22k
  tfstyle fit --model harmonic --b recordings/violin --run-dir runs/violin --max-minutes 30
  tfstyle fit --model vocoder --b 'recordings/**/*.wav' --run-dir runs/vocoder --max-minutes 60
  tfstyle fit --a speakerA.txt --b 'data/B/**/*.flac' --run-dir runs/vc --max-minutes 60
  tfstyle fit --a 'tfds:timbre_pairs/piano_violin?instrument=piano' \\
              --b 'tfds:timbre_pairs/piano_violin?instrument=violin' --run-dir runs/pv
  TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
              "task": {"type": "worker", "index": 0}}' \\
    tfstyle fit --a /shared/A --b /shared/B --run-dir /shared/runs/ab --strategy multi-worker"""


def add_parser(commands):
    p = commands.add_parser(
        "fit", help="train a converter: MelGAN-VC between two domains, a harmonic model "
                    "of one instrument, or a vocoder",
        description="Train a converter with checkpoints, resume and TensorBoard logs in RUN. "
                    "--model melgan-vc (generator, critic, siamese; hinge, identity, TraVeL and "
                    "margin losses) learns from unpaired audio of domains A and B; --model "
                    "harmonic (decoder and reverb of a harmonic-plus-noise synthesiser, "
                    "multi-scale spectral loss) learns domain B's instrument; --model vocoder "
                    "(a mel-conditioned WaveNet and a multi-scale discriminator; "
                    "multi-resolution STFT, mel, adversarial and feature-matching losses) learns "
                    "to turn the mel of domain B's audio back into it.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=list(SETTINGS), default=None,
                   help="the kind of converter of a new run (default: melgan-vc; an existing "
                        "run keeps its own)")
    p.add_argument("--a", metavar="SPEC",
                   help="domain A, the input side (melgan-vc only; on resume: the saved one)")
    p.add_argument("--b", metavar="SPEC",
                   help="domain B, the target side (on resume: the saved one)")
    p.add_argument("--run-dir", required=True, metavar="RUN",
                   help="folder for config, checkpoints and logs; an existing run resumes")
    p.add_argument("--preset", choices=list(PRESETS), default=None,
                   help="front-end and model recipe for a new run: " + "; ".join(
                       f"{k}: {v[0]}" for k, v in PRESETS.items()) + " (default: melgan-vc, "
                       "harmonic with --model harmonic, istft-16k with --model vocoder)")
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
    dist = p.add_argument_group("distributed training")
    dist.add_argument("--strategy", choices=STRATEGIES, default="default",
                      help="default: one device; mirrored: all local GPUs; multi-worker: the "
                           "processes named in TF_CONFIG; tpu: a Cloud TPU (default: default)")
    dist.add_argument("--shard", choices=SHARDING, default="data",
                      help="how workers divide the input: data: every worker reads all the "
                           "audio and takes its rows of each global batch (steps exactly as "
                           "one device would); files: each worker reads only every N-th file "
                           "(for data too big for one machine) (default: data)")
    dist.add_argument("--tpu", metavar="NAME", default=None,
                      help="with --strategy tpu: the TPU's name or grpc:// address (default: "
                           "the local TPU VM)")
    settings = p.add_argument_group("model and training settings (default: the preset's; "
                                    "each applies to the families named)")
    add_family_arguments(settings)
    p.set_defaults(run=run)


def add_family_arguments(group):
    """One --option per setting of any family, its help saying which families have it and
    their defaults."""
    fields = {}
    for family, cls in SETTINGS.items():
        for field in dataclasses.fields(cls):
            fields.setdefault(field.name, []).append((family, field))
    for name, owners in fields.items():
        field = owners[0][1]
        defaults = ", ".join(f"{family}: {f.default!r}" for family, f in owners)
        group.add_argument("--" + name.replace("_", "-"), type=field.type, default=None,
                           choices=field.metadata["choices"],
                           metavar=None if field.metadata["choices"] else name.upper(),
                           help=f"{field.metadata['help']} ({defaults})")


def family_settings(args, family):
    """The settings given on the command line, checked against the family's."""
    from tfstyle.errors import TfstyleError

    known = {f.name for f in dataclasses.fields(SETTINGS[family])}
    others = {f.name for cls in SETTINGS.values() for f in dataclasses.fields(cls)} - known
    wrong = sorted(n for n in others if getattr(args, n) is not None)
    if wrong:
        raise TfstyleError(f"--{wrong[0].replace('_', '-')} is not a setting of a {family} "
                           "model")
    return {n: getattr(args, n) for n in known if getattr(args, n) is not None}


def run(args):
    from tfstyle.cli.common import import_tensorflow, quietly
    from tfstyle.converters.api import fit
    from tfstyle.converters.run import Run
    from tfstyle.datasets import TFDS
    from tfstyle.errors import TfstyleError

    for name in ("steps", "checkpoint_every", "log_every"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise TfstyleError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.max_minutes is not None and not args.max_minutes > 0:
        raise TfstyleError(f"--max-minutes must be positive, got {args.max_minutes}")
    if args.tpu and args.strategy != "tpu":
        raise TfstyleError("--tpu goes with --strategy tpu")
    run_ = Run(args.run_dir)
    if run_.exists():
        family = run_.load_config()[1]["family"]
    else:   # a harmonic or vocoder preset says which model it is
        family = args.model or next((name for name, presets in FAMILY_PRESETS.items()
                                     if args.preset in presets), "melgan-vc")
    if args.preset and args.preset not in FAMILY_PRESETS[family]:
        raise TfstyleError(f"--preset {args.preset} is not a preset of a {family} model")
    if not run_.exists() and not args.b:
        raise TfstyleError("a new run needs --b (the target domain)")
    settings = family_settings(args, family)
    if args.strategy == "default" and any(spec and spec.startswith(TFDS)
                                          for spec in (args.a, args.b)):
        import_tensorflow()   # TFDS loads it while reading the domains; keep its log quiet
    fit(args.a, args.b, args.run_dir, model=args.model or family, preset=args.preset,
        steps=args.steps, max_minutes=args.max_minutes, checkpoint_every=args.checkpoint_every,
        log_every=args.log_every, progress=not args.quiet, log=sys.stderr,
        start_tensorflow=quietly, strategy=args.strategy, tpu=args.tpu, shard=args.shard,
        **settings)
