"""Domain specs over TFDS datasets: label selection on mocked catalog data, `tfstyle data`, and
`tfstyle fit` on `tfds:` domains. Nothing here downloads; the catalog datasets are mocked with
`tfds.testing.mock_data`, the project's own are built from local files."""
import contextlib

import numpy as np
import pytest
import soundfile as sf

from conftest import melody
from tfstyle import datasets
from tfstyle.cli import main
from tfstyle.errors import TfstyleError

TINY_FIT = ["--n-mels", "16", "--generator-filters", "8", "--critic-filters", "8",
            "--embedding", "4", "--batch-size", "2", "-q"]
GENRES = ["jazz", "rock", "jazz", "blues", "rock", "jazz"]


def _clip(i, sr, dtype=np.int16):
    y = melody([220 + 40 * i] * 8, sr=sr)
    return (y * 32767).astype(dtype) if np.issubdtype(dtype, np.integer) else y


def _catalog_examples(tfds):
    """A few examples per catalog dataset, shaped like the real features."""
    def labels(name, config=None):
        return datasets.open_tfds(f"tfds:{name}" + (f"/{config}" if config else "")).labels

    nsynth = labels("nsynth", "gansynth_subset")
    family, source = nsynth["instrument/family"], nsynth["instrument/source"]
    vctk = labels("vctk")
    families = ["brass", "string", "brass", "brass"]
    sources = ["acoustic", "acoustic", "electronic", "acoustic"]
    return {
        "gtzan": [{"audio": _clip(i, 22050, np.int64), "label": labels("gtzan")["label"]
                   .str2int(g), "audio/filename": f"{g}.{i:05d}.wav".encode()}
                  for i, g in enumerate(GENRES)],
        "nsynth": [{"id": f"note{i}".encode(), "audio": _clip(i, 16000, np.float32),
                    "pitch": 60 + i, "velocity": 100,
                    "instrument": {"label": i, "family": family.str2int(f),
                                   "source": source.str2int(s)},
                    "qualities": {"bright": i % 2 == 0}}
                   for i, (f, s) in enumerate(zip(families, sources))],
        "vctk": [{"id": f"p{i}".encode(), "text": b"hello", "speech": _clip(i, 48000),
                  "speaker": i, "gender": vctk["gender"].str2int(g),
                  "accent": vctk["accent"].str2int(a)}
                 for i, (g, a) in enumerate([("F", "Scottish"), ("M", "Scottish"),
                                             ("F", "English"), ("F", "Scottish")])],
        "ljspeech": [{"id": f"LJ{i}".encode(), "speech": _clip(i, 22050), "text": b"a",
                      "text_normalized": b"a"} for i in range(4)],
    }


@contextlib.contextmanager
def mocked_catalog():
    import tensorflow as tf
    import tensorflow_datasets as tfds

    examples = _catalog_examples(tfds)

    def spec_of(value):
        value = np.asarray(value)
        dtype = tf.string if value.dtype.kind in "SO" else tf.as_dtype(value.dtype)
        return tf.TensorSpec([None] * value.ndim, dtype)

    def as_dataset(self, split, **kwargs):
        rows = examples[self.name]
        signature = tf.nest.map_structure(spec_of, rows[0])
        return tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=signature)

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        yield


@pytest.mark.parametrize("spec, chosen, sr", [
    ("tfds:gtzan?label=jazz", [0, 2, 5], 22050),
    ("tfds:gtzan?label=jazz,blues&take=3", [0, 2, 3], 22050),
    ("tfds:nsynth/gansynth_subset?split=valid&family=brass&source=acoustic", [0, 3], 16000),
    ("tfds:nsynth?instrument/family=string", [1], 16000),
    ("tfds:nsynth?pitch=61,62", [1, 2], 16000),
    ("tfds:nsynth?bright=true&source=acoustic", [0], 16000),
    ("tfds:vctk?gender=F&accent=Scottish", [0, 3], 48000),
    ("tfds:ljspeech?take=2", [0, 1], 22050),
])
def test_catalog_domains_are_selected_by_label(spec, chosen, sr):
    with mocked_catalog():
        found = list(datasets.sources(spec, 16000))
    assert [int(name.split("[")[-1].rstrip("]")) for name, _ in found] == chosen
    for (name, y), index in zip(found, chosen):
        assert y.dtype == np.float32
        # Resampled to the requested rate, and 16-bit PCM rescaled to [-1, 1).
        assert abs(len(y) - len(_clip(index, sr)) * 16000 / sr) <= 2
        assert 0.2 < np.max(np.abs(y)) < 1.0


