"""Builds audio_domains from dummy_data/: piano/ (3 files) and violin/ (3 files, one broken)."""
import tensorflow_datasets as tfds

from . import audio_domains_dataset_builder


class AudioDomainsTest(tfds.testing.DatasetBuilderTestCase):
    DATASET_CLASS = audio_domains_dataset_builder.Builder
    # One file of each domain is held out (chosen by path hash); violin/broken.wav is skipped.
    SPLITS = {"piano": 2, "violin": 2, "heldout": 2}
    # Audio is read by libsndfile from local paths, which TFDS's os-function guard cannot see.
    MOCK_OUT_FORBIDDEN_OS_FUNCTIONS = False

    def test_skipped_files_are_recorded(self):
        builder = self._make_builder()
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(
            manual_dir=self.dummy_data))
        skipped = builder.info.metadata["skipped"]
        self.assertEqual(list(skipped), ["violin"])
        self.assertIn("broken.wav: not a readable audio file", skipped["violin"][0])
        examples = list(tfds.as_numpy(builder.as_dataset(split="heldout")))
        self.assertEqual(sorted(e["domain"] for e in examples), [b"piano", b"violin"])
        for e in examples:
            self.assertAlmostEqual(e["duration"], len(e["audio"]) / e["sample_rate"], places=5)


if __name__ == "__main__":
    tfds.testing.test_main()
