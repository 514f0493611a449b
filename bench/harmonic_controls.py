"""Where one-shot harmonic transfer's remaining distance lies: the performance it plays (the
content's pitch and loudness, moved onto the style's instrument) swapped, part by part, for the
true rendering's own, on held-out pairs.

    python bench/harmonic_controls.py [--kind generator] [--clips 4]

For each pair (bench/pairs.py: content on the first instrument, style on the second, the truth:
the content's melody on the second), `tfstyle transfer --method harmonic` as the README runs it
(its loudness the learned mapping's contour), the same with the content's own contour
(`--loudness offset`), then with the performance's loudness (and its silence gate), its pitch,
or both, taken from the truth's analysis instead (tfstyle.harmonic.controls.analyse). With both,
what is left is the synthesiser's timbre: how near the prior, told the style, plays the truth's
own performance. Mean mel distance to the truth as a ratio to identity's, as
bench/compare_methods.py reports it.
"""
import argparse
import dataclasses
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pairs  # noqa: E402
from report import table, write_section  # noqa: E402

SR = 22050
SWAPS = {"as shipped (the learned loudness mapping's contour)": (),
         "the content's own contour at the style's level (--loudness offset)": ("offset",),
         "the truth's loudness": ("loudness",),
         "the truth's pitch": ("f0",),
         "the truth's loudness and pitch": ("loudness", "f0")}


def transfer_with(content, style, truth, swap):
    """The README's harmonic transfer, with `swap` parts of its performance the truth's."""
    from tfstyle import presets
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic import one_shot, performance

    config = presets.config(method="harmonic", sr=SR)
    if swap == ("offset",):
        return one_shot.run(content, style, dataclasses.replace(config, loudness="offset")).audio
    original = one_shot.perform

    def perform(content_controls, style_controls, *args, **kwargs):
        played, gates, shift = original(content_controls, style_controls, *args, **kwargs)
        if not swap:
            return played, gates, shift
        own = ctl.analyse(truth, SR, config.hop_length)
        frames = len(played.f0)
        fit = lambda v: np.resize(np.asarray(v), frames) if len(v) != frames else v
        changes = {name: fit(getattr(own, name)).astype(np.float32) for name in swap}
        if "f0" in swap:
            changes["voiced"] = fit(own.voiced)
        if "loudness" in swap:
            gates = fit(performance.gate(own)).astype(np.float32)
        return dataclasses.replace(played, **changes), gates, shift

    one_shot.perform = perform
    try:
        return one_shot.run(content, style, config).audio
    finally:
        one_shot.perform = original


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", default="generator", choices=tuple(pairs.KINDS))
    parser.add_argument("--clips", type=int, default=4)
    args = parser.parse_args()
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    from tfstyle import metrics

    ratios = {name: {} for name in SWAPS}
    for a, b in pairs.PAIRS:
        triples = pairs.heldout_triples(a, b, args.kind, count=args.clips, sr=SR)
        identity = [metrics.mel_distance(t.content, t.reference, SR) for t in triples]
        for name, swap in SWAPS.items():
            distances = [metrics.mel_distance(
                transfer_with(t.content, t.style, t.reference, swap), t.reference, SR)
                for t in triples]
            ratios[name][f"{a}→{b}"] = float(np.mean(distances) / np.mean(identity))
            print(name, a, b, f"{ratios[name][f'{a}→{b}']:.2f}", flush=True)
    names = [f"{a}→{b}" for a, b in pairs.PAIRS]
    rows = [[name] + [f"{by_pair[p]:.2f}×" for p in names]
            + [f"{np.mean(list(by_pair.values())):.2f}×"] for name, by_pair in ratios.items()]
    body = (f"Kind: {args.kind} ({pairs.KINDS[args.kind]}); {args.clips} clips per pair; "
            f"`--method harmonic` with the harmonic preset (the timbre prior, adapted to the "
            f"style), its performance as played or with parts of the truth's; mean mel "
            f"distance to the truth as a ratio to identity's (lower is better).\n\n")
    body += table(["performance"] + names + ["mean"], rows)
    write_section(f"harmonic_controls_{args.kind}", "One-shot harmonic transfer: performance "
                  f"or timbre ({args.kind})", body)


if __name__ == "__main__":
    main()
