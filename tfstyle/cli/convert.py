"""`tfstyle convert RUN INPUT... -o OUT`: convert audio with a trained MelGAN-VC run."""
import argparse
import sys

from tfstyle.errors import TfstyleError
from tfstyle.melgan_vc.api import check_converter, plan_jobs
from tfstyle.melgan_vc.convert import INVERSIONS

EPILOG = """OUT is a file when one INPUT file is given and OUT has an audio extension; otherwise a
folder, where each input keeps its name (and folders their tree) with the --format extension.

examples:
  tfstyle convert runs/p2v take1.wav -o take1_violin.wav
  tfstyle convert runs/p2v recordings/ 'more/*.flac' -o converted/ --skip-existing
  tfstyle convert --model piano-violin examples/piano_melody.wav -o violin.wav"""


def add_parser(commands):
    from tfstyle.pretrained import MODELS

    p = commands.add_parser(
        "convert", help="convert audio files with a trained MelGAN-VC run or a shipped model",
        usage="tfstyle convert [-h] (RUN | --model NAME) INPUT [INPUT ...] -o OUT [options]",
        description="Convert audio of any length from domain A to domain B with the generator "
                    "of a 'tfstyle fit' run, or with a converter that ships with tfstyle: "
                    "overlapping, crossfaded generator slices; Griffin-Lim (or the reference's "
                    "optimised inversion) for the phase.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", metavar="RUN INPUT", nargs="+",
                   help="the run directory of 'tfstyle fit' (left out with --model), then audio "
                        "files, folders (recursive) or quoted globs")
    p.add_argument("--model", choices=list(MODELS), default=None,
                   help="use a converter that ships with tfstyle instead of a run (piano-violin:"
                        " piano recordings played by a violin; see its model card)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or folder")
    p.add_argument("--format", choices=["wav", "flac", "ogg"], default="wav",
                   help="output format for folder outputs (default: wav)")
    p.add_argument("--sr", type=int, default=None,
                   help="output sample rate (default: the model's)")
    p.add_argument("--skip-existing", action="store_true",
                   help="leave outputs that already exist untouched")
    p.add_argument("--inversion", choices=INVERSIONS, default="griffin-lim",
                   help="phase recovery: fast Griffin-Lim, or the reference's gradient-based "
                        "inversion (much slower) (default: griffin-lim)")
    p.add_argument("--gl-iters", type=int, default=64, help="Griffin-Lim iterations (default: 64)")
    p.add_argument("--optimize-steps", type=int, default=2000,
                   help="steps of --inversion optimize (default: 2000, as the reference)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run)


def run(args):
    from tfstyle.cli import import_tensorflow

    if args.gl_iters < 0 or args.optimize_steps < 1 or (args.sr is not None and args.sr < 1):
        raise TfstyleError("--gl-iters must be >= 0, --optimize-steps and --sr positive")
    run_dir, inputs = (None, args.paths) if args.model else (args.paths[0], args.paths[1:])
    if not inputs:
        raise TfstyleError("no INPUT given (the first path is the run directory; use --model "
                           "NAME for a shipped converter)")
    check_converter(run_dir, args.model)   # a missing run fails before TensorFlow loads
    jobs = plan_jobs(inputs, args.output, args.format)
    import_tensorflow()
    from tfstyle.melgan_vc.api import convert

    convert(run_dir, jobs=jobs, sr=args.sr, skip_existing=args.skip_existing,
            inversion=args.inversion, gl_iters=args.gl_iters, model=args.model,
            optimize_steps=args.optimize_steps, progress=not args.quiet, log=sys.stderr)
