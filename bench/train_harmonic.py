"""Trains, scores and packages the harmonic converters that ship with tfstyle
(`--model violin`, `--model flute`, `--model trumpet`).

    python bench/train_harmonic.py violin --minutes 15      # data, training, scores, package
    python bench/train_harmonic.py violin --no-train        # score and package the run as is
    python bench/train_harmonic.py violin --rescore         # score the shipped model anew

1. renders the training data: melodies over the instrument's whole range, 8 s each, on its
   General MIDI program (reverb and chorus off), with the melody generator and soundfonts
   that --data names (see DATA);
2. trains `tfstyle fit --model harmonic` on that folder for --minutes;
3. fits the converter's learned loudness mapping (`--loudness learned`, see `fit_dynamics`)
   on paired renderings: other melodies on the instrument and on every other timbre_pairs
   instrument, the inputs with the soundfonts --dynamics-data names;
4. decides whether the run ships: it and the shipped model convert the development set
   (`pairs.development_pairs`: varied melodies with a seed no other set uses, FluidR3_GM, and
   MuseScore_General too with --dynamics-data fluidr3+musescore), and
   unless the run's mean mel distance there (as a ratio to identity's) is lower, or --force
   is given, it stops there. The held-out data below never takes a decision;
5. scores the converter on held-out data it was not trained or tuned on (`pairs.KINDS`):
   melodies from another generator (`pairs.other_melody`, FluidR3_GM) and the timbre_pairs
   test melodies rendered with TimGM6mb, a soundfont never used in training, each played by
   two other instruments as the input. Measures: mel distance to the true rendering on the
   target instrument (as a ratio to identity's, i.e. to leaving the input as it is), chroma
   correlation with the input (over its sounding frames, and over every frame), beside the
   identity and envelope-match baselines and the true rendering itself (the ceiling of
   chroma);
6. writes tfstyle/pretrained/NAME/ (config.json, weights, MODEL_CARD.md with the run's
   training sessions from RUN/sessions.txt) and a section of docs/benchmarks.md.
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
# The inputs: instruments whose chroma names the note they play. A clarinet's or trumpet's
# strong upper harmonics (a clarinet's third is as loud as its fundamental) put the fifth in
# their chroma, so even the true violin rendering of a clarinet melody correlates 0.25 with it
# over every frame (0.31 over the sounding ones): chroma cannot judge a converter there.
CONTENT = {"violin": ("piano", "flute"), "flute": ("guitar", "piano"),
           "trumpet": ("piano", "violin")}
SECONDS = 8.0
BAR_RATIO, BAR_CHROMA = 0.75, 0.85
KINDS = ("generator", "soundfont")
MEASURES = ("mel_distance", "chroma_correlation", "chroma_sounding")
# On the unseen soundfont, the same melody rendered on the target with the soundfonts --data
# may train on: what a perfect copy of those instruments would score there.
COPY_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",
                       "/usr/share/sounds/sf3/MuseScore_General.sf3")


# --data: what the training melodies are and which soundfonts render them. TimGM6mb is in
# none: it is held out. "random" is what the first shipped models were trained on; "varied"
# draws each melody's tempo, articulation and dynamics (synth.varied_melody); "varied-2sf"
# renders them on a second soundfont in turn, which made the flute worse on the unseen
# soundfont (0.75x -> 0.98x identity's): conditioned on pitch and loudness alone, the decoder
# learns a compromise between the two soundfonts' flutes rather than either.
DATA = {"random": "the timbre_pairs generator (synth.random_melody), FluidR3_GM",
        "varied": "the varied generator (synth.varied_melody), FluidR3_GM",
        "varied-2sf": "the varied generator (synth.varied_melody), FluidR3_GM and "
                      "MuseScore_General in turn"}


def render_data(name, folder, minutes, data="random", seed=0):
    """`minutes` of melodies on the instrument into `folder` (kept if already there); melody
    i is rendered with soundfont i % (number of soundfonts)."""
    import soundfile as sf

    from tfds_builders.timbre_pairs.timbre_pairs_dataset_builder import (
        GENERATORS, INSTRUMENTS, VARIED_SOUNDFONTS)
    from tfstyle import synth

    count = int(np.ceil(minutes * 60 / SECONDS))
    done = os.path.join(folder, ".complete")
    if os.path.exists(done):
        return count
    os.makedirs(folder, exist_ok=True)
    program, low, high = INSTRUMENTS[name]
    generator = "random" if data == "random" else "varied"
    fonts = VARIED_SOUNDFONTS if data == "varied-2sf" else (None,)
    rng = np.random.default_rng([seed, program])
    melodies = [GENERATORS[generator](rng, SECONDS, low, high) for _ in range(count)]
    for f, font in enumerate(fonts):
        clips = synth.render(melodies[f::len(fonts)], program, 22050, SECONDS, soundfont=font)
        for i, clip in zip(range(f, count, len(fonts)), clips):
            sf.write(os.path.join(folder, f"{name}_{i:04d}.wav"), clip, 22050,
                     subtype="PCM_16")
    open(done, "w").close()
    return count


# The loudness mapping's pairs: melodies of the varied generator with their own seed (not the
# decoder's, the development set's or a held-out one), played by each timbre_pairs instrument
# as the input and by the converter's own instrument on FluidR3_GM (the soundfont its decoder
# learned) as the truth. --dynamics-data chooses the inputs' soundfonts (never TimGM6mb).
DYNAMICS_SEED, DYNAMICS_MELODIES = 7, 120
DYNAMICS_STEPS = 1500
MUSESCORE = "/usr/share/sounds/sf3/MuseScore_General.sf3"
DYNAMICS_DATA = {"fluidr3": (None,), "fluidr3+musescore": (None, MUSESCORE)}


def _font_name(path):
    return os.path.basename(path).split(".")[0]


def _dynamics_clips(name, soundfont, melodies, seed):
    """{instrument: [Controls per melody]} of the mapping's melodies on `soundfont`, analysed
    once and cached in runs/data/."""
    from tfds_builders.timbre_pairs.timbre_pairs_dataset_builder import INSTRUMENTS
    from tfstyle import synth
    from tfstyle.harmonic import controls as ctl

    import dataclasses

    font = "" if soundfont is None else "_" + _font_name(soundfont)
    cache = os.path.join(ROOT, "runs", "data", f"dynamics_{name}_{melodies}_{seed}{font}"
                         f"_analysis{ctl.ANALYSIS_VERSION}.npz")
    fields = [f.name for f in dataclasses.fields(ctl.Controls)]
    if not os.path.exists(cache):
        program, low, high = INSTRUMENTS[name]
        rng = np.random.default_rng([seed, program])
        notes = [synth.varied_melody(rng, SECONDS, low, high) for _ in range(melodies)]
        arrays = {}
        for other, (other_program, _, _) in INSTRUMENTS.items():
            clips = synth.render(notes, other_program, 22050, SECONDS, soundfont=soundfont)
            analysed = [ctl.analyse(c, 22050, 256) for c in clips]
            for field in fields:
                arrays[f"{other}/{field}"] = np.stack([getattr(c, field) for c in analysed])
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        np.savez(cache + ".partial.npz", **arrays)
        os.replace(cache + ".partial.npz", cache)
    with np.load(cache) as saved:
        return {other: [ctl.Controls(*(saved[f"{other}/{f}"][i] for f in fields))
                        for i in range(melodies)]
                # Sorted: the pairs' order, and so the fit, must not depend on hash seeds.
                for other in sorted({k.split("/")[0] for k in saved.files})}


def dynamics_pairs(name, data="fluidr3", melodies=DYNAMICS_MELODIES, seed=DYNAMICS_SEED):
    """[(controls on another instrument, controls on `name` with FluidR3_GM)] of the same
    melodies, the inputs on each soundfont of DYNAMICS_DATA[data]."""
    truths = _dynamics_clips(name, None, melodies, seed)[name]
    out = []
    for soundfont in DYNAMICS_DATA[data]:
        for other, clips in _dynamics_clips(name, soundfont, melodies, seed).items():
            if other != name:
                out += list(zip(clips, truths))
    return out


def fit_dynamics(name, data="fluidr3", steps=DYNAMICS_STEPS):
    """The instrument's DynamicsModel and how it was fitted (`describe_dynamics`'s keywords)."""
    from tfstyle.converters.harmonic import dynamics_fit

    model, _, _ = dynamics_fit.fit(dynamics_pairs(name, data), steps=steps, log=sys.stderr)
    return model, {"data": data, "steps": steps}


def describe_dynamics(name, model, data, steps):
    """A line for the model card: the mapping's fit and its error on its own pairs."""
    from tfstyle.converters.harmonic import dynamics_fit

    train = dynamics_pairs(name, data)
    fonts = " and ".join("FluidR3_GM" if f is None else _font_name(f)
                         for f in DYNAMICS_DATA[data])
    return (f"{len(train)} pairs of {SECONDS:g}-s clips ({DYNAMICS_MELODIES} melodies of the "
            f"varied generator, seed {DYNAMICS_SEED}, played by each other timbre_pairs "
            f"instrument with {fonts} and by the {name} with FluidR3_GM), {steps} steps: mean "
            f"absolute error of the relative loudness "
            f"{20 * dynamics_fit.mapping_loss(model, train):.1f} dB, against "
            f"{20 * dynamics_fit.offset_loss(train):.1f} dB for the input's own contour "
            "(`--loudness offset`)")


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
            triples = pairs.heldout_triples(source, name, kind, count=count, sr=sr,
                                            others=COPY_SOUNDFONTS if kind == "soundfont"
                                            else ())
            truth = {id(t.content): t.reference for t in triples}
            scored = {m: pairs.score(f, triples, sr, MEASURES) for m, f in methods.items()}
            scored["true rendering (ceiling)"] = pairs.score(lambda c, _: truth[id(c)],
                                                            triples, sr, MEASURES)
            for font in triples[0].others:
                copy = {id(t.content): t.others[font] for t in triples}
                scored[f"{name} of {font}, same melody"] = pairs.score(
                    lambda c, _: copy[id(c)], triples, sr, MEASURES)
            for method, values in scored.items():
                for measure, value in values.items():
                    sums.setdefault(method, {}).setdefault(measure, []).append(value)
        results[kind] = {m: {k: float(np.mean(v)) for k, v in values.items()}
                         for m, values in sums.items()}
    return results


