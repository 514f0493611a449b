"""How a harmonic converter should move the input's loudness onto its instrument, measured on a
development set, not on the held-out kinds the shipped models are judged on.

    python bench/harmonic_loudness.py [--clips 6] [--unseen-clips 4]

Development set (`pairs.development_pairs`): melodies from the varied generator (tempo,
articulation and dynamics from pp to ff drawn per melody) with a seed that no training or
held-out set uses, rendered with FluidR3_GM on each shipped converter's two input instruments
(`train_harmonic.CONTENT`) and on its own instrument (the true rendering). Each `--loudness`
mode of the shipped converters converts the inputs; the figure is the mel distance to the true
rendering as a ratio to identity's (leaving the input as it is). Rows marked unseen have as
input General MIDI instruments that no loudness mapping was fitted on (`pairs.UNSEEN_INPUTS`):
how a learned mapping does on an instrument it never met.
Beside them, two ceilings of the same decoder: the input's pitch with the true rendering's
loudness (a perfect loudness mapping), and the true rendering's own controls (resynthesis).
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from pairs import (DEVELOPMENT_SECONDS, DEVELOPMENT_SEED, UNSEEN_INPUTS, development_pairs,
                   mean_mel_distance, unseen_input_pairs)
from report import table, write_section
from train_harmonic import CONTENT


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=6, help="melodies per input instrument")
    parser.add_argument("--unseen-clips", type=int, default=4,
                        help="melodies per instrument of pairs.UNSEEN_INPUTS (0: none)")
    args = parser.parse_args()
    from tfstyle.converters import api
    from tfstyle.harmonic.performance import LOUDNESS

    sr, rows = 22050, []
    columns = [*LOUDNESS, *CEILINGS]
    for target, sources in CONTENT.items():
        converter = api.load_converter(model=target)
        sets = {source: development_pairs(source, target, args.clips, sr) for source in sources}
        if args.unseen_clips:
            sets.update({f"{name} (unseen)": clips for name, clips in
                         unseen_input_pairs(target, args.unseen_clips, sr).items()})
        for source, (inputs, truths) in sets.items():
            identity = mean_mel_distance(inputs, truths, sr)
            outs = {mode: [np.concatenate(list(converter.convert_blocks([x], loudness=mode)))
                           for x in inputs] for mode in LOUDNESS}
            for name, controls_of in CEILINGS.items():
                # The true contour as it is, only moved to the instrument's level.
                outs[name] = [np.concatenate(list(converter.render_blocks(
                                  controls_of(x, t, converter), len(x), loudness="offset")))
                              for x, t in zip(inputs, truths)]
            ratios = {name: mean_mel_distance(out, truths, sr) / identity
                      for name, out in outs.items()}
            rows.append([f"{source} → {target}", f"{identity:.2f}"]
                        + [f"{ratios[m]:.3f}" for m in columns])
            print(rows[-1], flush=True)
    for label, chosen in (("mean", [r for r in rows if "(unseen)" not in r[0]]),
                          ("mean, unseen instruments", [r for r in rows if "(unseen)" in r[0]])):
        if chosen:
            rows.append([label, ""] + [f"**{np.mean([float(r[2 + i]) for r in chosen]):.3f}**"
                                       for i in range(len(columns))])
    body = (f"{args.clips} varied melodies of {DEVELOPMENT_SECONDS:g} s per row (seed "
            f"{DEVELOPMENT_SEED}, FluidR3_GM; rows marked unseen: {args.unseen_clips} melodies "
            "played by General MIDI instruments that no loudness mapping was fitted on, "
            f"{', '.join(UNSEEN_INPUTS)}); "
            "mel distance to the true rendering as a ratio to identity's, per `--loudness` "
            "mode of the shipped converters, and two ceilings that read the true rendering "
            "(what a perfect mapping of the input's loudness, and of all its controls, would "
            "reach with the same decoder):\n\n"
            + table(["input → converter", "identity's distance (dB)"]
                    + [f"`{m}`: {LOUDNESS[m]}" for m in LOUDNESS] + list(CEILINGS),
                    rows))
    write_section("harmonic_loudness", "Harmonic converters: loudness mapping (development set)",
                  body, command=f"python bench/harmonic_loudness.py --clips {args.clips} "
                                f"--unseen-clips {args.unseen_clips}")


def _analyse(y, converter):
    from tfstyle.harmonic import controls as ctl

    return ctl.analyse(y, converter.sr, converter.config.hop_length)


def _true_loudness(x, truth, converter):
    """The input's pitch and voicing, the true rendering's loudness in place of its own."""
    import dataclasses

    content, target = _analyse(x, converter), _analyse(truth, converter)
    n = min(len(content.loudness), len(target.loudness))
    loudness = content.loudness.copy()
    loudness[:n] = target.loudness[:n]
    return dataclasses.replace(content, loudness=loudness)


CEILINGS = {
    "ceiling: the true rendering's loudness (the input's pitch)": _true_loudness,
    "ceiling: the true rendering's own controls": lambda x, t, c: _analyse(t, c),
}

if __name__ == "__main__":
    main()
