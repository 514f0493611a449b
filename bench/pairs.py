"""The timbre_pairs benchmark as (content, style, reference) triples, and how methods score.

For each test melody m: content = m on instrument A, reference = m on instrument B (the true
answer), style = another test melody on B (what an example-based method is shown). Scores are
averaged over melodies: mel distance to the reference (dB, lower is better) and chroma
correlation with the content (higher is better), plus the rest of `tfstyle.metrics`.
"""
import dataclasses
import time

import numpy as np


@dataclasses.dataclass
class Triple:
    melody: int
    content: np.ndarray
    style: np.ndarray
    reference: np.ndarray


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
    mean seconds per clip."""
    from tfstyle import metrics

    values, seconds = {}, []
    for t in pairs:
        start = time.perf_counter()
        out = method(t.content, t.style)
        seconds.append(time.perf_counter() - start)
        for name, value in metrics.evaluate(out, sr, content=t.content, style=t.style,
                                            reference=t.reference, only=only).items():
            values.setdefault(name, []).append(value)
    return {**{k: float(np.mean(v)) for k, v in values.items()},
            "seconds": float(np.mean(seconds))}
