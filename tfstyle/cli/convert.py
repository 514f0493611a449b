"""`tfstyle convert RUN INPUT... -o OUT`: convert audio with a trained run or a shipped model."""
import argparse
import sys

from tfstyle.converters.api import check_converter, plan_jobs
from tfstyle.converters.melgan_vc.convert import INVERSIONS
from tfstyle.errors import TfstyleError
from tfstyle.harmonic.performance import LOUDNESS, NO_DYNAMICS

EPILOG = """OUT is a file when one INPUT file is given and OUT has an audio extension; otherwise a
folder, where each input keeps its name (and folders their tree) with the --format extension.

examples:
  tfstyle convert runs/p2v take1.wav -o take1_violin.wav
  tfstyle convert runs/p2v recordings/ 'more/*.flac' -o converted/ --skip-existing
  tfstyle convert --model violin examples/piano_melody.wav -o violin.wav
  tfstyle convert --model piano-violin examples/piano_melody.wav -o violin.wav
  tfstyle convert runs/flute voice.wav -o voice_flute.wav --transpose 12"""


def add_parser(commands):
    from tfstyle.pretrained import MODELS

    p = commands.add_parser(
        "convert", help="convert audio files with a trained run or a shipped model",
        usage="tfstyle convert [-h] (RUN | --model NAME) INPUT [INPUT ...] -o OUT [options]",
        description="Convert audio of any length with a 'tfstyle fit' run or a converter that "
                    "ships with tfstyle, read, converted and written in blocks. Harmonic "
                    "models (violin, flute, trumpet) play the input's melody, its pitch and "
                    "loudness moved into the instrument's range, on the instrument they "
                    "learned; MelGAN-VC models (piano-violin) convert domain A to domain B "
                    "with overlapping, crossfaded generator slices and Griffin-Lim (or the "
                    "reference's optimised inversion) for the phase.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", metavar="RUN INPUT", nargs="+",
                   help="the run directory of 'tfstyle fit' (left out with --model), then audio "
                        "files, folders (recursive) or quoted globs")
    p.add_argument("--model", choices=list(MODELS), default=None,
                   help="use a converter that ships with tfstyle instead of a run: violin, "
                        "flute, trumpet (harmonic: any monophonic melody played by that "
                        "instrument); piano-violin (MelGAN-VC: piano recordings to violin); see "
                        "each model card in tfstyle/pretrained/")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or folder")
    p.add_argument("--format", choices=["wav", "flac", "ogg"], default="wav",
                   help="output format for folder outputs (default: wav)")
    p.add_argument("--sr", type=int, default=None,
                   help="output sample rate (default: the model's)")
    p.add_argument("--skip-existing", action="store_true",
                   help="leave outputs that already exist untouched")
    p.add_argument("--transpose", default=None, metavar="SEMITONES",
                   help="harmonic models: semitones to move the input's pitch by, or auto: "
                        "whole octaves into the instrument's range, and its tuning where the "
                        "model measured one (default: the model's, auto)")
    p.add_argument("--loudness", choices=list(LOUDNESS), default=None,
                   help="harmonic models: learned gives the input's notes the loudness "
                        "contour the instrument would (a swell, a sustain, a release), by the "
                        "model's learned mapping (the shipped violin, flute and trumpet have "
                        "one; their default); offset keeps the input's dynamics and moves its "
                        "level onto the instrument's (the default of your own runs); quantile "
                        "matches each note's decay and the loudness distribution to the "
                        "instrument's")
    p.add_argument("--inversion", choices=INVERSIONS, default=None,
                   help="MelGAN-VC models without a vocoder: phase recovery, fast Griffin-Lim "
                        "or the reference's gradient-based inversion (much slower) (default: "
                        "griffin-lim); giving it turns the default vocoder off")
    p.add_argument("--vocoder", metavar="NAME|RUN", default=None,
                   help="MelGAN-VC models: what turns the converted mel into sound: wavenet "
                        "(the vocoder shipped for the model's mel), griffin-lim (--inversion), "
                        "or a vocoder run ('tfstyle fit --model vocoder' on the same mel front "
                        "end). Default: wavenet where a vocoder ships for the model's mel and "
                        "measured better than Griffin-Lim (today MelGAN-VC's reference mel, "
                        "not yet piano-violin's), else griffin-lim")
    p.add_argument("--gl-iters", type=int, default=64,
                   help="MelGAN-VC models: Griffin-Lim iterations (default: 64)")
    p.add_argument("--optimize-steps", type=int, default=2000,
                   help="MelGAN-VC models: steps of --inversion optimize (default: 2000, as "
                        "the reference)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    # Its outputs are written atomically and closed when run returns.
    p.set_defaults(run=run, exit_now=True)


def run(args):
    from tfstyle.cli.common import import_tensorflow

    if args.gl_iters < 0 or args.optimize_steps < 1 or (args.sr is not None and args.sr < 1):
        raise TfstyleError("--gl-iters must be >= 0, --optimize-steps and --sr positive")
    run_dir, inputs = (None, args.paths) if args.model else (args.paths[0], args.paths[1:])
    if not inputs:
        raise TfstyleError("no INPUT given (the first path is the run directory; use --model "
                           "NAME for a shipped converter)")
    # A missing run or a bad option fails before TensorFlow loads.
    family, config, record = check_converter(run_dir, args.model)
    options = dict(inversion=args.inversion or "griffin-lim", gl_iters=args.gl_iters,
                   optimize_steps=args.optimize_steps)
    for name in ("transpose", "loudness"):
        value = getattr(args, name)
        if value is None:
            continue
        if family.NAME != "harmonic":
            raise TfstyleError(f"--{name} applies to harmonic models; this one is "
                               f"{family.NAME}")
        import dataclasses
        dataclasses.replace(config, **{name: value}).validate()
        options[name] = value
    if options.get("loudness") == "learned" and not record.get("dynamics"):
        raise TfstyleError(NO_DYNAMICS)
    from tfstyle.converters.api import GRIFFIN_LIM, choose_vocoder

    if args.vocoder and args.inversion and args.vocoder != GRIFFIN_LIM:
        raise TfstyleError("give --inversion or --vocoder, not both: a vocoder replaces the "
                           "inversion")
    vocoder = choose_vocoder(GRIFFIN_LIM if args.inversion else args.vocoder, family, config)
    if vocoder:
        options["vocoder"] = vocoder
    jobs = plan_jobs(inputs, args.output, args.format)
    import_tensorflow(pooled=True)
    from tfstyle.converters.api import convert

    convert(run_dir, jobs=jobs, sr=args.sr, skip_existing=args.skip_existing, model=args.model,
            progress=not args.quiet, log=sys.stderr, **options)
