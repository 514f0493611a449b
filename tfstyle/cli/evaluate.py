"""`tfstyle evaluate OUTPUT --content C [--style S] [--reference R]`: objective measures."""
import argparse
import json

from tfstyle.metrics import MEASURES

EPILOG = "measures (what each compares the output with; units; which way is better):\n" + \
    "\n".join(f"  {name:22s} {m.against:9s} {m.unit:5s} {m.better:6s} {m.what}"
              for name, m in MEASURES.items()) + """

Given --content, the content measures are computed; --style and --reference add theirs. Signals
are compared over the shorter length; reference measures assume time alignment.

examples:
  tfstyle evaluate out.wav --content examples/piano_melody.wav --style examples/violin_phrase.wav
  tfstyle evaluate converted.wav --content piano.wav --reference violin_same_melody.wav --json
  tfstyle evaluate out.wav --content a.wav --style b.wav --baselines   # is it beating EQ?"""


def add_parser(commands):
    p = commands.add_parser(
        "evaluate", help="objective measures of a result: pitch kept, timbre reached",
        description="Measure an output against the content it came from, the style it was "
                    "asked to take, and (where known) the true target. See tfstyle.metrics.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("output", metavar="OUTPUT", help="the audio to judge")
    p.add_argument("--content", required=True, metavar="C",
                   help="the input whose melody, pitch and dynamics should be kept")
    p.add_argument("--style", metavar="S", help="the audio whose timbre was asked for")
    p.add_argument("--reference", metavar="R",
                   help="the true target (e.g. the same melody on the target instrument)")
    p.add_argument("--sr", type=int, default=22050,
                   help="analysis sample rate in Hz; every file is resampled to it "
                        "(default: %(default)s)")
    p.add_argument("--baselines", action="store_true",
                   help="also score the baselines any method must beat (needs --style): the "
                        "content unchanged (identity) and the content equalised to the style's "
                        "long-term spectrum (envelope), as columns beside the output")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def run(args):
    from tfstyle import audio, metrics
    from tfstyle.errors import TfstyleError

    if args.sr < 8000:
        raise TfstyleError(f"--sr must be at least 8000, got {args.sr}")
    output = audio.load(args.output, args.sr, min_samples=metrics.N_FFT)
    others = {k: audio.load(getattr(args, k), args.sr, min_samples=metrics.N_FFT)
              for k in ("content", "style", "reference") if getattr(args, k)}
    if args.baselines and "style" not in others:
        raise TfstyleError("--baselines needs --style (the envelope baseline matches it)")
    columns = {"output": metrics.evaluate(output, args.sr, **others)}
    if args.baselines:
        from tfstyle import baselines

        columns.update(baselines.scores(args.sr, **others))
    values = columns["output"]
    if args.json:
        print(json.dumps({
            "output": args.output, "sr": args.sr,
            **{k: getattr(args, k) for k in ("content", "style", "reference")},
            "metrics": values,
            **({"baselines": {k: v for k, v in columns.items() if k != "output"}}
               if args.baselines else {}),
            "measures": {name: {"against": MEASURES[name].against, "unit": MEASURES[name].unit,
                                "better": MEASURES[name].better} for name in values},
        }, indent=2))
        return
    print(f"{'measure':22s} " + " ".join(f"{c:>9s}" for c in columns)
          + f"  {'unit':5s} {'better':6s} against")
    for name in values:
        m = MEASURES[name]
        print(f"{name:22s} " + " ".join(f"{columns[c][name]:9.3f}" for c in columns)
              + f"  {m.unit:5s} {m.better:6s} {m.against}")
