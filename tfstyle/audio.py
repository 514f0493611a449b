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

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")   # what folders and globs pick up

# A file with more channels than this is far more likely to be something other than a recording
# (raw sensor data, a mis-declared header) than a surround mix we should silently fold to mono.
MAX_CHANNELS = 8
# Every output is scaled so its peak stays at or below -1 dBFS: headroom for lossy encoders.
PEAK = 10 ** (-1 / 20)
# Peak below which a clip counts as silent (-90 dBFS, under the noise floor of 16-bit audio).
SILENCE_PEAK = 10 ** (-90 / 20)

_WRITE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}
_WRITE_SUBTYPES = {"WAV": "PCM_16", "FLAC": "PCM_16", "OGG": "VORBIS", "MP3": "MPEG_LAYER_III"}


def load(path, sr, min_samples=1, max_seconds=None):
    """Reads an audio file as float32 mono at `sr` Hz.

    Args:
        path: file to read (any format libsndfile reads).
        sr: target sample rate in Hz; the file is resampled if it differs.
        min_samples: the shortest acceptable length at `sr` (e.g. one STFT frame).
        max_seconds: read at most this much from the start.

    Returns:
        np.ndarray of shape [samples], float32.

    Raises:
        TfstyleError: missing, unreadable or non-audio file; truncated data; NaN/Inf samples;
            unsupported channel count; shorter than `min_samples`.
    """
    y, file_sr = read(path, max_seconds)
    y = resample(y, file_sr, sr)
    _check_length(path, len(y), sr, min_samples)
    _warn_if_silent(path, np.max(np.abs(y)))
    return np.ascontiguousarray(y, dtype=np.float32)


def _check_length(path, samples, sr, min_samples):
    if samples < min_samples:
        raise TfstyleError(f"{path}: too short ({samples / sr:.3f} s at {sr} Hz); at least "
                           f"{min_samples} samples ({min_samples / sr:.3f} s) are needed")


def _warn_if_silent(path, peak):
    if peak < SILENCE_PEAK:
        warnings.warn(f"{path}: the audio is silent (peak below -90 dBFS)", stacklevel=3)