def verdict(scores, model):
    """(one line per measure against the bar, number of the bar's parts met, mel ratio)."""
    identity = scores["identity (baseline)"]["mel_distance"]
    ratio = scores[model]["mel_distance"] / identity
    below = scores[model]["mel_distance"] < scores["envelope match (baseline)"]["mel_distance"]
    truth = scores["true rendering (ceiling)"]
    chroma = {k: scores[model][k] for k in ("chroma_sounding", "chroma_correlation")}
    met = [ratio <= BAR_RATIO, below, chroma["chroma_sounding"] >= BAR_CHROMA]
    line = (f"mel distance {ratio:.2f}x identity's (bar <= {BAR_RATIO}: "
            f"{'met' if met[0] else 'missed'}); below the envelope baseline: "
            f"{'yes' if below else 'no'}; chroma over the input's sounding frames "
            f"{chroma['chroma_sounding']:.2f} (bar >= {BAR_CHROMA}: "
            f"{'met' if met[2] else 'missed'}; the true rendering scores "
            f"{truth['chroma_sounding']:.2f}); over every frame {chroma['chroma_correlation']:.2f} "
            f"(true rendering {truth['chroma_correlation']:.2f})")
    copies = {m.split(" of ", 1)[1].split(",")[0]: v["mel_distance"] / identity
              for m, v in scores.items() if m.endswith(", same melody")}
    if copies:
        line += ("; the same melody played by the instrument of " + " and ".join(
            f"{font} scores {ratio:.2f}x" for font, ratio in copies.items()) + " identity's "
            "(what a perfect copy of the instrument of a soundfont it may train on would score)")
    return line, sum(met), ratio


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=list(CONTENT))
    parser.add_argument("--run-dir", default=None, help="default: runs/harmonic_NAME")
    parser.add_argument("--data-minutes", type=float, default=15.0)
    parser.add_argument("--data", choices=list(DATA), default="varied",
                        help="training melodies and soundfonts: " + "; ".join(
                            f"{k}: {v}" for k, v in DATA.items()))
    parser.add_argument("--minutes", type=float, default=15.0, help="training time")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="Adam learning rate of this session (default: the run's; a new "
                             "run starts at the harmonic preset's 2e-3)")
    parser.add_argument("--start", choices=("scratch", "prior"), default="scratch",
                        help="a new run's first weights: random, or the shipped timbre prior "
                             "bound to the embedding of the training clips (the run's "
                             "setting start=prior); a run keeps what it started from")
    parser.add_argument("--no-train", action="store_true", help="use the run as it is")
    parser.add_argument("--minutes-before", type=float, default=None,
                        help="training minutes the run had before this command (default: as "
                             "the run's last package recorded them)")
    parser.add_argument("--clips", type=int, default=6,
                        help="held-out clips per kind and content instrument")
    parser.add_argument("--no-dynamics", action="store_true",
                        help="ship without a learned loudness mapping (converts with "
                             "--loudness offset)")
    parser.add_argument("--dynamics-data", choices=list(DYNAMICS_DATA), default="fluidr3",
                        help="the soundfonts of the loudness mapping's input renderings; with "
                             "musescore, the development set is rendered with both too")
    parser.add_argument("--force", action="store_true",
                        help="ship the run even if the shipped model scores better")
    parser.add_argument("--rescore", action="store_true",
                        help="score the shipped model as it is (after a change to the "
                             "analysis or the rendering) and rewrite its scores, card and "
                             "docs/benchmarks.md section; trains and fits nothing. Give the "
                             "--run-dir and --data it was trained with: the card describes "
                             "them")
    args = parser.parse_args()
    from tfstyle import pretrained
    from tfstyle.converters import api
    from tfstyle.converters.run import Run

    run_dir = args.run_dir or os.path.join(ROOT, "runs", f"harmonic_{args.name}")
    run = Run(run_dir)
    out = os.path.join(pretrained.HERE, pretrained.MODELS[args.name])
    shipped = os.path.exists(os.path.join(out, "config.json"))
    folder = os.path.join(ROOT, "runs", "data", f"{args.name}_{args.data_minutes:g}min"
                          + ("" if args.data == "random" else f"_{args.data}"))
    melodies = render_data(args.name, folder, args.data_minutes, args.data)
    if args.rescore:
        _, record = pretrained.load_config(args.name)
        converter = api.load_converter(model=args.name)
        step, trained, fitted = record["steps"], record["train_minutes"], record.get(
            "dynamics_fit")
        if converter.dynamics is not None and fitted is None:
            sys.exit(f"{out}: its config.json does not say how its loudness mapping was "
                     "fitted (dynamics_fit); ship it anew")
    else:
        converter, step, trained, fitted = train(args, run, run_dir, folder)
        if shipped and not args.force:
            # The model in the package against the run, on the same development clips.
            fonts = DYNAMICS_DATA[args.dynamics_data]
            ratios = {label: development_ratio(c, args.name, args.clips, soundfonts=fonts)
                      for label, c in (
                ("run", converter), ("shipped", api.load_converter(model=args.name)))}
            print(f"development set, mean mel distance as a ratio to identity's: run (step "
                  f"{step}) {ratios['run']:.3f}, shipped {ratios['shipped']:.3f}")
            if ratios["shipped"] <= ratios["run"]:
                print("the shipped model does as well or better; nothing written (--force "
                      "ships the run; --rescore scores the shipped model anew)")
                return
    dynamics = ("none: the input's own contour at the instrument's level (`--loudness "
                "offset`)" if converter.dynamics is None
                else describe_dynamics(args.name, converter.dynamics, **fitted))
    results = score(converter, args.name, args.clips)
    model = f"{args.name} (harmonic converter)"
    summary = [verdict(scores, model) for scores in results.values()]

    tables = []
    for kind, scores in results.items():
        identity = scores["identity (baseline)"]["mel_distance"]
        tables.append(f"**{pairs.KINDS[kind]}** ({2 * args.clips} clips: "
                      f"{' and '.join(CONTENT[args.name])} as input)\n\n" + table(
                          ["method", "mel distance to the true rendering (dB)",
                           "ratio to identity", "chroma, sounding frames",
                           "chroma, every frame", "s per 4-s clip"],
                          [[m, f"{v['mel_distance']:.2f}", f"{v['mel_distance'] / identity:.2f}",
                            f"{v['chroma_sounding']:.3f}", f"{v['chroma_correlation']:.3f}",
                            f"{v['seconds']:.2f}"]
                           for m, v in scores.items()]))
    verdicts = "\n".join(f"- {pairs.KINDS[kind]}: {line}"
                         for kind, (line, _, _) in zip(results, summary))
    config = converter.config
    record = {"name": args.name, "steps": step, "preset": "harmonic",
              "train_minutes": round(trained, 1), "dynamics_fit": fitted,
              "data": f"{melodies} melodies of {SECONDS:g} s ({DATA[args.data]})",
              "scores": results, "made": time.strftime("%Y-%m-%d"), **converter.record()}
    pretrained.package(converter, out, **record)
    card = CARD.format(name=args.name, melodies=melodies, seconds=SECONDS,
                       minutes=melodies * SECONDS / 60, steps=step, data=DATA[args.data],
                       train_minutes=round(trained), config=", ".join(
                           f"{k}={v}" for k, v in vars(config).items()),
                       contents=" and ".join(CONTENT[args.name]), tables="\n\n".join(tables),
                       verdicts=verdicts, bar=BAR_RATIO, chroma=BAR_CHROMA,
                       low=converter.profile.pitch_low, high=converter.profile.pitch_high,
                       sessions=_sessions(run_dir), dynamics=dynamics,
                       mode=converter.config.loudness, origin=origin(converter))
    with open(os.path.join(out, "MODEL_CARD.md"), "w") as f:
        f.write(card)
    write_section(f"harmonic_{args.name}", f"Shipped harmonic converter: {args.name}",
                  "\n\n".join(tables) + "\n\n" + verdicts
                  + f"\n\nTrained {step} steps in {trained:.0f} min.",
                  command=f"python bench/train_harmonic.py {args.name} (see the model card)")
    print(card)


