"""`tfstyle export RUN|--model NAME` and `tfstyle info EXPORT`: deployable models and what they expect."""
import argparse
import json
import sys

from tfstyle.converters.serving import FORMATS, QUANTIZE

EPILOG = """The SavedModel goes to OUT/NAME/VERSION/ (TF Serving's layout; VERSION is the next free
number unless given) with signatures serving_default (WAV bytes in and out) and waveform (float
samples at the model's rate), and for MelGAN-VC mel. TFLite files have builtin ops only.
MelGAN-VC: OUT/NAME_generator_QUANT.tflite converts one generator slice;
OUT/NAME_waveform_QUANT.tflite (power-of-two n_fft only, e.g. the music-22k preset) converts a
block of audio end to end. Harmonic: OUT/NAME_harmonic_QUANT.tflite renders a block of frames
of pitch and loudness to audio, carrying its state from block to block; export/tflite_runner.py
analyses the input and runs it over a file of any length. Each has a .json beside it with the
settings and its measured error. MelGAN-VC through a vocoder (--vocoder; by default the one
shipped for the model's mel where it measured better than Griffin-Lim): the SavedModel's
serving_default and waveform use it instead of Griffin-Lim, and
OUT/NAME_vocoder_QUANT.tflite vocodes a block of mel frames (128 kept, and its receptive field
of context on each side; the .json gives both). --prior: the SavedModel's serving_default and
waveform take a style clip beside each content (style_bytes, style) and do one-shot transfer
on-graph (the style's embedding and pitch and loudness profile, no adaptation); embed gives a
style's embedding; OUT/NAME_prior_QUANT.tflite has analyse, embed and render.

examples:
  tfstyle export runs/p2v --out models/
  tfstyle export runs/p2v --format tflite --quantize float16 int8 --out phone/
  tfstyle export --model piano-violin --out models/
  tfstyle export runs/p2v --vocoder runs/vocoder --out models/
  tfstyle export --model violin --out models/ --name violin
  tfstyle export --style cello1.wav cello2.wav --format tflite --out phone/ --name cello
  tfstyle export --prior --out phone/     # then: tflite_runner.py ... --style cello.wav
  tfstyle export --prior --format saved_model --out models/ --name one_shot
  tfstyle info models/tfstyle"""


def add_parser(commands):
    p = commands.add_parser(
        "export", help="export a trained run or shipped model to SavedModel (TF Serving) and "
                       "TFLite",
        description="Export the converter of a 'tfstyle fit' run (or a shipped one) for "
                    "serving and devices.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from tfstyle.pretrained import MODELS

    p.add_argument("run_dir", metavar="RUN", nargs="?", default=None,
                   help="the run directory of 'tfstyle fit' (or give --model)")
    p.add_argument("--model", choices=list(MODELS), default=None,
                   help="export a converter that ships with tfstyle instead of a run")
    p.add_argument("--style", nargs="+", metavar="CLIP", default=None,
                   help="instead of a run or --model: the shipped timbre prior as a one-shot "
                        "harmonic converter of the instrument these audio files play (its "
                        "embedding and pitch and loudness range stored in the model; nothing "
                        "is trained), e.g. for a phone app")
    p.add_argument("--prior", action="store_true",
                   help="instead of a run, --model or --style: the shipped timbre prior with "
                        "its encoder: a SavedModel whose signatures take a style clip beside "
                        "the content, and TFLite (signatures analyse, embed, render), with "
                        "which export/tflite_runner.py MODEL IN OUT --style CLIP does one-shot "
                        "transfer on a device")
    p.add_argument("--format", choices=FORMATS, default="all", help="what to write (default: all)")
    p.add_argument("--out", default="export", metavar="DIR",
                   help="output folder (default: ./export)")
    p.add_argument("--quantize", choices=QUANTIZE, nargs="+", default=["none"],
                   help="TFLite weights: float32 (none), float16 or dynamic-range int8; several "
                        "may be given (default: none)")
    p.add_argument("--name", default="tfstyle", help="model name in the serving layout")
    p.add_argument("--version", type=int, default=None, help="model version (default: next)")
    p.add_argument("--gl-iters", type=int, default=64,
                   help="MelGAN-VC: Griffin-Lim iterations inside the waveform signatures "
                        "(default: 64)")
    p.add_argument("--vocoder", metavar="NAME|RUN", default=None,
                   help="MelGAN-VC: what the SavedModel's waveform signatures turn the mel "
                        "into sound with, also written as a TFLite model: wavenet (the vocoder "
                        "shipped for the model's mel), griffin-lim, or a 'tfstyle fit --model "
                        "vocoder' run on the same mel front end. Default: as tfstyle convert "
                        "(wavenet where one ships for the mel and measured better)")
    p.set_defaults(run=run)

    i = commands.add_parser("info", help="show what an exported model expects",
                            description="Print the metadata of a SavedModel export folder or a "
                                        "TFLite file written by 'tfstyle export'.")
    i.add_argument("path", metavar="EXPORT", help="OUT/NAME, OUT/NAME/VERSION or a .tflite file")
    i.set_defaults(run=show)


def run(args):
    from tfstyle.cli.common import import_tensorflow
    from tfstyle.errors import TfstyleError
    from tfstyle.converters.api import check_converter

    if args.version is not None and args.version < 1 or args.gl_iters < 0:
        raise TfstyleError("--version must be positive and --gl-iters zero or more")
    if sum(map(bool, (args.run_dir or args.model, args.style, args.prior))) > 1:
        raise TfstyleError("give one of: a run directory, --model NAME, --style CLIP... or "
                           "--prior")
    if args.style:
        from tfstyle import audio
        for path in args.style:   # bad files are reported before TensorFlow loads
            audio.stream(path, 22050)
    if args.vocoder and (args.style or args.prior):
        raise TfstyleError("--vocoder goes with a MelGAN-VC run or model")
    vocoder = None
    if not args.style and not args.prior:
        from tfstyle.converters.api import choose_vocoder

        family, config, _ = check_converter(args.run_dir, args.model)
        vocoder = choose_vocoder(args.vocoder, family, config)
    import_tensorflow()
    from tfstyle.converters.api import export

    export(args.run_dir, args.out, args.format, args.quantize, args.name, args.version,
           args.gl_iters, log=sys.stderr, model=args.model, style=args.style,
           prior=args.prior, vocoder=vocoder)


def show(args):
    from tfstyle.converters.serving import info

    print(json.dumps(info(args.path), indent=2))
