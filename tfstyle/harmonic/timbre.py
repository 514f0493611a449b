"""TimbreEncoder: one or more clips of an instrument → a timbre embedding that conditions the
harmonic decoder (the prior of one-shot transfer, `tfstyle.harmonic.prior`).

What a clip's timbre is, for a pitch-driven synthesiser, is how its spectrum sits around the
notes it plays: the encoder reads log-mel frames, weighs each by how loud it is (silence and
reverb tails say little) and pools their mean and spread over the whole clip, so the embedding
does not depend on the clip's length or on which melody it plays. Trained so (bench/
train_prior.py): clip X of an instrument is reconstructed from the embedding of another clip
of it.
"""
import keras
import numpy as np
from keras import layers, ops

# The encoder's front end: log-mel frames at the harmonic method's rate and hop.
N_FFT, N_MELS = 1024, 64
# Frames further than this below the clip's loudest frame weigh nothing in the pooling.
FLOOR_DB = 50.0


# The front end's filterbank, stored with a model that reads it (`save_front_end`).
FRONT_END_FILE = "front_end.npz"


def _bank_args(sr):
    """The front end's filterbank settings, as `spectral.mel_filterbank` takes them."""
    return dict(sr=sr, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=sr / 2)


def save_front_end(folder, sr):
    """Stores the front end's mel filterbank in `folder` (written atomically)."""
    import os

    from tfstyle.audio import atomic_path

    from tfstyle import spectral

    with atomic_path(os.path.join(folder, FRONT_END_FILE)) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, mel_filterbank=spectral.mel_filterbank(**_bank_args(sr)))


def load_front_end(folder, sr):
    """The filterbank `save_front_end` stored, if there is one, becomes the one `log_mel`
    uses (it is librosa's, and so needs no librosa import to build)."""
    import os

    from tfstyle import spectral

    path = os.path.join(folder, FRONT_END_FILE)
    if os.path.exists(path):
        with np.load(path) as saved:
            spectral.remember_filterbank(saved["mel_filterbank"], **_bank_args(sr))


def log_mel(y, sr, hop_length):
    """(log-mel dB [..., frames, N_MELS], frame weights [..., frames] in 0..1) of waveforms
    [..., samples], on-graph (the project's front end, `tfstyle.spectral`)."""
    import tensorflow as tf

    from tfstyle import spectral

    mel = spectral.melspectrogram(y=tf.convert_to_tensor(y, tf.float32),
                                  hop_length=hop_length, **_bank_args(sr))
    db = spectral.power_to_db(mel, top_db=None)
    level = 10.0 * tf.math.log(tf.reduce_sum(mel, -1) + 1e-10) / np.log(10.0)
    peak = tf.reduce_max(level, axis=-1, keepdims=True)
    weight = tf.clip_by_value((level - (peak - FLOOR_DB)) / FLOOR_DB, 0.0, 1.0)
    return db, weight


@keras.saving.register_keras_serializable(package="tfstyle")
class TimbreEncoder(keras.Model):
    """{"log_mel": [b, frames, N_MELS] dB, "weight": [b, frames]} → embedding [b, dims].

    Per frame, the log-mel spectrum relative to the frame's own level (the shape, not the
    loudness) and the level itself go through an MLP; a weighted mean and standard deviation
    over the frames, through another, give the embedding.
    """

    def __init__(self, dims=32, units=128, n_mels=N_MELS, seed=0, **kwargs):
        seeds = iter(range(1000 * seed + 500, 1000 * seed + 600))

        def dense(width, name, activation=None):
            return layers.Dense(width, activation=activation, name=name,
                                kernel_initializer=keras.initializers.GlorotUniform(
                                    seed=next(seeds)))

        log_mel_in = keras.Input((None, n_mels), name="log_mel")
        weight_in = keras.Input((None,), name="weight")
        level = ops.max(log_mel_in, axis=-1, keepdims=True)
        shape = (log_mel_in - level) / 40.0           # dB below the frame's peak band
        x = layers.Concatenate(name="frame_features")([shape, (level + 40.0) / 40.0])
        for i in range(2):
            x = dense(units, f"frame_dense{i}")(x)
            x = layers.LayerNormalization(name=f"frame_norm{i}")(x)
            x = layers.LeakyReLU(0.2, name=f"frame_act{i}")(x)
        w = weight_in[..., None]
        total = ops.sum(w, axis=1) + 1e-3
        mean = ops.sum(x * w, axis=1) / total
        spread = ops.sqrt(ops.sum(ops.square(x - mean[:, None]) * w, axis=1) / total + 1e-4)
        h = layers.Concatenate(name="pooled")([mean, spread])
        h = dense(units, "pooled_dense", "gelu")(h)
        embedding = dense(dims, "embedding")(h)
        super().__init__(inputs={"log_mel": log_mel_in, "weight": weight_in},
                         outputs=embedding, **kwargs)
        self.dims, self.units, self.n_mels, self.seed = dims, units, n_mels, seed

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, "dims": self.dims,
                "units": self.units, "n_mels": self.n_mels, "seed": self.seed}


def embed(encoder, clips, sr, hop_length):
    """The embedding [dims] of one or more clips (float waveforms) of one instrument: each
    clip's log-mel frames pooled together, as if the clips were one."""
    import tensorflow as tf

    parts = [log_mel(np.asarray(c, np.float32), sr, hop_length) for c in clips]
    db = tf.concat([p[0] for p in parts], axis=0)[None]
    weight = tf.concat([p[1] for p in parts], axis=0)[None]
    return encoder({"log_mel": db, "weight": weight}, training=False).numpy()[0]