def train(args, run, run_dir, folder):
    """(the run's converter with its loudness mapping, its step, its training minutes in all,
    how its mapping was fitted): trained for --minutes unless --no-train."""
    from tfstyle.converters import api

    before = args.minutes_before
    if before is None:
        before = _recorded_minutes(run_dir)
    start = time.time()
    if not args.no_train:
        first = run.latest_step()
        settings = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
        if not run.exists() and args.start == "prior":
            settings["start"] = "prior"
        api.fit(b=folder, run_dir=run_dir, model="harmonic", max_minutes=args.minutes,
                checkpoint_every=250, log=sys.stderr, progress=True, **settings)
        rate = run.load_config()[0].learning_rate
        with open(os.path.join(run_dir, "sessions.txt"), "a") as f:
            f.write(f"steps {first}-{run.latest_step()} in {(time.time() - start) / 60:.0f} min "
                    f"at learning rate {rate:g}\n")
    trained = before + (time.time() - start) / 60
    with open(os.path.join(run_dir, "train_minutes.txt"), "w") as f:
        f.write(f"{trained:.1f}\n")
    converter, fitted = api.load_converter(run_dir), None
    if not args.no_dynamics:
        model, fitted = fit_dynamics(args.name, args.dynamics_data)
        converter = converter.with_dynamics(model)
    return converter, run.latest_step(), trained, fitted


