"""The timbre_pairs benchmark as (content, style, reference) triples, and how methods score.

For each test melody m: content = m on instrument A, reference = m on instrument B (the true
answer), style = another test melody on B (what an example-based method is shown). Scores are
averaged over melodies: mel distance to the reference (dB, lower is better) and chroma
correlation with the content (higher is better), plus the rest of `tfstyle.metrics`.
"""
import dataclasses
import os
import time

import numpy as np


@dataclasses.dataclass
class Triple:
    melody: int
    content: np.ndarray
    style: np.ndarray
    reference: np.ndarray
    # The reference's melody on the same instrument with other soundfonts, by file name.
    others: dict = dataclasses.field(default_factory=dict)


def triples(config="piano_violin", split="test", limit=None, sr=22050, seed=None,
            data_dir=None):
    """Pairs of a prepared timbre_pairs config; `seed` builds a fresh set of unseen melodies
    (a config of the same instruments with another seed) in `data_dir` first."""
    import tensorflow_datasets as tfds

    import tfds_builders
    from tfstyle import datasets

    if seed is not None:
        base = next(c for c in tfds_builders.timbre_pairs.Builder.BUILDER_CONFIGS
                    if c.name == config)
        fresh = dataclasses.replace(base, name=f"{config}_seed{seed}", seed=seed,
                                    train_melodies=0 if split == "test" else base.train_melodies,
                                    test_melodies=limit or base.test_melodies)
        builder = tfds_builders.timbre_pairs.Builder(config=fresh, data_dir=data_dir)
        builder.download_and_prepare()
    else:
        builder = tfds.builder(f"timbre_pairs/{config}", data_dir=data_dir, try_gcs=False)
    names = builder.info.features["instrument"].names
    rate = builder.info.features["audio"].sample_rate
    by_melody = {}
    for ex in tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False)):
        y = datasets.to_float_mono(ex["audio"], rate, sr)
        by_melody.setdefault(int(ex["melody"]), {})[names[ex["instrument"]]] = y
    ids = sorted(by_melody)[:limit] if limit else sorted(by_melody)
    a, b = names
    return [Triple(m, by_melody[m][a], by_melody[ids[(i + 1) % len(ids)]][b], by_melody[m][b])
            for i, m in enumerate(ids)]


def score(method, pairs, sr=22050, only=("mel_distance", "chroma_correlation")):
    """Runs `method(content, style) -> output` on every triple; mean of each measure and the
    mean seconds per clip. Beside `tfstyle.metrics`' names, `only` may ask for
    "chroma_sounding": chroma correlation over the content's sounding frames."""
    from tfstyle import metrics

    values, seconds = {}, []
    for t in pairs:
        start = time.perf_counter()
        out = method(t.content, t.style)
        seconds.append(time.perf_counter() - start)
        for name, value in metrics.evaluate(out, sr, content=t.content, style=t.style,
                                            reference=t.reference, only=only).items():
            values.setdefault(name, []).append(value)
        if "chroma_sounding" in only:
            values.setdefault("chroma_sounding", []).append(metrics.chroma_correlation(
                out, t.content, sr, active_db=metrics.ACTIVE_DB))
    return {**{k: float(np.mean(v)) for k, v in values.items()},
            "seconds": float(np.mean(seconds))}


# Held-out data: what a default or a shipped model must also win on, beside the test split of
# the generator it was developed with. Nothing is tuned on these two kinds.
# Cello is one of the instruments the timbre prior never trained on (bench/train_prior.py).
PAIRS = (("piano", "violin"), ("guitar", "flute"), ("clarinet", "trumpet"), ("piano", "cello"))
KINDS = {
    "test": "timbre_pairs test split (its generator, FluidR3_GM)",
    "generator": "melodies from another generator (arpeggios, 60-180 bpm, staccato to legato, "
                 "rests, velocity swells), FluidR3_GM",
    "soundfont": "timbre_pairs test melodies rendered with TimGM6mb, a soundfont never used "
                 "for fitting or tuning",
}
# Debian's timgm6mb-soundfont; MuseScore_General (musescore-general-soundfont-small) is the
# other held-out choice.
HELDOUT_SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"
# Decisions (a loudness mapping, whether a longer-trained run ships) are taken on this set,
# never on the held-out KINDS: varied melodies (`synth.varied_melody`, dynamics from pp to ff
# drawn per melody) with a seed that no training or held-out set uses, on FluidR3_GM.
DEVELOPMENT_SEED, DEVELOPMENT_SECONDS = 99, 4.0


def development_pairs(source, target, clips, sr=22050, soundfont=None):
    """(inputs on `source`, true renderings on `target`) of `clips` development melodies, both
    rendered with `soundfont` (default FluidR3_GM; never the held-out one)."""
    from tfds_builders.timbre_pairs import timbre_pairs_dataset_builder as tp
    from tfstyle import synth

    low, high = tp.Config(name="dev", a=source, b=target).note_range()
    melodies = [synth.varied_melody(np.random.default_rng([DEVELOPMENT_SEED, i]),
                                    DEVELOPMENT_SECONDS, low, high) for i in range(clips)]
    return tuple(synth.render(melodies, tp.INSTRUMENTS[name][0], sr, DEVELOPMENT_SECONDS,
                              soundfont=soundfont) for name in (source, target))


