"""Builds timbre_pairs/mini for real (fluidsynth + the system's General MIDI soundfont)."""
import dataclasses
import json
import os
import shutil
import warnings
from unittest import mock

import numpy as np
import tensorflow_datasets as tfds

from tfstyle import synth
from tfstyle.errors import TfstyleError

from . import timbre_pairs_dataset_builder as builder_module

try:
    synth.fluidsynth_path(), synth.soundfont_path()
    MISSING = None
except TfstyleError as e:
    MISSING = str(e)


class TimbrePairsTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = builder_module.Builder
    BUILDER_CONFIG_NAMES_TO_TEST = ["mini", "mini_varied"]
    SPLITS = {"train": 8, "test": 4}          # 4 + 2 melodies, each on both instruments
    # fluidsynth reads and writes local files, which TFDS's os-function guard would block.
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False

    def setUp(self):
        if MISSING:
            self.skipTest(MISSING)
        super().setUp()

    def _mini(self, name="mini"):
        builder = self._make_builder(config=name)
        builder.download_and_prepare()
        return builder

    def test_melodies_are_reproducible(self):
        # The benchmark's melodies are a function of the seed: these files pin them, so a
        # change to a generator cannot silently change the dataset.
        for name in ("mini", "mini_varied"):
            with open(os.path.join(self.dummy_data, f"{name}_melodies.json")) as f:
                expected = json.load(f)
            config = self._mini(name).builder_config
            for split in ("train", "test"):
                got = [[[n.pitch, n.start, n.end, n.velocity] for n in melody]
                       for melody in builder_module.melodies(config, split)]
                self.assertEqual(got, expected[split])
            train = {builder_module._signature(m)
                     for m in builder_module.melodies(config, "train")}
            self.assertFalse(train & {builder_module._signature(m)
                                      for m in builder_module.melodies(config, "test")})

    def test_varied_melodies_cover_what_the_plain_ones_do_not(self):
        rng = lambda i: np.random.default_rng([0, 0, i])
        low, high = builder_module.INSTRUMENTS["violin"][1], builder_module.INSTRUMENTS["piano"][2]
        plain = [synth.random_melody(rng(i), 4.0, low, high) for i in range(200)]
        varied = [synth.varied_melody(rng(i), 4.0, low, high) for i in range(200)]

        def spread(melodies):
            notes = [n for m in melodies for n in m]
            onsets = [b.start - a.start for m in melodies for a, b in zip(m, m[1:])]
            held = [(a.end - a.start) / (b.start - a.start)
                    for m in melodies for a, b in zip(m, m[1:])]
            velocity = [n.velocity for n in notes]
            return dict(shortest=min(onsets), longest=max(onsets), legato=max(held),
                        staccato=min(held), quiet=min(velocity), loud=max(velocity))

        p, v = spread(plain), spread(varied)
        self.assertLess(v["shortest"], 0.5 * p["shortest"])      # faster notes
        self.assertLess(v["staccato"], 0.5)                       # detached ...
        self.assertEqual(v["legato"], 1.0)                        # ... and touching notes
        self.assertLess(p["legato"], 0.96)                        # the plain ones: 95 % at most
        self.assertLess(v["quiet"], p["quiet"] - 30)              # softer
        self.assertGreater(v["loud"], p["loud"] + 10)             # louder
        for melody in varied:
            self.assertTrue(all(low <= n.pitch <= high for n in melody))
            self.assertTrue(all(a.end <= b.start for a, b in zip(melody, melody[1:])))
            self.assertLessEqual(melody[-1].end, 4.0 - 0.25)

    def test_each_melody_is_rendered_with_its_soundfont(self):
        other = "/usr/share/sounds/sf2/TimGM6mb.sf2"
        if not os.path.exists(other):
            self.skipTest("timgm6mb-soundfont is not installed")
        config = self._mini().builder_config
        fonts = (synth.soundfont_path(), other)
        builder = builder_module.Builder(config=dataclasses.replace(
            config, name="mini_two_fonts", soundfonts=fonts), data_dir=self.tmp_dir)
        builder.download_and_prepare()
        chosen = builder_module.melodies(builder.builder_config, "test")
        names = builder.info.features["instrument"].names
        for ex in tfds.as_numpy(builder.as_dataset(split="test")):
            melody = int(ex["melody"])
            expected = synth.render([chosen[melody]], ex["program"], config.sr, config.seconds,
                                    fonts[melody % 2])[0]
            got = ex["audio"].astype(np.float32) / 32767
            self.assertLess(np.max(np.abs(got - expected)), 1e-3, names[ex["instrument"]])

    def test_pairs_hold_the_same_notes_at_the_same_times(self):
        import librosa

        builder = self._mini()
        sr, hop = builder.builder_config.sr, 256
        names = builder.info.features["instrument"].names
        by_melody = {}
        for ex in tfds.as_numpy(builder.as_dataset(split="test")):
            by_melody.setdefault(int(ex["melody"]), {})[names[ex["instrument"]]] = ex
        self.assertEqual(len(by_melody), 2)
        for pair in by_melody.values():
            a, b = pair["piano"], pair["violin"]
            np.testing.assert_array_equal(a["onset"], b["onset"])
            self.assertEqual(len(a["audio"]), round(builder.builder_config.seconds * sr))
            self.assertEqual(len(a["audio"]), len(b["audio"]))
            envelopes = []
            for ex in (a, b):
                y = ex["audio"].astype(np.float32) / 32768
                # Each note sounds at its own pitch in the middle of its written span.
                with warnings.catch_warnings():
                    # The CQT's lowest octaves are short signals after its downsampling.
                    warnings.simplefilter("ignore", UserWarning)
                    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=hop)
                for pitch, start, end in zip(ex["pitch"], ex["onset"], ex["offset"]):
                    frame = int((start + end) / 2 * sr / hop)
                    self.assertEqual(chroma[:, frame].argmax(), pitch % 12)
                e = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
                envelopes.append((e - e.mean()) / (e.std() + 1e-9))
            # The two renderings' onset envelopes line up within the attack difference of the
            # instruments (a violin speaks up to ~30 ms later than a piano).
            lag = np.correlate(*envelopes, "full").argmax() - (len(envelopes[1]) - 1)
            self.assertLessEqual(abs(lag), 3)

    def test_missing_fluidsynth_names_the_packages(self):
        with mock.patch.object(shutil, "which", return_value=None):
            with self.assertRaisesRegex(TfstyleError, "apt-get install fluidsynth "
                                                      "fluid-soundfont-gm"):
                self._mini()
        with mock.patch.object(synth, "SOUNDFONTS", ("/nonexistent.sf2",)), \
                mock.patch.dict(os.environ, {"TFSTYLE_SOUNDFONT": ""}):
            with self.assertRaisesRegex(TfstyleError, "no General MIDI soundfont"):
                self._mini()


if __name__ == "__main__":
    tfds.testing.test_main()