def as_waveform(x, sr, min_samples, what):
    """A path's audio at `sr`, or a float waveform checked: mono, finite, long enough."""
    if isinstance(x, (str, bytes)) or hasattr(x, "__fspath__"):
        return load(x, sr, min_samples=min_samples)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise TfstyleError(f"{what}: expected a mono waveform [samples], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise TfstyleError(f"{what}: the waveform contains NaN or infinite samples")
    if len(x) < min_samples:
        raise TfstyleError(f"{what}: too short ({len(x)} samples); at least {min_samples} are "
                           "needed with these settings")
    return x


def as_waveforms(content, style, sr, min_samples):
    """(content, style) as `as_waveform`s; a list of styles is joined end to end."""
    styles = style if isinstance(style, (list, tuple)) else [style]
    return (as_waveform(content, sr, min_samples, "content"),
            np.concatenate([as_waveform(s, sr, min_samples, "style") for s in styles]))


def resample(y, sr_from, sr_to):
    """float32 `y` at `sr_to` (soxr HQ, the resampler librosa uses); unchanged if equal."""
    if sr_from == sr_to:
        return y
    import soxr  # deferred: only needed when rates differ

    return soxr.resample(y, sr_from, sr_to, quality="HQ").astype(np.float32)


def read(path, max_seconds=None):
    """Reads an audio file as float32 mono at its own rate, with the checks of `load`.

    Args:
        max_seconds: read at most this much from the start (e.g. for a picture).
    Returns:
        (np.ndarray [samples] float32, sample rate in Hz).
    """
    f = _open(path)
    with f:
        file_sr, declared = f.samplerate, f.frames
        frames = -1 if max_seconds is None else int(max_seconds * file_sr)
        try:
            y = f.read(frames, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise TfstyleError(f"{path}: corrupt or truncated audio data ({_reason(e)})") from None
        if max_seconds is None and (_truncated(f.extra_info) or len(y) < declared):
            raise _truncation(path)
    if len(y) == 0:
        raise TfstyleError(f"{path}: the file holds no audio samples")
    return _mono(y, path), file_sr


def stream(path, sr, block_seconds=10.0, min_samples=1):
    """Opens an audio file for reading in blocks; memory does not grow with its length.

    The header is checked at once (missing, unreadable or non-audio file, channels, too
    short); the samples as they are read (NaN, truncation), each as a one-line TfstyleError.

    Returns:
        (blocks, samples): a function returning a fresh iterator over float32 mono blocks at
        `sr` (of about `block_seconds`), and the number of samples they hold in all.
    """
    with _open(path) as f:
        file_sr, declared = f.samplerate, f.frames
    samples = int(round(declared * sr / file_sr))
    if declared == 0:
        raise TfstyleError(f"{path}: the file holds no audio samples")
    _check_length(path, samples, sr, min_samples)

    def blocks():
        top = 0.0
        for y in resample_blocks(read_blocks(), file_sr, sr):
            top = max(top, float(np.max(np.abs(y), initial=0.0)))
            if len(y):
                yield np.ascontiguousarray(y, np.float32)
        _warn_if_silent(path, top)

    def read_blocks():
        read = 0
        with _open(path) as f:
            while True:
                try:
                    y = f.read(max(1, int(block_seconds * file_sr)), dtype="float32",
                               always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as e:
                    raise TfstyleError(f"{path}: corrupt or truncated audio data "
                                       f"({_reason(e)})") from None
                if len(y) == 0:
                    break
                read += len(y)
                yield _mono(y, path)
            if _truncated(f.extra_info) or read < declared:
                raise _truncation(path)

    return blocks, samples


def _open(path):
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
    if not 1 <= f.channels <= MAX_CHANNELS:
        f.close()
        raise TfstyleError(f"{path}: {f.channels} channels is not a supported layout "
                           f"(1 to {MAX_CHANNELS} channels are downmixed to mono)")
    return f


def _mono(y, path):
    """[samples, channels] → float32 mono, refusing NaN and infinite samples."""
    if not np.all(np.isfinite(y)):
        raise TfstyleError(f"{path}: the audio contains NaN or infinite samples")
    y = y.mean(axis=1) if y.shape[1] > 1 else y[:, 0]
    return np.ascontiguousarray(y, dtype=np.float32)


def _truncation(path):
    return TfstyleError(f"{path}: the file is truncated (its header promises more audio than "
                        "it holds)")


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
    gain = level_gain(np.sqrt(np.mean(np.square(y))), np.sqrt(np.mean(np.square(reference))),
                      np.max(np.abs(y), initial=0.0), peak)
    return np.asarray(y * gain, np.float32)


def level_gain(rms, reference_rms, top, peak=PEAK):
    """The gain that brings a signal of level `rms` to `reference_rms`, lowered where needed
    so that its largest sample `top` stays at or below `peak`."""
    gain = reference_rms / (rms + 1e-12)
    return peak / top if top * gain > peak else gain


class Level:
    """Passes blocks through, counting their samples and energy: the RMS level of a signal
    read in blocks, known once they have all gone by."""

    def __init__(self, blocks):
        self.blocks, self.samples, self.energy = blocks, 0, 0.0

    def __iter__(self):
        for block in self.blocks:
            self.samples += len(block)
            self.energy += float(np.sum(np.square(block, dtype=np.float64)))
            yield block

    @property
    def rms(self):
        return float(np.sqrt(self.energy / max(1, self.samples)))


def resample_blocks(blocks, sr_from, sr_to):
    """Successive blocks of one signal at `sr_to` (soxr HQ, streamed: the same samples as
    `resample` of the blocks joined)."""
    if sr_from == sr_to:
        yield from blocks
        return
    import soxr

    stream = soxr.ResampleStream(sr_from, sr_to, 1, dtype="float32", quality="HQ")
    for block in blocks:
        yield stream.resample_chunk(np.asarray(block, np.float32))
    yield stream.resample_chunk(np.zeros(0, np.float32), last=True)


def save_blocks(path, blocks, sr, reference_rms):
    """Writes successive float blocks of one signal atomically, scaled as `match_level` scales
    them joined: to `reference_rms` (a number, or a function called once every block has been
    read, e.g. a `Level`'s), then down so the peak stays at or below -1 dBFS.

    The gain is known only once every block is seen, so the blocks go first to a float32
    spool file beside the output and are then copied, scaled, into it: memory does not grow
    with the length. Returns the number of samples written.
    """
    check_writable(path)
    fmt = _WRITE_FORMATS[os.path.splitext(path)[1].lower()]
    folder = os.path.dirname(os.path.abspath(path))
    with atomic_path(path) as tmp, tempfile.NamedTemporaryFile(
            dir=folder, prefix=".tfstyle.", suffix=".spool.wav") as spool:
        written, top = Level(np.asarray(b, np.float32) for b in blocks), 0.0
        # RF64: a float WAV over 4 GB (7 hours at 22.05 kHz) would overflow a plain header.
        with sf.SoundFile(spool.name, "w", sr, 1, "FLOAT", format="RF64") as f:
            for block in written:
                if not np.all(np.isfinite(block)):
                    raise TfstyleError("the output has non-finite samples")
                f.write(block)
                top = max(top, float(np.max(np.abs(block), initial=0.0)))
        if callable(reference_rms):
            reference_rms = reference_rms()
        gain = level_gain(written.rms, reference_rms, top)
        with sf.SoundFile(spool.name) as f, sf.SoundFile(tmp, "w", sr, 1, _WRITE_SUBTYPES[fmt],
                                                         format=fmt) as out:
            for block in f.blocks(1 << 16, dtype="float32"):
                out.write(block * np.float32(gain))
    return written.samples


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