# General MIDI instruments that no loudness mapping was fitted on (train_harmonic.dynamics_pairs
# uses the timbre_pairs instruments): struck, sustained, sung and blown ones, as input on the
# development melodies, to see how a mapping does on an instrument it never met.
UNSEEN_INPUTS = {"marimba": 12, "church organ": 19, "choir aahs": 52, "oboe": 68}


def unseen_input_pairs(target, clips, sr=22050):
    """{instrument: (inputs, true renderings on `target`)} of `clips` development melodies
    (seed DEVELOPMENT_SEED, FluidR3_GM) played by each UNSEEN_INPUTS instrument, in the part
    of the target's range that all of them reach (MIDI 55-84)."""
    from tfds_builders.timbre_pairs import timbre_pairs_dataset_builder as tp
    from tfstyle import synth

    program, low, high = tp.INSTRUMENTS[target]
    low, high = max(low, 55), min(high, 84)
    melodies = [synth.varied_melody(np.random.default_rng([DEVELOPMENT_SEED, 100 + i]),
                                    DEVELOPMENT_SECONDS, low, high) for i in range(clips)]
    truths = synth.render(melodies, program, sr, DEVELOPMENT_SECONDS)
    return {name: (synth.render(melodies, other, sr, DEVELOPMENT_SECONDS), truths)
            for name, other in UNSEEN_INPUTS.items()}


def mean_mel_distance(clips, truths, sr=22050):
    """Mean mel distance of the clips to their true renderings (of the inputs: identity's)."""
    from tfstyle import metrics

    return float(np.mean([metrics.mel_distance(y, t, sr) for y, t in zip(clips, truths)]))


def other_melody(rng, seconds, low, high, tail=0.25):
    """A melody built unlike `synth.random_melody`: chord tones of a I-vi-IV-V progression
    (arpeggios, repeated notes, leaps up to an octave), 60-180 bpm, sixteenths to dotted
    halves, one articulation per melody from staccato to legato, 25 % rests and a velocity
    swell."""
    from tfstyle.synth import Note

    beat = 60.0 / float(rng.uniform(60, 180))
    tonic = int(rng.integers(12))
    progression = [(0, (0, 4, 7)), (9, (0, 3, 7)), (5, (0, 4, 7)), (7, (0, 4, 7))]
    articulation = float(rng.uniform(0.4, 1.0))
    swell, phase = float(rng.uniform(1.5, 4.0)), float(rng.uniform(0, 2 * np.pi))
    previous = int(rng.integers(low + 3, high - 3))
    notes, t = [], 0.0
    while t < seconds - tail - 0.05:
        length = beat * float(rng.choice([0.25, 0.5, 0.75, 1.0, 1.5, 3.0],
                                         p=[0.15, 0.3, 0.1, 0.25, 0.1, 0.1]))
        if notes and rng.random() < 0.25:
            t += length
            continue
        root, triad = progression[int(t / (2 * beat)) % 4]
        tones = [p for p in range(low, high + 1) if (p - tonic - root) % 12 in triad]
        near = [p for p in tones if abs(p - previous) <= (12 if rng.random() < 0.2 else 5)]
        previous = int(rng.choice(near or tones))
        velocity = int(np.clip(80 + 35 * np.sin(2 * np.pi * t / swell + phase)
                               + rng.normal(0, 6), 35, 127))
        end = min(t + max(articulation * length, 0.06), seconds - tail)
        notes.append(Note(previous, round(t, 4), round(end, 4), velocity))
        t += length
    return notes


def heldout_triples(a, b, kind, count=3, sr=22050, seconds=4.0, seed=1234, others=()):
    """(content on a, style on b, reference on b) triples of one kind of data (see KINDS);
    `others`: soundfonts to render each reference's melody with as well (on the soundfont
    kind: what a perfect copy of a training soundfont's instrument would score)."""
    from tfds_builders.timbre_pairs import timbre_pairs_dataset_builder as tp
    from tfstyle import datasets, synth

    if kind == "test":
        datasets.build(f"timbre_pairs/{a}_{b}")
        return triples(f"{a}_{b}", "test", limit=count, sr=sr)
    config = tp.Config(name=f"{a}_{b}", a=a, b=b)
    if kind == "generator":
        low, high = config.note_range()
        melodies = [other_melody(np.random.default_rng([seed, i]), seconds, low, high)
                    for i in range(count)]
        font = None
    elif kind == "soundfont":
        melodies, font = tp.melodies(config, "test")[:count], HELDOUT_SOUNDFONT
    else:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    clips = {name: synth.render(melodies, tp.INSTRUMENTS[name][0], sr, seconds, soundfont=font)
             for name in (a, b)}
    also = {os.path.basename(f): synth.render(melodies, tp.INSTRUMENTS[b][0], sr, seconds,
                                              soundfont=f) for f in others}
    return [Triple(i, clips[a][i], clips[b][(i + 1) % count], clips[b][i],
                   {name: renders[i] for name, renders in also.items()})
            for i in range(count)]
