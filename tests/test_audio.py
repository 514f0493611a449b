"""Audio I/O: formats, resampling, downmixing, validation errors and atomic writes."""
import os
import warnings

import numpy as np
import pytest
import soundfile as sf

from conftest import SR, tone
from tfstyle import audio
from tfstyle.errors import TfstyleError


def test_loads_resamples_and_downmixes(wav):
    y = tone(1.0, 44100, freqs=(440.0,))
    stereo = np.stack([y, 0.5 * y], axis=1)
    path = wav("stereo.flac", stereo, sr=44100)
    out = audio.load(path, SR)
    assert out.dtype == np.float32 and out.ndim == 1
    assert len(out) == SR
    ref = tone(1.0, SR, freqs=(440.0,)) * 0.75
    spectrum = np.abs(np.fft.rfft(out)), np.abs(np.fft.rfft(ref))
    assert np.argmax(spectrum[0]) == np.argmax(spectrum[1])


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
def test_every_output_format_round_trips(tmp_path, ext):
    y = tone(0.5, SR)
    path = str(tmp_path / f"out.{ext}")
    audio.save(path, y, SR)
    back = audio.load(path, SR)
    assert abs(len(back) - len(y)) < 0.05 * SR
    assert not [p for p in os.listdir(tmp_path) if "partial" in p]


def _expect(path, message, **kwargs):
    """Both readers, whole and in blocks, refuse the file with the same one-line message."""
    with pytest.raises(TfstyleError, match=message) as info:
        audio.load(path, SR, **kwargs)
    assert "\n" not in str(info.value)
    with pytest.raises(TfstyleError, match=message) as info:
        blocks, _ = audio.stream(path, SR, block_seconds=0.1, **kwargs)
        list(blocks())
    assert "\n" not in str(info.value)


def test_streamed_blocks_join_to_the_loaded_audio(wav):
    y = tone(2.3, 44100, freqs=(440.0, 1250.0))
    path = wav("long.flac", np.stack([y, 0.5 * y], axis=1), sr=44100)
    whole = audio.load(path, SR)
    blocks, samples = audio.stream(path, SR, block_seconds=0.37)
    parts = list(blocks())
    assert len(parts) > 5 and samples == len(whole)
    # The streamed resampler keeps its state across blocks: the same samples as in one piece.
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)


def test_blocks_are_saved_scaled_as_one_piece(tmp_path):
    y = 3.0 * tone(1.5, SR, freqs=(220.0, 660.0))
    reference = tone(1.0, SR)
    rms = float(np.sqrt(np.mean(reference ** 2)))
    audio.save(str(tmp_path / "whole.wav"), audio.match_level(y, reference), SR)
    n = audio.save_blocks(str(tmp_path / "blocks.wav"), np.array_split(y, 7), SR, rms)
    assert n == len(y)
    whole, blocks = (sf.read(str(tmp_path / f"{k}.wav"))[0] for k in ("whole", "blocks"))
    np.testing.assert_allclose(blocks, whole, atol=2 / 32768)
    assert sorted(os.listdir(tmp_path)) == ["blocks.wav", "whole.wav"]   # no spool left
    # A failure half-way leaves neither a partial output nor a spool file.
    with pytest.raises(TfstyleError, match="non-finite"):
        audio.save_blocks(str(tmp_path / "bad.wav"), [y, np.full(10, np.nan)], SR, rms)
    assert sorted(os.listdir(tmp_path)) == ["blocks.wav", "whole.wav"]


def test_missing_directory_and_non_audio(tmp_path, wav):
    _expect(str(tmp_path / "nope.wav"), "no such file")
    _expect(str(tmp_path), "is a directory")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    _expect(str(text), "not a readable audio file")


def test_empty_truncated_and_nan_files(tmp_path, wav):
    _expect(wav("empty.wav", np.zeros(0, np.float32)), "no audio samples")
    good = wav("good.wav", tone(1.0), subtype="PCM_16")
    data = open(good, "rb").read()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    _expect(str(cut), "truncated")
    flac = wav("good.flac", tone(1.0))
    data = open(flac, "rb").read()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    _expect(str(cut), "truncated")
    bad = tone(1.0)
    bad[100] = np.nan
    _expect(wav("nan.wav", bad, subtype="FLOAT"), "NaN")


def test_too_short_too_many_channels_and_silence(wav):
    _expect(wav("short.wav", tone(0.01)), "too short", min_samples=2048)
    _expect(wav("many.wav", np.zeros((1000, 12), np.float32) + 0.1), "12 channels")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        audio.load(wav("silent.wav", np.zeros(SR, np.float32)), SR)
    assert any("silent" in str(w.message) for w in caught)


def test_save_is_atomic_and_checks_paths(tmp_path, monkeypatch):
    path = str(tmp_path / "out.wav")
    audio.save(path, tone(0.5), SR)
    before = open(path, "rb").read()

    def broken_write(*args, **kwargs):
        open(args[0], "wb").write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(sf, "write", broken_write)
    with pytest.raises(OSError):
        audio.save(path, tone(0.3), SR)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["out.wav"]
    with pytest.raises(TfstyleError, match="unsupported output format"):
        audio.check_writable(str(tmp_path / "out.txt"))
    with pytest.raises(TfstyleError, match="does not exist"):
        audio.check_writable(str(tmp_path / "missing" / "out.wav"))


def test_saved_files_get_the_usual_permissions(tmp_path):
    import stat

    path = tmp_path / "out.wav"
    audio.save(str(path), np.zeros(1600, np.float32), 16000)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask      # not mkstemp's 0600
    os.chmod(path, 0o640)
    audio.save(str(path), np.zeros(1600, np.float32), 16000)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640              # a replaced file keeps its
