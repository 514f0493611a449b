"""Trains, scores and packages the harmonic converters that ship with tfstyle
(`--model violin`, `--model flute`, `--model trumpet`).

    python bench/train_harmonic.py violin --minutes 15      # data, training, scores, package
    python bench/train_harmonic.py violin --no-train        # score and package the run as is

1. renders the training data: melodies from the timbre_pairs generator
   (`synth.random_melody`) over the instrument's whole range, 8 s each, on its General MIDI
   program with FluidR3_GM (reverb and chorus off);
2. trains `tfstyle fit --model harmonic` on that folder for --minutes;
3. scores the converter on held-out data it was not trained or tuned on (`pairs.KINDS`):
   melodies from another generator (`pairs.other_melody`, FluidR3_GM) and the timbre_pairs
   test melodies rendered with TimGM6mb, a soundfont never used in training, each played by
   two other instruments as the input. Measures: mel distance to the true rendering on the
   target instrument (as a ratio to identity's, i.e. to leaving the input as it is), chroma
   correlation with the input, beside the identity and envelope-match baselines and the true
   rendering itself (the ceiling of chroma);
4. writes tfstyle/pretrained/NAME/ (config.json, weights, MODEL_CARD.md) and a section of
   docs/benchmarks.md.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import pairs
from report import table, write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# target: the two instruments whose melodies it is scored on
CONTENT = {"violin": ("piano", "clarinet"), "flute": ("guitar", "piano"),
           "trumpet": ("clarinet", "piano")}
SECONDS = 8.0
BAR_RATIO, BAR_CHROMA = 0.75, 0.85
KINDS = ("generator", "soundfont")


def render_data(name, folder, minutes, seed=0):
    """`minutes` of melodies on the instrument into `folder` (kept if already there)."""
    import soundfile as sf

    from tfds_builders.timbre_pairs import INSTRUMENTS
    from tfstyle import synth

    count = int(np.ceil(minutes * 60 / SECONDS))
    done = os.path.join(folder, ".complete")
    if os.path.exists(done):
        return count
    os.makedirs(folder, exist_ok=True)
    program, low, high = INSTRUMENTS[name]
    rng = np.random.default_rng([seed, program])
    melodies = [synth.random_melody(rng, SECONDS, low, high) for _ in range(count)]
    for i, clip in enumerate(synth.render(melodies, program, 22050, SECONDS)):
        sf.write(os.path.join(folder, f"{name}_{i:04d}.wav"), clip, 22050, subtype="PCM_16")
    open(done, "w").close()
    return count


def score(converter, name, count, sr=22050):
    """{kind: {method: {measure: mean}}} over both content instruments."""
    from tfstyle import baselines

    def convert(content):
        return np.concatenate(list(converter.convert_blocks([content])))

    methods = {"identity (baseline)": lambda c, s: baselines.run("identity", c, s, sr),
               "envelope match (baseline)": lambda c, s: baselines.run("envelope", c, s, sr),
               f"{name} (harmonic converter)": lambda c, s: convert(c)}
    results = {}
    for kind in KINDS:
        sums = {}
        for source in CONTENT[name]:
            triples = pairs.heldout_triples(source, name, kind, count=count, sr=sr)
            truth = {id(t.content): t.reference for t in triples}
            scored = {m: pairs.score(f, triples, sr) for m, f in methods.items()}
            scored["true rendering (ceiling)"] = pairs.score(lambda c, _: truth[id(c)],
                                                            triples, sr)
            for method, values in scored.items():
                for measure, value in values.items():
                    sums.setdefault(method, {}).setdefault(measure, []).append(value)
        results[kind] = {m: {k: float(np.mean(v)) for k, v in values.items()}
                         for m, values in sums.items()}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=list(CONTENT))
    parser.add_argument("--run-dir", default=None, help="default: runs/harmonic_NAME")
    parser.add_argument("--data-minutes", type=float, default=15.0)
    parser.add_argument("--minutes", type=float, default=15.0, help="training time")
    parser.add_argument("--no-train", action="store_true", help="use the run as it is")
    parser.add_argument("--minutes-before", type=float, default=None,
                        help="training minutes the run had before this command (default: as "
                             "the shipped model's config.json records them, when it is the "
                             "same run continued)")
    parser.add_argument("--clips", type=int, default=6,
                        help="held-out clips per kind and content instrument")
    args = parser.parse_args()
    from tfstyle import pretrained
    from tfstyle.converters import api
    from tfstyle.converters.run import Run

    run_dir = args.run_dir or os.path.join(ROOT, "runs", f"harmonic_{args.name}")
    out = os.path.join(pretrained.HERE, pretrained.MODELS[args.name])
    before = args.minutes_before
    if before is None and os.path.exists(os.path.join(out, "config.json")) and \
            os.path.exists(os.path.join(run_dir, "config.json")):
        before = pretrained.load_config(None, out)[1].get("train_minutes", 0.0)
    folder = os.path.join(ROOT, "runs", "data", f"{args.name}_{args.data_minutes:g}min")
    melodies = render_data(args.name, folder, args.data_minutes)
    start = time.time()
    if not args.no_train:
        api.fit(b=folder, run_dir=run_dir, model="harmonic", max_minutes=args.minutes,
                checkpoint_every=250, log=sys.stderr, progress=True)
    trained = (before or 0.0) + (time.time() - start) / 60
    converter = api.load_converter(run_dir)
    step = int(os.path.basename(Run(run_dir).latest()).rsplit("-", 1)[-1])
    results = score(converter, args.name, args.clips)

    model = f"{args.name} (harmonic converter)"
    verdicts, tables = [], []
    for kind, scores in results.items():
        identity = scores["identity (baseline)"]["mel_distance"]
        ratio = scores[model]["mel_distance"] / identity
        below = scores[model]["mel_distance"] < scores["envelope match (baseline)"][
            "mel_distance"]
        chroma = scores[model]["chroma_correlation"]
        verdicts.append(f"- {pairs.KINDS[kind]}: mel distance {ratio:.2f}x identity's (bar "
                        f"<= {BAR_RATIO}: {'met' if ratio <= BAR_RATIO else 'missed'}); below "
                        f"the envelope baseline: {'yes' if below else 'no'}; chroma {chroma:.2f} "
                        f"(bar >= {BAR_CHROMA}: {'met' if chroma >= BAR_CHROMA else 'missed'}; "
                        "the true rendering scores "
                        f"{scores['true rendering (ceiling)']['chroma_correlation']:.2f})")
        tables.append(f"**{pairs.KINDS[kind]}** ({2 * args.clips} clips: "
                      f"{' and '.join(CONTENT[args.name])} as input)\n\n" + table(
                          ["method", "mel distance to the true rendering (dB)",
                           "ratio to identity", "chroma corr. with input", "s per 4-s clip"],
                          [[m, f"{v['mel_distance']:.2f}", f"{v['mel_distance'] / identity:.2f}",
                            f"{v['chroma_correlation']:.3f}", f"{v['seconds']:.2f}"]
                           for m, v in scores.items()]))
    config = converter.config
    record = {"name": args.name, "steps": step, "preset": "harmonic",
              "train_minutes": round(trained, 1),
              "data": f"{melodies} melodies of {SECONDS:g} s (timbre_pairs generator, "
                      "FluidR3_GM)", "scores": results, "made": time.strftime("%Y-%m-%d"),
              **converter.record()}
    pretrained.package(converter, out, **record)
    card = CARD.format(name=args.name, melodies=melodies, seconds=SECONDS,
                       minutes=melodies * SECONDS / 60, steps=step,
                       train_minutes=round(trained), config=", ".join(
                           f"{k}={v}" for k, v in vars(config).items()),
                       contents=" and ".join(CONTENT[args.name]), tables="\n\n".join(tables),
                       verdicts="\n".join(verdicts), bar=BAR_RATIO, chroma=BAR_CHROMA,
                       low=converter.profile.pitch_low, high=converter.profile.pitch_high)
    with open(os.path.join(out, "MODEL_CARD.md"), "w") as f:
        f.write(card)
    write_section(f"harmonic_{args.name}", f"Shipped harmonic converter: {args.name}",
                  "\n\n".join(tables) + "\n\n" + "\n".join(verdicts)
                  + f"\n\nTrained {step} steps in {trained:.0f} min.",
                  command=f"python bench/train_harmonic.py {args.name} (see the model card)")
    print(card)


CARD = """# {name}: any monophonic melody played by a {name} (harmonic converter, trained on renderings)

