"""Spectrogram pictures (`--plot`): log-mel spectrograms side by side, saved atomically as PNG."""
import os

import numpy as np

from tfstyle.errors import TfstyleError


def check_writable(path):
    if os.path.splitext(path)[1].lower() != ".png":
        raise TfstyleError(f"{path}: the plot is written as PNG; use a .png file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise TfstyleError(f"{path}: the folder {folder} does not exist or is not writable")


# A picture shows at most this much of each clip: past a minute the notes are too narrow to
# see, and a long clip's whole spectrogram would cost memory in proportion to its length.
MAX_SECONDS = 60.0


def save_spectrograms(path, clips, sr, n_fft=2048, hop_length=512, n_mels=128):
    """Draws one log-mel spectrogram per (title, waveform) pair, on a shared dB colour scale;
    of a long clip, its first `MAX_SECONDS`."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tfstyle.audio import atomic_path

    check_writable(path)
    clips = [(title, y[:int(MAX_SECONDS * sr)]) for title, y in clips]
    mels = [librosa.power_to_db(librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels), ref=np.max, top_db=80)
        for _, y in clips]
    fig, axes = plt.subplots(1, len(clips), figsize=(4.2 * len(clips), 3.6), sharey=True,
                             constrained_layout=True)
    for ax, (title, y), mel in zip(np.atleast_1d(axes), clips, mels):
        image = ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
                          extent=[0, len(y) / sr, 0, n_mels])
        ax.set_title(f"{title} ({'first ' if len(y) >= MAX_SECONDS * sr else ''}"
                     f"{len(y) / sr:.1f} s)")
        ax.set_xlabel("time (s)")
        ticks = np.linspace(0, n_mels - 1, 6).astype(int)
        freqs = librosa.mel_frequencies(n_mels=n_mels, fmax=sr / 2)[ticks]
        ax.set_yticks(ticks, [f"{f / 1000:.1f}k" if f >= 1000 else f"{f:.0f}" for f in freqs])
    np.atleast_1d(axes)[0].set_ylabel("frequency (Hz, mel scale)")
    fig.colorbar(image, ax=axes, label="dB re peak")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