def development_ratio(converter, name, clips, sr=22050, soundfonts=(None,)):
    """Mean mel distance to the true rendering, as a ratio to identity's, over the development
    set's melodies on each content instrument, rendered with each of `soundfonts`."""
    ratios = []
    for source, soundfont in ((s, f) for s in CONTENT[name] for f in soundfonts):
        inputs, truths = pairs.development_pairs(source, name, clips, sr, soundfont)
        outputs = [np.concatenate(list(converter.convert_blocks([x]))) for x in inputs]
        ratios.append(pairs.mean_mel_distance(outputs, truths, sr)
                      / pairs.mean_mel_distance(inputs, truths, sr))
    return float(np.mean(ratios))


def origin(converter):
    """The card's words on a converter trained from the timbre prior."""
    if converter.start is None:
        return ""
    return (f"\n\nIts training started from the timbre prior (`tfstyle/pretrained/timbre_prior`,"
            f" {converter.start.get('steps')} steps on many instruments), its decoder told the "
            "instrument by the embedding of the training clips; the whole decoder and the "
            "reverb were then fine-tuned on them (`--start prior`).")


def _sessions(run_dir):
    try:
        with open(os.path.join(run_dir, "sessions.txt")) as f:
            return "; ".join(line.strip() for line in f if line.strip())
    except OSError:
        return "not recorded"