`tfstyle convert --model {name} IN.wav -o OUT.wav` · `tfstyle export --model {name}`

## What it is

A harmonic-plus-noise synthesiser (after DDSP) whose decoder and reverb tfstyle trained on
{name} recordings. It reads the input's pitch (YIN) and loudness, moves them into the
{name}'s range (whole octaves, `--transpose auto`) and loudness distribution, and renders them
with the learned {name} timbre: the melody is kept by construction. Settings: {config}.

## Data and training

{melodies} melodies of {seconds:g} s ({minutes:.0f} min), drawn by the timbre_pairs melody
generator over the {name}'s whole range and rendered on its General MIDI program with
FluidR3_GM (reverb and chorus off). Pitch range learned (5th-95th percentile): MIDI
{low:.0f}-{high:.0f}. Trained {steps} steps ({train_minutes:g} min on a 2-core AMD EPYC,
in sessions of `python bench/train_harmonic.py {name} --minutes M`, each resuming the run;
the batch is 8 windows of 1.5 s).

## Scores on data it never saw

Inputs are the {contents} playing melodies from another generator, and the timbre_pairs test
melodies rendered with TimGM6mb, a soundfont never used in training. Mel distance is to the
same melody rendered on the {name} with the input's soundfont; chroma is the correlation of the
output's pitch classes with the input's.

{tables}

Against the bar of issue 16 (mel distance <= {bar}x identity's and below the envelope
baseline, chroma >= {chroma}):

{verdicts}

## Limits

- Monophonic input only: chords, drums or several voices come out as one wavering line (a
  warning says so).
- The timbre is that of one General MIDI soundfont's {name} sample set, not of a recorded
  player; expression (vibrato, bow or breath noise) is what the decoder learned from those
  renderings.
- Mel distance to a different soundfont's {name} includes the difference between the two
  soundfonts' {name}s, which no converter trained on one of them can remove.
"""


if __name__ == "__main__":
    main()
