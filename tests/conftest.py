import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import soundfile as sf

SR = 16000


def tone(seconds=1.0, sr=SR, freqs=(440.0,), amp=0.3, seed=0):
    """A sum of sines plus a little noise: deterministic, harmonic test audio."""
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)
    y = amp * y + 0.01 * np.random.default_rng(seed).standard_normal(len(t))
    return y.astype(np.float32)


def melody(notes, note_seconds=0.25, sr=SR, harmonics=(1.0, 0.5, 0.25), seed=0):
    """Consecutive notes (Hz) with a few harmonics: a stand-in for a played melody."""
    parts = [tone(note_seconds, sr, [f * (i + 1) for i in range(len(harmonics))], seed=seed + k)
             for k, f in enumerate(notes)]
    return np.concatenate(parts)


@pytest.fixture
def wav(tmp_path):
    """Writes a waveform to a file in tmp_path and returns its path."""

    def write(name, y, sr=SR, **kwargs):
        path = tmp_path / name
        sf.write(path, y, sr, **kwargs)
        return str(path)

    return write


def random_dynamics(seed=0):
    """A small DynamicsModel whose correction is not zero (an untrained one's is), as a fitted
    one's is not."""
    from tfstyle.harmonic.dynamics_model import DynamicsModel

    model = DynamicsModel(width=8, dilations=(1, 2, 4), seed=seed)
    head = model.get_layer("correction")
    rng = np.random.default_rng(seed)
    head.kernel.assign(rng.normal(0, 0.5, head.kernel.shape).astype(np.float32))
    head.bias.assign(np.full(head.bias.shape, 0.1, np.float32))
    return model


def kill_after_first_checkpoint(command, run, timeout=240, settle=1.0):
    """Starts `command` (a `tfstyle fit` writing `run`), kills it with SIGKILL once its first
    checkpoint is written (and `settle` seconds more), and returns the step of the latest
    checkpoint left behind."""
    import signal
    import subprocess
    import time

    import tensorflow as tf

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        index = os.path.join(run, "checkpoints", "checkpoint")
        while not os.path.exists(index) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.5)
        time.sleep(settle)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    latest = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
    assert latest is not None, "no checkpoint before the kill"
    return int(latest.rsplit("-", 1)[1])
