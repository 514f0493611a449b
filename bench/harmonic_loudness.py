"""How a harmonic converter should move the input's loudness onto its instrument, measured on a
development set, not on the held-out kinds the shipped models are judged on.

    python bench/harmonic_loudness.py [--clips 6]

Development set: melodies from the varied generator (`synth.varied_melody`: tempo,
articulation and dynamics from pp to ff with crescendos and accents drawn per melody; seed 99,
which no training or held-out set uses), rendered with FluidR3_GM on each shipped converter's
two input instruments (`train_harmonic.CONTENT`) and on its own instrument (the true
rendering). Each `--loudness` mode of the shipped converters converts the inputs; the figure
is the mel distance to the true rendering as a ratio to identity's (leaving the input as it is).
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from report import table, write_section
from train_harmonic import CONTENT

SECONDS = 4.0
SEED = 99


def dev_pairs(source, target, clips, sr=22050):
    """(inputs on `source`, true renderings on `target`) of `clips` varied melodies."""
    from tfds_builders.timbre_pairs import timbre_pairs_dataset_builder as tp
    from tfstyle import synth

    low, high = tp.Config(name="dev", a=source, b=target).note_range()
    melodies = [synth.varied_melody(np.random.default_rng([SEED, i]), SECONDS, low, high)
                for i in range(clips)]
    return tuple(synth.render(melodies, tp.INSTRUMENTS[name][0], sr, SECONDS)
                 for name in (source, target))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=6, help="melodies per input instrument")
    args = parser.parse_args()
    from tfstyle import metrics
    from tfstyle.converters import api
    from tfstyle.harmonic.performance import LOUDNESS

    sr, rows = 22050, []
    for target, sources in CONTENT.items():
        converter = api.load_converter(model=target)
        for source in sources:
            inputs, truths = dev_pairs(source, target, args.clips, sr)
            identity = np.mean([metrics.mel_distance(x, t, sr) for x, t in zip(inputs, truths)])
            ratios = {}
            for mode in LOUDNESS:
                outs = [np.concatenate(list(converter.convert_blocks([x], loudness=mode)))
                        for x in inputs]
                ratios[mode] = np.mean([metrics.mel_distance(o, t, sr)
                                        for o, t in zip(outs, truths)]) / identity
            rows.append([f"{source} → {target}", f"{identity:.2f}"]
                        + [f"{ratios[m]:.3f}" for m in LOUDNESS])
            print(rows[-1], flush=True)
    means = [f"**{np.mean([float(r[2 + i]) for r in rows]):.3f}**" for i in range(len(LOUDNESS))]
    rows.append(["mean", ""] + means)
    body = (f"{args.clips} varied melodies of {SECONDS:g} s per row (seed {SEED}, FluidR3_GM); "
            "mel distance to the true rendering as a ratio to identity's, per `--loudness` "
            "mode of the shipped converters:\n\n"
            + table(["input → converter", "identity's distance (dB)"]
                    + [f"`{m}`: {LOUDNESS[m]}" for m in LOUDNESS], rows))
    write_section("harmonic_loudness", "Harmonic converters: loudness mapping (development set)",
                  body, command=f"python bench/harmonic_loudness.py --clips {args.clips}")


if __name__ == "__main__":
    main()
