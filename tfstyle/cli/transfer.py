"""`tfstyle transfer CONTENT STYLE... -o OUT`: timbre transfer of audio files, by harmonic
synthesis or by optimisation."""
import argparse
import sys

import numpy as np

from tfstyle import dispatch, presets
from tfstyle.presets import PRESETS
from tfstyle.settings import add_arguments, given
from tfstyle.optimisation.transfer import TransferConfig

EPILOG = """examples:
  tfstyle transfer examples/piano_melody.wav examples/violin_phrase.wav -o out.wav --plot out.png
  tfstyle transfer melody.wav violin1.wav violin2.wav -o out.wav --method harmonic
  tfstyle transfer melody.wav violin.wav -o out.wav --preset harmonic-scratch   # no prior
  tfstyle transfer chords.wav violin.wav -o out.wav       # chords: optimisation, chosen
  tfstyle transfer voice.flac cello.wav -o voice_cello.wav --style-weight 100 --steps 500
  tfstyle transfer a.wav b.wav -o out.wav --preset ulyanov2016
  tfstyle transfer a.wav b.wav -o out.wav --preset vgg19 --weights vgg19_notop.h5
  tfstyle transfer a.wav b.wav -o out.wav --preset vit --random-weights
  tfstyle transfer a.wav b.wav -o out.wav --preset vgg19 --vocoder runs/vocoder22k

Inputs may be WAV, FLAC, OGG or MP3 of any length, rate and channel count (mixed to mono and
resampled to --sr). The output has the content's duration. Errors exit with code 2."""


def add_parser(commands):
    p = commands.add_parser(
        "transfer", help="render the content of one clip with the timbre of another",
        description="Timbre transfer. With no --method (auto), both clips are analysed and "
                    "the harmonic method runs where both are single melodic lines, else "
                    "random-cnn; the first line says which and why. --method harmonic: a "
                    "harmonic-plus-noise synthesiser, from a timbre prior trained on many "
                    "instruments (--start prior) or fitted on the STYLE from scratch, driven "
                    "by the CONTENT's pitch and loudness "
                    "(monophonic melodies). Optimisation transfer (--method random-cnn, "
                    "cnn2d, vgg19, resnet50, vit, nsynth): a representation of the output "
                    "(log1p STFT, mel dB or MFCC) is optimised so that a frozen feature "
                    "network keeps the CONTENT's activations and takes on the STYLE's "
                    "statistics; Griffin-Lim recovers the phase, or a trained vocoder "
                    "(--vocoder) turns the result into sound. Everything runs offline.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("content", metavar="CONTENT", help="audio whose melody or words are kept")
    p.add_argument("style", metavar="STYLE", nargs="+",
                   help="audio whose timbre is imposed; several files are used together "
                        "(the harmonic method fits on all of them)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output audio file (.wav, .flac, .ogg or .mp3); written atomically, "
                        "so an existing file is replaced only once the new one is complete")
    p.add_argument("--plot", metavar="PNG",
                   help="also save a picture of the content, style and output spectrograms "
                        "(of a long clip, its first minute)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--preset", default="default", choices=list(PRESETS),
                   help="named recipe (see 'tfstyle presets'); the settings below override it. "
                        "A --method without --preset starts from that method's recipe "
                        "(default: %(default)s)")
    settings = p.add_argument_group(
        "settings", "each defaults to the preset's value; shown are tfstyle's defaults")
    add_arguments(settings, TransferConfig)
    # Its outputs are written atomically and closed when run returns.
    p.set_defaults(run=run, exit_now=True)


def run(args):
    from tfstyle import audio
    from tfstyle.cli.common import import_tensorflow

    config = presets.config(args.preset, **given(args, TransferConfig)).validate()
    audio.check_writable(args.output)
    if args.plot:
        from tfstyle import plotting
        plotting.check_writable(args.plot)
    dispatch.check_files(config)
    # Bad input is reported before TensorFlow's import: the content's header here, its
    # samples as they are read.
    audio.stream(args.content, config.sr, min_samples=config.min_samples())
    style = np.concatenate([audio.load(path, config.sr, min_samples=config.min_samples())
                            for path in args.style])

    import_tensorflow()
    result = dispatch.run_to_file(args.content, style, args.output, config,
                                  progress=not args.quiet,
                                  say=None if args.quiet else
                                  lambda line: print(line, file=sys.stderr))
    if not args.quiet:
        for line in result.warnings:
            print(line, file=sys.stderr)
    if args.plot:
        from tfstyle import plotting
        head = plotting.MAX_SECONDS
        clips = [("content", audio.load(args.content, config.sr, max_seconds=head)),
                 ("style", style),
                 ("output", audio.load(args.output, config.sr, max_seconds=head))]
        plotting.save_spectrograms(args.plot, clips, config.sr)
    if not args.quiet:
        start, end = result.initial_losses, result.losses
        print("weighted losses (start -> end): " + ", ".join(
            f"{k} {start[k]:.4g} -> {end[k]:.4g}" for k in end)
            + f" ({result.seconds:.1f} s)", file=sys.stderr)
        print(f"stopped after {result.steps} of at most {result.max_steps} steps: "
              f"{result.stop_reason}"
              + result.moved()
              + (f"; {result.precision} products (--precision)" if result.precision else ""),
              file=sys.stderr)
        print(f"wrote {args.output} ({result.samples / result.sr:.2f} s at {result.sr} Hz)"
              + (f" and {args.plot}" if args.plot else ""), file=sys.stderr)
