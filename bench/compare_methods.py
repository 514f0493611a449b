"""Every method on the timbre_pairs benchmark: baselines, each preset, and MelGAN-VC.

    python bench/compare_methods.py                    # everything (3 test melodies each)
    python bench/compare_methods.py --methods identity envelope piano-violin --clips 40
    python bench/compare_methods.py --held-out         # 3 pairs x 3 kinds of data
    python bench/compare_methods.py --held-out --pairs piano-violin --vocoder RUN \
        --methods piano-violin piano-violin+vocoder   # MelGAN-VC through a vocoder run
    python bench/compare_methods.py --held-out --methods vgg19 mital2017 --pairs piano-violin \
        --kinds generator soundfont --clips 1          # any method, on held-out data only

`--held-out` scores methods (by default those that matter for the default: baselines,
`harmonic`, the optimisation default `random-cnn`, the shipped converters on their own pair;
with `--methods`, any of them, every NST preset included) on instrument pairs and three kinds of
data (`pairs.KINDS`): the test split of the generator the project was developed on, melodies
from another generator, and a soundfont never used for fitting or tuning. It reports each
method's mel distance as a ratio to identity's on the same clips; results accumulate in
docs/compare_methods.json, so slow presets can be scored on fewer clips in their own run.

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
from tfstyle import baselines, datasets, dispatch, metrics, presets, pretrained

STORE = os.path.join(os.path.dirname(DOC), "compare_methods.json")
REFERENCES = ("truth", "identity", "envelope")
HELD_OUT_METHODS = ("identity", "envelope", "harmonic", "harmonic-offset", "harmonic-scratch",
                    "random-cnn", "piano-violin", "violin", "flute", "trumpet")
# Variants of a preset, scored as methods of their own: name -> (preset, changed settings).
VARIANTS = {"harmonic-offset": ("harmonic", {"loudness": "offset"})}
# The bar one-shot transfer must clear on every kind of data (issue: one-shot as good as a
# trained converter): mean mel distance at most this ratio to identity's, below the envelope
# baseline on every pair, chroma no more than BAR_CHROMA_GAP below the true rendering's.
BAR_RATIO, BAR_CHROMA_GAP = 0.65, 0.03
# Chroma is judged over the content's sounding frames (within metrics.ACTIVE_DB of its peak),
# as the converters' bars are (bench/train_harmonic.py; the vocoder's, bench/vocoder_chroma.py,
# counted frames within 60 dB): librosa scales each frame's chroma to a peak of 1, so in a rest
# the faint tail of the last note counts as much as a note, and over every frame even the true
# rendering on another instrument scores 0.70 on the other generator.
BAR_CHROMA = "chroma_sounding"
# A shipped converter through a vocoder run (--vocoder): its name, then this.
VOCODED = "+vocoder"
COLUMNS = ["mel_distance", "chroma_correlation", "f0_agreement", "loudness_difference",
           "style_distance", "longterm_mel_distance"]


def methods(sr, vocoder=None):
    out = {name: (lambda name: lambda c, s: baselines.run(name, c, s, sr))(name)
           for name in baselines.BASELINES}
    configs = {name: presets.config(name, random_weights=True, sr=sr)
               for name in presets.PRESETS}
    configs.update({name: presets.config(preset, sr=sr, **changed)
                    for name, (preset, changed) in VARIANTS.items()})
    for name, config in configs.items():
        out[name] = (lambda config: lambda c, s: dispatch.transfer(
            c, s, config=config))(config)

    def shipped(name):
        state = {}

        def convert(c, s):
            import numpy as np

            if not state:
                state["model"] = pretrained.load(name)
            return np.concatenate(list(state["model"].convert_blocks([c])))
        return convert

    out.update({name: shipped(name) for name in pretrained.available()})
    if vocoder:
        out[f"piano-violin{VOCODED}"] = through_vocoder(vocoder)
    return out


def through_vocoder(run):
    """The shipped piano-violin with its mel turned into sound by the vocoder `run` (a run
    folder or a shipped vocoder's name) instead of Griffin-Lim."""
    state = {}

    def convert(c, s):
        import numpy as np

        from tfstyle.converters.api import load_vocoder

        if not state:
            state["model"] = pretrained.load("piano-violin")
            state["vocoder"] = load_vocoder(run).generator
        return np.concatenate(list(state["model"].convert_blocks(
            [c], vocoder=state["vocoder"])))
    return convert


def own_pair(name, a, b):
    """Whether a shipped converter is meant for the pair a -> b (MelGAN-VC: its two domains;
    harmonic: its target instrument, any input)."""
    return name == f"{a}-{b}" or name == b


def kind(name):
    if name.endswith(VOCODED):
        return kind(name[:-len(VOCODED)]) + ", through the vocoder"
    if name in baselines.BASELINES:
        return "baseline"
    if name in pretrained.MODELS:
        return ("MelGAN-VC" if "-" in name else "harmonic converter") + " (shipped)"
    if name in VARIANTS:
        preset, changed = VARIANTS[name]
        return f"{kind(preset)}, " + ", ".join(f"{k} {v}" for k, v in changed.items())
    settings = presets.PRESETS[name].settings
    if settings.get("method") == "harmonic":
        return "harmonic, " + ("timbre prior" if settings.get("start") == "prior"
                               else "fitted from scratch")
    return "NST preset"


def save(stored):
    with open(STORE + ".tmp", "w") as f:
        json.dump(stored, f, indent=2)
    os.replace(STORE + ".tmp", STORE)


def held_out(every, names, clips, sr, chosen_pairs=pairs.PAIRS, kinds=tuple(pairs.KINDS)):
    """Scores `names` on `chosen_pairs` and `kinds` of data; writes the compare_heldout section
    from every result stored so far."""
    stored = json.load(open(STORE)) if os.path.exists(STORE) else {}
    grid = stored.setdefault("held_out", {})
    # Mel distance, chroma correlation (every frame, and over the content's sounding frames:
    # the bar's reading, see BAR_CHROMA), f0 agreement.
    measures = [*COLUMNS[:3], BAR_CHROMA]
    for a, b in chosen_pairs:
        for data in kinds:
            triples = pairs.heldout_triples(a, b, data, count=clips, sr=sr)
            truth = {t.content.tobytes(): t.reference for t in triples}
            methods = {**every, "truth": lambda c, s: truth[c.tobytes()]}
            for name in ["truth", "identity", "envelope", *names]:
                reference = name in REFERENCES
                known = grid.get(f"{name}|{a}-{b}|{data}#{clips}", {})
                if reference and name not in names and all(m in known for m in measures):
                    continue   # the ratios' references, scored once per pair, kind and count
                shipped = name.removesuffix(VOCODED)
                if shipped in pretrained.MODELS and not own_pair(shipped, a, b):
                    continue   # a shipped converter is scored on its own instrument pair
                print(f"{name} on {a}->{b}, {data} ...", flush=True)
                result = {**pairs.score(methods[name], triples, sr, only=measures),
                          "clips": len(triples)}
                key = f"{name}|{a}-{b}|{data}"
                if reference:
                    # Kept per clip count (ratios compare like with like); the row shown is
                    # the one on the most clips.
                    grid[f"{key}#{len(triples)}"] = result
                    if grid.get(key, {}).get("clips", 0) > len(triples):
                        result = grid[key]
                grid[key] = result
                save(stored)

    def cell(name, pair, data, like=None):
        """A result; with `like`, a reference scored on the same clips as that result."""
        found = grid.get(f"{name}|{pair}|{data}")
        if like is None or found is None or found["clips"] == like["clips"]:
            return found
        return grid.get(f"{name}|{pair}|{data}#{like['clips']}")

    rows, verdicts = [], []
    pair_names = [f"{a}-{b}" for a, b in pairs.PAIRS]
    scored = {key.split("|")[0] for key in grid}
    listed = ["truth", *HELD_OUT_METHODS,
              *sorted(n for n in scored if n not in HELD_OUT_METHODS and n != "truth")]
    for data in pairs.KINDS:
        for name in listed:
            found = [(p, cell(name, p, data)) for p in pair_names]
            found = [(p, r, cell("identity", p, data, r)) for p, r in found if r]
            found = [(p, r, i) for p, r, i in found if i]
            if not found:
                continue
            ratios = {p: r["mel_distance"] / i["mel_distance"] for p, r, i in found}
            mean = {m: (sum(r[m] for _, r, _ in found) / len(found)
                        if all(m in r for _, r, _ in found) else None) for m in measures}
            rows.append([data, name, kind(name) if name != "truth" else "reference",
                         *(f"{ratios[p]:.2f}×" if p in ratios else "—" for p in pair_names),
                         f"{sum(ratios.values()) / len(ratios):.2f}×",
                         *("—" if mean[m] is None else f"{mean[m]:.2f}"
                           for m in (BAR_CHROMA, "chroma_correlation", "f0_agreement")),
                         min(r["clips"] for _, r, _ in found)])
        for name in listed[1:]:
            if name in baselines.BASELINES:
                continue
            found = [(r, cell("identity", p, data, r), cell("envelope", p, data, r))
                     for p, r in ((p, cell(name, p, data)) for p in pair_names) if r]
            found = [f for f in found if all(f)]
            if not found:
                continue
            ratio = sum(r["mel_distance"] / i["mel_distance"] for r, i, _ in found) / len(found)
            below = all(r["mel_distance"] < e["mel_distance"] for r, _, e in found)
            truths = [cell("truth", p, data, r) for p, r in
                      ((p, cell(name, p, data)) for p in pair_names) if r]
            truths = [t for t in truths if t]
            # Rows scored before the sounding-frames reading are judged over every frame,
            # and say so.
            reading = (BAR_CHROMA if all(BAR_CHROMA in r for r, _, _ in found)
                       and all(BAR_CHROMA in t for t in truths) else "chroma_correlation")
            chroma = sum(r[reading] for r, _, _ in found) / len(found)
            ceiling = sum(t[reading] for t in truths) / max(1, len(truths))
            ok = ratio <= BAR_RATIO and below and chroma >= ceiling - BAR_CHROMA_GAP
            frames = "sounding frames" if reading == BAR_CHROMA else "every frame"
            verdicts.append(
                f"- {data}, `{name}`: mean ratio {ratio:.2f}× (bar ≤ {BAR_RATIO}), "
                f"{'below' if below else 'not below'} the envelope baseline on every pair, "
                f"chroma ({frames}) {chroma:.2f} against the truth's {ceiling:.2f} (bar: "
                f"within {BAR_CHROMA_GAP}): **{'meets' if ok else 'does not meet'} the bar**")
    body = ("Content = a melody on the first instrument, style = another melody on the "
            "second, reference = the same melody on the second (4 s clips at 22.05 kHz; "
            "`clips`: melodies per pair and kind, fewer for the slowest presets). Per pair: "
            "mel distance to the reference as "
            "a ratio to identity's on the same clips (lower is better); then the means over "
            "pairs of that ratio, of the chroma correlation with the content over its "
            f"sounding frames (within {metrics.ACTIVE_DB:g} dB of its peak; — where a row was "
            "scored before this column) and over every frame, and of the f0 agreement with "
            "the content (pYIN, within 50 cents). `truth` is the reference "
            "itself: the chroma a perfect answer gets, which for clarinet→trumpet is far "
            "below 1 because the two instruments' harmonic weights differ.\n\n"
            + "\n".join(f"- **{k}**: {v}" for k, v in pairs.KINDS.items()) + "\n\n")
    body += table(["data", "method", "kind", *(p.replace("-", "→") for p in pair_names),
                   "mean ratio", "chroma, sounding frames", "chroma, every frame",
                   "f0 agreement", "clips"], rows)
    body += ("\n\nThe bar for one-shot transfer (≤ 0.65× identity, below the envelope "
             "baseline on every pair, chroma over the content's sounding frames (within "
             f"{metrics.ACTIVE_DB:g} dB of its peak) within 0.03 of the true rendering's, on "
             "each kind; rows scored before that reading are judged over every frame):\n\n"
             + "\n".join(verdicts))
    write_section("compare_heldout", "Methods on held-out data: four pairs, three kinds",
                  body, command="python bench/compare_methods.py --held-out --clips 4 "
                                "--methods harmonic (earlier rows, on other days and "
                                "hosts: --held-out --clips 4 --methods violin flute trumpet "
                                "harmonic-offset; --held-out --clips 4 --methods "
                                "harmonic-scratch; --held-out --clips 2; and "
                                "--pairs piano-violin --kinds generator soundfont --clips 1 "
                                "--methods <every NST preset>)")


def main():
    sr = 22050
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocoder", metavar="RUN",
                        help="also score piano-violin through this vocoder (a run folder or "
                             "vocoder-22k: the music-22k front end) as the method "
                             "piano-violin+vocoder")
    every = methods(sr, parser.parse_known_args()[0].vocoder)
    parser.add_argument("--methods", nargs="+", choices=list(every), default=list(every))
    parser.add_argument("--clips", type=int, default=3, help="test melodies per method")
    parser.add_argument("--held-out", action="store_true",
                        help="instrument pairs x three kinds of data (see the module docstring)")
    parser.add_argument("--pairs", nargs="+", choices=[f"{a}-{b}" for a, b in pairs.PAIRS],
                        help="with --held-out: only these instrument pairs")
    parser.add_argument("--kinds", nargs="+", choices=list(pairs.KINDS),
                        default=list(pairs.KINDS), help="with --held-out: only these kinds")
    args = parser.parse_args()
    if args.held_out:
        names = list(HELD_OUT_METHODS) if args.methods == list(every) else args.methods
        chosen = [p for p in pairs.PAIRS if not args.pairs or f"{p[0]}-{p[1]}" in args.pairs]
        return held_out(every, names, args.clips, sr, chosen, args.kinds)

    datasets.build("timbre_pairs/piano_violin")
    triples = pairs.triples("piano_violin", "test", limit=args.clips, sr=sr)
    stored = json.load(open(STORE)) if os.path.exists(STORE) else {}
    for name in args.methods:
        print(f"{name} ...", flush=True)
        stored[name] = {**pairs.score(every[name], triples, sr, only=COLUMNS),
                        "clips": len(triples)}
        save(stored)

    units = {c: f"{c.replace('_', ' ')} ({metrics.MEASURES[c].unit}, "
                f"{metrics.MEASURES[c].better})" for c in COLUMNS}
    rows = [[name, kind(name), *(f"{r[c]:.3f}" if "correlation" in c or c == "f0_agreement"
                                 or c == "style_distance" else f"{r[c]:.2f}" for c in COLUMNS),
             f"{r['seconds']:.1f}", r["clips"]]
            for name, r in stored.items() if name in every and "mel_distance" in r]
    body = ("timbre_pairs/piano_violin test split: content = a melody on piano, style = another "
            "melody on violin, reference = the same melody on violin (4 s clips, 22.05 kHz). "
            "Mel distance is to the reference, chroma, f0 and loudness are against the content, "
            "style and long-term distances against the style (definitions: `tfstyle.metrics`). "
            "NST backbones run with random weights (no pretrained files here). Seconds are "
            "per clip on this machine.\n\n")
    body += table(["method", "kind", *units.values(), "s / clip", "clips"], rows)
    clips = sorted({r["clips"] for name, r in stored.items() if name in every})
    write_section("compare_methods", "Method comparison on timbre_pairs", body,
                  command=f"python bench/compare_methods.py --clips {clips[-1]}")


if __name__ == "__main__":
    main()
