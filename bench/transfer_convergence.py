"""Where the optimisation transfer stops, and what stopping early costs in quality and saves in
time (the `--tol` default is chosen here).

    python bench/transfer_convergence.py [--tols 1e-3 2e-3 5e-3] [--clips 1]

On the bundled example and on timbre_pairs test melodies of three instrument pairs, the default
optimisation (random 1-D CNN, Adam) runs to `--steps 300` without early stopping twice, with two
seeds (the run-to-run noise of each measure), then with each tolerance. A tolerance is fine when
its chroma correlation and mel distance differ from the full run's by no more than the two full
runs differ from each other. Times are ratios to the full run on the same clip in the same run.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import pairs
from report import load_examples, table, write_section
from tfstyle import metrics, presets
from tfstyle.optimisation import transfer as style_transfer

MEASURES = ("mel_distance", "chroma_correlation")


def clips(per_pair):
    example = pairs.Triple(-1, load_examples("piano_melody"), load_examples("violin_phrase"),
                           None)
    out = [("bundled example", example)]
    for a, b in pairs.PAIRS:
        out += [(f"{a}→{b} #{t.melody}", t)
                for t in pairs.heldout_triples(a, b, "test", count=per_pair)]
    return out


def run(triple, sr, **settings):
    config = presets.config("default", sr=sr, **settings)
    result = style_transfer.run(triple.content, triple.style, config=config)
    reference = triple.reference if triple.reference is not None else triple.style
    scores = metrics.evaluate(result.audio, sr, content=triple.content,
                              reference=reference, only=MEASURES)
    return {**scores, "seconds": result.seconds, "steps": result.steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-3, 2e-3, 5e-3])
    parser.add_argument("--clips", type=int, default=1, help="test melodies per pair")
    args = parser.parse_args()
    sr = 22050
    rows, noise, shifts, ratios, steps = [], {m: [] for m in MEASURES}, {}, {}, {}
    for name, triple in clips(args.clips):
        print(name, flush=True)
        full = run(triple, sr, tol=0.0)
        other = run(triple, sr, tol=0.0, seed=1)
        for m in MEASURES:
            noise[m].append(abs(full[m] - other[m]))
        rows.append([name, "300 steps (seed 0)", 300, f"{full['mel_distance']:.2f}",
                     f"{full['chroma_correlation']:.3f}", "1.00"])
        rows.append([name, "300 steps (seed 1)", 300, f"{other['mel_distance']:.2f}",
                     f"{other['chroma_correlation']:.3f}",
                     f"{other['seconds'] / full['seconds']:.2f}"])
        for tol in args.tols:
            early = run(triple, sr, tol=tol)
            for m in MEASURES:
                shifts.setdefault(tol, {m: [] for m in MEASURES})[m].append(
                    abs(early[m] - full[m]))
            ratios.setdefault(tol, []).append(early["seconds"] / full["seconds"])
            steps.setdefault(tol, []).append(early["steps"])
            rows.append([name, f"--tol {tol:g}", early["steps"],
                         f"{early['mel_distance']:.2f}", f"{early['chroma_correlation']:.3f}",
                         f"{early['seconds'] / full['seconds']:.2f}"])
    summary = [["run-to-run (seed 0 vs 1, 300 steps)", "300",
                f"{np.mean(noise['mel_distance']):.3f}",
                f"{np.mean(noise['chroma_correlation']):.4f}", "1.00"]]
    for tol in args.tols:
        summary.append([f"--tol {tol:g} vs 300 steps", f"{np.mean(steps[tol]):.0f}",
                        f"{np.mean(shifts[tol]['mel_distance']):.3f}",
                        f"{np.mean(shifts[tol]['chroma_correlation']):.4f}",
                        f"{np.mean(ratios[tol]):.2f}"])
    body = ("Default optimisation transfer (random 1-D CNN, Adam, window of 20 steps for "
            "`--tol`). Mel distance is to the true rendering (to the style for the bundled "
            "example, which has none), chroma with the content. Optimisation seconds are "
            "ratios to the 300-step run of the same clip.\n\n"
            "Mean absolute change of each measure against the 300-step run, beside the "
            "run-to-run noise (two seeds, 300 steps each):\n\n")
    body += table(["comparison", "steps (mean)", "|Δ mel distance| (dB)", "|Δ chroma|",
                   "time ratio"], summary)
    body += "\n\nPer clip:\n\n" + table(["clip", "run", "steps", "mel distance (dB)",
                                         "chroma", "time ratio"], rows)
    write_section("transfer_convergence", "Optimisation transfer: stopping at convergence",
                  body)


if __name__ == "__main__":
    main()