def _recorded_minutes(run_dir):
    """Training minutes the run has had, as the last call of this script wrote them."""
    try:
        with open(os.path.join(run_dir, "train_minutes.txt")) as f:
            return float(f.read())
    except (OSError, ValueError):
        return 0.0


CARD = """# {name}: any monophonic melody played by a {name} (harmonic converter, trained on renderings)

`tfstyle convert --model {name} IN.wav -o OUT.wav` · `tfstyle export --model {name}`

## What it is

A harmonic-plus-noise synthesiser (after DDSP) whose decoder and reverb tfstyle trained on
{name} recordings. It reads the input's pitch (YIN) and loudness, moves the pitch into the
{name}'s range (whole octaves, `--transpose auto`), gives the input's notes the loudness
contour a {name} would (`--loudness {mode}`: a learned mapping, below), and renders them with
the learned {name} timbre: the melody is kept by construction. Settings: {config}.{origin}

## Data and training

{melodies} melodies of {seconds:g} s ({minutes:.0f} min) over the {name}'s whole range from
{data}, rendered on its General MIDI program (reverb and chorus off). Pitch range learned
(5th-95th percentile): MIDI {low:.0f}-{high:.0f}. Trained {steps} steps ({train_minutes:g} min on
a 2-core AMD EPYC, in sessions of `python bench/train_harmonic.py {name} --minutes M
[--learning-rate R]`, each resuming the run; the batch is 8 windows of 1.5 s). Sessions:
{sessions}.

Loudness mapping (`tfstyle.harmonic.dynamics`, fitted by this script): {dynamics}.

## Scores on data it never saw

Inputs are the {contents} playing melodies from another generator, and the timbre_pairs test
melodies rendered with TimGM6mb, a soundfont never used in training. Mel distance is to the
same melody rendered on the {name} with the input's soundfont; chroma is the correlation of the
output's pitch classes (librosa's chroma_stft) with the input's, over the frames where the
input sounds (within 40 dB of its peak) and over every frame. librosa scales each frame's
chroma to a peak of 1, so over every frame a rest's faint decay or noise counts as much as a
note (the melodies from the other generator have 25 % rests). Chroma also hears each
instrument's harmonics: the {name}'s own true rendering, which keeps the melody exactly, is
the ceiling the tables show.

{tables}

Against the bar of issue 16 (mel distance <= {bar}x identity's and below the envelope
baseline, chroma >= {chroma}):

{verdicts}

## Limits

- Monophonic input only: chords, drums or several voices come out as one wavering line (a
  warning says so).
- The timbre is that of General MIDI soundfonts' {name} sample sets, not of a recorded
  player; expression (vibrato, bow or breath noise) is what the decoder learned from those
  renderings.
- Mel distance to a different soundfont's {name} includes the difference between the
  soundfonts' {name}s, which no converter trained on others can remove.
- Inputs are instruments whose chroma names the note they play. A clarinet's third harmonic
  is as loud as its fundamental, so its chroma holds the fifth as well: the true violin
  rendering of a clarinet melody correlates 0.25 with it (0.31 over sounding frames), and
  chroma cannot judge a conversion of a clarinet. The converter itself reads the clarinet's
  pitch correctly (YIN follows the fundamental).
"""


if __name__ == "__main__":
    main()