@pytest.mark.parametrize("spec, message", [
    ("tfds:gtzn", "unknown dataset 'gtzn'; known: audio_domains, timbre_pairs, gtzan, nsynth, "
                  "ljspeech, vctk"),
    ("tfds:vctk/mic3", "vctk has no config 'mic3' here; its configs: mic1, mic2"),
    ("tfds:gtzan?label=polka", "label=polka is not one of blues, classical, country"),
    ("tfds:gtzan?genre=jazz", "unknown feature 'genre'; gtzan can be selected by label, "
                              "audio/filename; reserved: split, take, data_dir"),
    ("tfds:nsynth?pitch=high", "pitch=high is not one of 0, 1, 2"),
    ("tfds:gtzan?label", "'label' has no value"),
    ("tfds:gtzan?take=0", "take=0 must be a positive whole number"),
    ("tfds:", "no dataset named; known: audio_domains"),
])
def test_bad_specs_say_what_is_valid(spec, message, capsys):
    with mocked_catalog():
        assert main(["data", "info", "-q", spec]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_unprepared_catalog_dataset_says_how_to_prepare(tmp_path, capsys):
    assert main(["data", "info", "tfds:gtzan?label=jazz", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"gtzan is not prepared in {tmp_path}" in err
    assert "run 'tfds build gtzan' where there is network access and copy the gtzan folder" in err


def test_fit_trains_on_mocked_catalog_domains(tmp_path, capsys):
    with mocked_catalog():
        code = main(["fit", "--a", "tfds:gtzan?label=jazz", "--b", "tfds:gtzan?label=rock",
                     "--run-dir", str(tmp_path / "run"), "--steps", "2", *TINY_FIT])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "domain A: tfds:gtzan?label=jazz: 3 clips" in err
    assert "domain B: tfds:gtzan?label=rock: 2 clips" in err
    assert list((tmp_path / "run" / "checkpoints").glob("ckpt-*.index"))


@pytest.fixture
def recordings(tmp_path):
    """Domain folders as a user has them: nested files, mixed formats, one broken file."""
    root = tmp_path / "recordings"
    for domain, harmonics in (("Piano Takes", (1.0, 0.2)), ("violin", (0.4, 1.0, 0.7))):
        for i in range(5):
            folder = root / domain / ("late" if i > 2 else "")
            folder.mkdir(parents=True, exist_ok=True)
            sf.write(folder / f"take{i}.{'flac' if i % 2 else 'wav'}",
                     melody([262 + 30 * i] * 4, sr=22050, harmonics=harmonics), 22050)
    (root / "violin" / "broken.wav").write_text("not audio")
    return root


def test_audio_domains_build_info_and_train(recordings, tmp_path, capsys):
    data_dir = str(tmp_path / "tfds")
    assert main(["data", "build", "audio_domains/mine", "--manual-dir", str(recordings),
                 "--data-dir", data_dir]) == 0
    out, err = capsys.readouterr()
    # 5 files a domain: one held out each (10 %, at least one); the broken file is reported.
    assert "audio_domains/mine: prepared in" in out and \
        "piano_takes 4, violin 4, heldout 2 examples" in out
    assert "skipped in violin: violin/broken.wav: not a readable audio file" in err

    assert main(["data", "info", "-q", "--data-dir", data_dir, "tfds:audio_domains/mine?"
                 "split=heldout&domain=violin", str(recordings / "violin")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("domain=violin: 1 of 2 examples, 1.0 s (1 at 22050 Hz)")
    assert out[1].endswith("violin: 5 audio files, 5.0 s (5 at 22050 Hz); 1 unreadable")
    assert "broken.wav" in out[2]

    assert main(["data", "list", "--data-dir", data_dir]) == 0
    assert "prepared: mine" in capsys.readouterr().out

    bad = f"tfds:audio_domains/mine?split=cello&data_dir={data_dir}"
    with pytest.raises(TfstyleError, match="its splits: piano_takes, violin, heldout"):
        datasets.open_tfds(bad)
    clips = list(datasets.sources(f"tfds:audio_domains/mine?split=violin&data_dir={data_dir}",
                                  16000))
    assert len(clips) == 4 and all(abs(len(y) - 16000) <= 2 for _, y in clips)


@pytest.mark.parametrize("layout, message", [
    ({"a/x.wav": True, "b/readme.txt": False}, "b: the domain holds no audio files"),
    ({"x.wav": True}, "no domain subfolders with audio (audio files directly in it do not "
                      "count)"),
    ({"a/x.wav": True, "b/y.wav": False}, "domain b: none of its 1 files is readable"),
    ({"heldout/x.wav": True}, "'heldout' is the held-out split's name"),
])
def test_audio_domains_rejects_unusable_layouts(layout, message, tmp_path, capsys):
    root = tmp_path / "src"
    for path, good in layout.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        if good:
            sf.write(root / path, melody([440] * 2, sr=8000), 8000)
        else:
            (root / path).write_text("junk")
    assert main(["data", "build", "audio_domains/x", "--manual-dir", str(root),
                 "--data-dir", str(tmp_path / "tfds")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert message in err[-1] and err[-1].startswith("tfstyle: error: "), err


@pytest.mark.parametrize("args, message", [
    (["gtzan"], "gtzan: TFDS lists no file names or checksums for this dataset"),
    (["vctk/mic1"], "give the folder holding VCTK-Corpus-0.92.zip with --manual-dir"),
    (["ljspeech", "--manual-dir", "EMPTY"], "lacks LJSpeech-1.1.tar.bz2 (2.56 GiB)"),
    # The archive is found locally and its size checked before anything else: no network is
    # tried, and the message does not depend on how long the temporary path is.
    (["ljspeech", "--manual-dir", "FAKE"],
     "LJSpeech-1.1.tar.bz2 is 15 bytes, not 2748572632 (a partial or different download"),
])
def test_catalog_builds_never_download(args, message, tmp_path, capsys):
    (tmp_path / "EMPTY").mkdir()
    (tmp_path / "FAKE").mkdir()
    (tmp_path / "FAKE" / "LJSpeech-1.1.tar.bz2").write_bytes(b"not the archive")
    args = [str(tmp_path / a) if a in ("EMPTY", "FAKE") else a for a in args]
    assert main(["data", "build", *args, "--data-dir", str(tmp_path / "tfds")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert message in err[-1], err
