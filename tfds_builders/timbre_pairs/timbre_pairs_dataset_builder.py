"""timbre_pairs: the same seeded random melodies rendered on two General MIDI instruments."""
from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_datasets as tfds

from tfstyle import synth

# name: (General MIDI program, lowest and highest note it plays comfortably)
INSTRUMENTS = {
    "piano": (0, 48, 84),
    "guitar": (24, 40, 76),       # acoustic nylon
    "violin": (40, 55, 88),
    "cello": (42, 36, 67),
    "trumpet": (56, 55, 82),
    "saxophone": (65, 49, 80),    # alto
    "clarinet": (71, 50, 84),
    "flute": (73, 60, 93),
}
_SPLITS = ("train", "test")


@dataclasses.dataclass
class Config(tfds.core.BuilderConfig):
    """An instrument pair and the size of each split."""

    a: str = "piano"
    b: str = "violin"
    train_melodies: int = 200
    test_melodies: int = 40
    seconds: float = 4.0
    sr: int = 22050
    seed: int = 0
    soundfont: str | None = None   # None: $TFSTYLE_SOUNDFONT or the system's FluidR3_GM
    # "random": `synth.random_melody` (80-140 bpm, steps, few rests: the benchmark's melodies);
    # "varied": `synth.varied_melody` (tempo, register, lengths, rests, dynamics, legato).
    generator: str = "random"
    # More than one soundfont: melody i of each split is rendered with soundfonts[i % count]
    # (both instruments of a pair with the same one); empty: `soundfont` alone.
    soundfonts: tuple = ()

    def note_range(self):
        """The notes both instruments play comfortably."""
        low = max(INSTRUMENTS[self.a][1], INSTRUMENTS[self.b][1])
        high = min(INSTRUMENTS[self.a][2], INSTRUMENTS[self.b][2])
        return low, high


GENERATORS = {"random": synth.random_melody, "varied": synth.varied_melody}
# The varied configs' soundfonts: Debian's fluid-soundfont-gm and musescore-general-soundfont-
# small. TimGM6mb (timgm6mb-soundfont) is kept out of every config: the held-out soundfont.
VARIED_SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",
                     "/usr/share/sounds/sf3/MuseScore_General.sf3")


def _pair(a, b, **kwargs):
    return Config(name=f"{a}_{b}", a=a, b=b,
                  description=f"{a} (domain A) and {b} (domain B)", **kwargs)


def _varied(a, b, **kwargs):
    return Config(name=f"{a}_{b}_varied", a=a, b=b, generator="varied",
                  soundfonts=VARIED_SOUNDFONTS, train_melodies=400,
                  description=f"{a} (domain A) and {b} (domain B): 400 varied melodies (tempo, "
                              "register, lengths, rests, dynamics, legato) on two soundfonts "
                              "(FluidR3_GM, MuseScore_General)", **kwargs)


def melodies(config, split):
    """The melodies of a split: a pure function of the config's seed, so every build agrees.

    Test melodies are drawn from their own seed stream, and any that repeats a training melody
    note for note is replaced, so the test split holds only unseen melodies.
    """
    low, high = config.note_range()
    if config.generator not in GENERATORS:
        raise ValueError(f"unknown melody generator {config.generator!r}; known: "
                         f"{', '.join(GENERATORS)}")
    generate = GENERATORS[config.generator]

    def draw(split_index, count, exclude=frozenset()):
        out, i = [], 0
        while len(out) < count:
            melody = generate(np.random.default_rng([config.seed, split_index, i]),
                              config.seconds, low, high)
            i += 1
            if _signature(melody) not in exclude:
                out.append(melody)
        return out

    if split == "train":
        return draw(0, config.train_melodies)
    train = {_signature(m) for m in draw(0, config.train_melodies)}
    return draw(1, config.test_melodies, exclude=train)


def _soundfonts(config):
    return tuple(config.soundfonts) or (config.soundfont,)


def _signature(melody):
    return tuple((n.pitch, round(n.start, 2)) for n in melody)


class Builder(tfds.core.GeneratorBasedBuilder):
    """Paired melodies on two instruments, rendered locally by fluidsynth (no download)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        _pair("piano", "violin"),
        _pair("guitar", "flute"),
        _pair("piano", "cello"),
        _pair("clarinet", "trumpet"),
        _varied("piano", "violin"),
        Config(name="mini", a="piano", b="violin", train_melodies=4, test_melodies=2,
               seconds=2.0, description="piano and violin, 4 + 2 melodies of 2 s: a smoke "
                                        "test of the fluidsynth set-up in a few seconds"),
        Config(name="mini_varied", a="piano", b="violin", train_melodies=4, test_melodies=2,
               seconds=2.0, generator="varied", description="the varied generator's smoke "
                                                            "test: 4 + 2 melodies of 2 s"),
    ]

    def _info(self) -> tfds.core.DatasetInfo:
        config = self.builder_config
        return self.dataset_info_from_configs(
            features=tfds.features.FeaturesDict({
                "audio": tfds.features.Audio(shape=(None,), dtype=np.int16,
                                             sample_rate=config.sr),
                "instrument": tfds.features.ClassLabel(names=[config.a, config.b]),
                "program": np.int32,
                "melody": np.int32,
                "pitch": tfds.features.Tensor(shape=(None,), dtype=np.int32),
                "onset": tfds.features.Tensor(shape=(None,), dtype=np.float32),
                "offset": tfds.features.Tensor(shape=(None,), dtype=np.float32),
            }),
            homepage="https://github.com/FluidSynth/fluidsynth",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        del dl_manager  # everything is made here
        config = self.builder_config
        for name in (config.a, config.b):
            if name not in INSTRUMENTS:
                raise ValueError(f"unknown instrument {name!r}; known: {', '.join(INSTRUMENTS)}")
        synth.fluidsynth_path()                                            # fail before any work
        for font in _soundfonts(config):
            synth.soundfont_path(font)
        counts = {"train": config.train_melodies, "test": config.test_melodies}
        return {split: self._generate_examples(split) for split in _SPLITS if counts[split]}

    def _generate_examples(self, split):
        config = self.builder_config
        chosen = melodies(config, split)
        fonts = _soundfonts(config)
        for name in (config.a, config.b):
            program = INSTRUMENTS[name][0]
            clips = [None] * len(chosen)
            for k, font in enumerate(fonts):
                ids = range(k, len(chosen), len(fonts))
                for i, clip in zip(ids, synth.render([chosen[i] for i in ids], program,
                                                     config.sr, config.seconds, font)):
                    clips[i] = clip
            for index, (melody, clip) in enumerate(zip(chosen, clips)):
                yield f"{index:05d}_{name}", {
                    "audio": np.round(clip * 32767).astype(np.int16),
                    "instrument": name,
                    "program": program,
                    "melody": index,
                    "pitch": np.array([n.pitch for n in melody], np.int32),
                    "onset": np.array([n.start for n in melody], np.float32),
                    "offset": np.array([n.end for n in melody], np.float32),
                }
