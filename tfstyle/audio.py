"""Audio file input and output: float32 mono at a requested rate, validated; atomic writes.

Reading goes through libsndfile (via soundfile), which covers WAV, FLAC, OGG/Vorbis, Opus and MP3
(libsndfile >= 1.1); resampling uses soxr (the resampler librosa itself uses). Nothing here imports
TensorFlow, so the CLI can reject bad input before paying TensorFlow's import time.
"""
import contextlib
import os
import re
import tempfile
import warnings

import numpy as np
import soundfile as sf

from tfstyle.errors import TfstyleError

# A file with more channels than this is far more likely to be something other than a recording
# (raw sensor data, a mis-declared header) than a surround mix we should silently fold to mono.
MAX_CHANNELS = 8
# Every output is scaled so its peak stays at or below -1 dBFS: headroom for lossy encoders.
PEAK = 10 ** (-1 / 20)
# Peak below which a clip counts as silent (-90 dBFS, under the noise floor of 16-bit audio).
SILENCE_PEAK = 10 ** (-90 / 20)

_WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}
_WRITE_SUBTYPES = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}


def load(path, sr, min_samples=1):
    """Reads an audio file as float32 mono at `sr` Hz.

    Args:
        path: file to read (any format libsndfile reads).
        sr: target sample rate in Hz; the file is resampled if it differs.
        min_samples: the shortest acceptable length at `sr` (e.g. one STFT frame).

    Returns:
        np.ndarray of shape [samples], float32.

    Raises:
        TfstyleError: missing, unreadable or non-audio file; truncated data; NaN/Inf samples;
            unsupported channel count; shorter than `min_samples`.
    """
    y, file_sr = read(path)
    y = resample(y, file_sr, sr)
    if len(y) < min_samples:
        raise TfstyleError(f"{path}: too short ({len(y) / sr:.3f} s at {sr} Hz); at least "
                           f"{min_samples} samples ({min_samples / sr:.3f} s) are needed")
    if np.max(np.abs(y)) < SILENCE_PEAK:
        warnings.warn(f"{path}: the audio is silent (peak below -90 dBFS)", stacklevel=2)
    return np.ascontiguousarray(y, dtype=np.float32)


def resample(y, sr_from, sr_to):
    """float32 `y` at `sr_to` (soxr HQ, the resampler librosa uses); unchanged if equal."""
    if sr_from == sr_to:
        return y
    import soxr  # deferred: only needed when rates differ

    return soxr.resample(y, sr_from, sr_to, quality="HQ").astype(np.float32)


def read(path):
    """Reads an audio file as float32 mono at its own rate, with the checks of `load`.

    Returns:
        (np.ndarray [samples] float32, sample rate in Hz).
    """
    if not os.path.exists(path):
        raise TfstyleError(f"{path}: no such file")
    if os.path.isdir(path):
        raise TfstyleError(f"{path}: is a directory, expected an audio file")
    try:
        f = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise TfstyleError(f"{path}: not a readable audio file ({_reason(e)})") from None
    except OSError as e:
        raise TfstyleError(f"{path}: cannot read ({e.strerror or e})") from None
    with f:
        file_sr, channels, declared = f.samplerate, f.channels, f.frames
        try:
            y = f.read(dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise TfstyleError(f"{path}: corrupt or truncated audio data ({_reason(e)})") from None
        if _truncated(f.extra_info) or len(y) < declared:
            raise TfstyleError(f"{path}: the file is truncated (its header promises more audio "
                               "than it holds)")
    if not 1 <= channels <= MAX_CHANNELS:
        raise TfstyleError(f"{path}: {channels} channels is not a supported layout "
                           f"(1 to {MAX_CHANNELS} channels are downmixed to mono)")
    if len(y) == 0:
        raise TfstyleError(f"{path}: the file holds no audio samples")
    if not np.all(np.isfinite(y)):
        raise TfstyleError(f"{path}: the audio contains NaN or infinite samples")
    y = y.mean(axis=1) if channels > 1 else y[:, 0]
    return np.ascontiguousarray(y, dtype=np.float32), file_sr


def _reason(error):
    return str(error).replace("Error :", "").split(":")[-1].strip() or "unknown format"


def _truncated(log):
    # libsndfile clamps the frame count of a cut-off WAV to the bytes present and only records
    # the mismatch in its log, as "data : <declared> (should be <present>)".
    m = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", log, re.MULTILINE)
    return bool(m) and int(m.group(1)) > int(m.group(2))


def check_writable(path):
    """Fails early, before any long computation, if `path` cannot be written as audio."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in _WRITE_FORMATS:
        raise TfstyleError(f"{path}: unsupported output format {ext or '(no extension)'}; "
                           f"use one of {', '.join(sorted(_WRITE_FORMATS))}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise TfstyleError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise TfstyleError(f"{path}: the folder {folder} is not writable")
    if os.path.isdir(path):
        raise TfstyleError(f"{path}: is a directory")


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`, renamed over it only if the block succeeds.

    An interrupted write therefore never leaves a half-written file, and never damages an
    existing file of the same name.
    """
    folder = os.path.dirname(os.path.abspath(path))
    base, ext = os.path.splitext(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=f".partial{ext}", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the file the mode a plain open() would have (or keep the
        # mode of the file it replaces).
        os.chmod(tmp, os.stat(path).st_mode & 0o7777 if os.path.exists(path) else
                 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def match_level(y, reference, peak=PEAK):
    """Scales y to the reference's RMS level, then down if needed so its peak stays ≤ `peak`
    (-1 dBFS): outputs sound as loud as their input and never clip."""
    rms = np.sqrt(np.mean(np.square(y))) + 1e-12
    target = np.sqrt(np.mean(np.square(reference)))
    y = y * (target / rms)
    top = np.max(np.abs(y), initial=0.0)
    if top > peak:
        y = y * (peak / top)
    return np.asarray(y, np.float32)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(path, y, sr):
    """Writes mono float audio atomically; the format follows the extension (.wav/.flac/.ogg/.mp3).

    Samples are clipped to [-1, 1] by the integer encoders; callers normalise beforehand.
    """
    check_writable(path)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or not np.all(np.isfinite(y)):
        raise ValueError("save() expects a finite 1-D waveform")
    fmt = _WRITE_FORMATS[os.path.splitext(path)[1].lower()]
    with atomic_path(path) as tmp:
        sf.write(tmp, y, sr, format=fmt, subtype=_WRITE_SUBTYPES[fmt])
