"""Every method on the timbre_pairs benchmark: baselines, each NST preset, and MelGAN-VC.

    python bench/compare_methods.py                    # everything (3 test melodies each)
    python bench/compare_methods.py --methods identity envelope piano-violin --clips 40

Content = a test melody on piano, style = another test melody on violin, reference = the same
melody on violin (timbre_pairs/piano_violin, built here by fluidsynth if needed). NST presets run
as published (their own steps), backbones with random weights since no pretrained files are
here. MelGAN-VC is the converter that ships with tfstyle (`--model piano-violin`), which never
saw these melodies. Results are kept in docs/compare_methods.json, so running a subset updates
those rows; the table in docs/benchmarks.md is rebuilt from all of them.
"""
import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pairs
from report import DOC, table, write_section
from tfstyle import baselines, datasets, metrics, presets, pretrained, style_transfer

STORE = os.path.join(os.path.dirname(DOC), "compare_methods.json")
COLUMNS = ["mel_distance", "chroma_correlation", "f0_agreement", "loudness_difference",
           "style_distance", "longterm_mel_distance"]


def methods(sr):
    out = {name: (lambda name: lambda c, s: baselines.run(name, c, s, sr))(name)
           for name in baselines.BASELINES}
    for name in presets.PRESETS:
        config = presets.config(name, random_weights=True, sr=sr)
        out[name] = (lambda config: lambda c, s: style_transfer.transfer(
            c, s, config=config))(config)

    def melgan(name):
        state = {}

        def convert(c, s):
            from tfstyle.melgan_vc.convert import convert_audio

            if not state:
                state["model"] = pretrained.generator(name)
            generator, config = state["model"]
            return convert_audio(generator, c, config)
        return convert

    out.update({name: melgan(name) for name in pretrained.MODELS})
    return out


def kind(name):
    if name in baselines.BASELINES:
        return "baseline"
    return "MelGAN-VC (shipped)" if name in pretrained.MODELS else "NST preset"


def main():
    sr = 22050
    every = methods(sr)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", choices=list(every), default=list(every))
    parser.add_argument("--clips", type=int, default=3, help="test melodies per method")
    args = parser.parse_args()

    datasets.build("timbre_pairs/piano_violin")
    triples = pairs.triples("piano_violin", "test", limit=args.clips, sr=sr)
    stored = json.load(open(STORE)) if os.path.exists(STORE) else {}
    for name in args.methods:
        print(f"{name} ...", flush=True)
        stored[name] = {**pairs.score(every[name], triples, sr, only=COLUMNS),
                        "clips": len(triples)}
        with open(STORE + ".tmp", "w") as f:
            json.dump(stored, f, indent=2)
        os.replace(STORE + ".tmp", STORE)

    units = {c: f"{c.replace('_', ' ')} ({metrics.MEASURES[c].unit}, "
                f"{metrics.MEASURES[c].better})" for c in COLUMNS}
    rows = [[name, kind(name), *(f"{r[c]:.3f}" if "correlation" in c or c == "f0_agreement"
                                 or c == "style_distance" else f"{r[c]:.2f}" for c in COLUMNS),
             f"{r['seconds']:.1f}", r["clips"]]
            for name, r in stored.items() if name in every]
    body = ("timbre_pairs/piano_violin test split: content = a melody on piano, style = another "
            "melody on violin, reference = the same melody on violin (4 s clips, 22.05 kHz). "
            "Mel distance is to the reference, chroma, f0 and loudness are against the content, "
            "style and long-term distances against the style (definitions: `tfstyle.metrics`). "
            "NST backbones run with random weights (no pretrained files here). Seconds are "
            "per clip on this machine.\n\n")
    body += table(["method", "kind", *units.values(), "s / clip", "clips"], rows)
    clips = sorted({r["clips"] for r in stored.values()})
    write_section("compare_methods", "Method comparison on timbre_pairs", body,
                  command=f"python bench/compare_methods.py --clips {clips[-1]}")


if __name__ == "__main__":
    main()
