"""Where one-shot harmonic transfer's remaining distance lies: the performance it plays (the
content's pitch and loudness, moved onto the style's instrument) swapped, part by part, for the
true rendering's own, on held-out pairs.

    python bench/harmonic_controls.py [--kind generator] [--clips 4]

For each pair (bench/pairs.py: content on the first instrument, style on the second, the truth:
the content's melody on the second), `tfstyle transfer --method harmonic` as the README runs it,
then the same transfer with the performance's loudness (and its silence gate), its pitch, or
both, taken from the truth's analysis instead (tfstyle.harmonic.controls.analyse). With both,
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
SWAPS = {"as shipped (the content's performance)": (),
         "the content's notes held at their peak (a sketch)": ("held",),
         "the truth's loudness": ("loudness",),
         "the truth's pitch": ("f0",),
         "the truth's loudness and pitch": ("loudness", "f0")}


def held_notes(controls, loudness, drop_db=20.0):
    """A sketch of a performance model: `loudness` (the content's, at the style's level) held
    at each note's peak from its onset until the content falls `drop_db` below that peak (a
    note-off); a note starts where the pitch moves by over half a semitone or the loudness
    rises by over 3 dB in a frame."""
    semitone = 12 * np.log2(np.maximum(controls.f0, 1.0))
    onset = np.zeros(len(loudness), bool)
    onset[1:] = (np.abs(np.diff(semitone)) > 0.5) | (np.diff(controls.loudness) > 3.0)
    held, peak = loudness.copy(), -np.inf
    for t in range(len(loudness)):
        peak = loudness[t] if onset[t] else max(peak, loudness[t])
        if controls.loudness[t] > controls.loudness[max(t - 1, 0)] - drop_db and \
                loudness[t] > peak - drop_db:
            held[t] = peak
    return held.astype(np.float32)


def transfer_with(content, style, truth, swap):
    """The README's harmonic transfer, with `swap` parts of its performance the truth's."""
    from tfstyle import presets
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic import one_shot, performance

    config = presets.config(method="harmonic", sr=SR)
    original = one_shot.perform

    def perform(content_controls, style_controls, *args, **kwargs):
        played, gates, shift = original(content_controls, style_controls, *args, **kwargs)
        if not swap:
            return played, gates, shift
        if swap == ("held",):
            return dataclasses.replace(played, loudness=held_notes(
                content_controls, played.loudness)), gates, shift
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
