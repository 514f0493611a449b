"""The default optimisation recipe written plainly in TensorFlow, as the published notebooks
write it: what a user gets by following the papers, the reference that
`bench/optimisation_speed.py` times `tfstyle transfer --method random-cnn` against.

    python bench/plain_reference.py CONTENT STYLE OUT [--steps 120]

The same sizes as tfstyle's default: 22.05 kHz, log1p of the STFT magnitude (n_fft 2048, hop
512), one random Conv1D of 4096 filters of width 3 with a ReLU, the content loss on its
activations and a Gram style loss with C×C Grams (weights 1 and 30, means over the entries),
Adam at 0.03 from the content under `tf.function`, then librosa's Griffin-Lim (64 iterations,
its defaults otherwise). It uses no tfstyle code.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa
import numpy as np
import soundfile as sf
import tensorflow as tf

SR, N_FFT, HOP = 22050, 2048, 512
FILTERS, KERNEL = 4096, 3
CONTENT_WEIGHT, STYLE_WEIGHT, LEARNING_RATE = 1.0, 30.0, 0.03


def log1p_stft(y):
    stft = tf.signal.stft(y, N_FFT, HOP, fft_length=N_FFT, pad_end=True)
    return tf.math.log1p(tf.abs(stft))                       # [frames, 1025]


def gram(features):
    f = features[0]                                          # [frames, channels]
    return tf.matmul(f, f, transpose_a=True) / tf.cast(tf.shape(f)[0], tf.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("content")
    parser.add_argument("style")
    parser.add_argument("output")
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    content, _ = librosa.load(args.content, sr=SR)
    style, _ = librosa.load(args.style, sr=SR)
    a_content, a_style = log1p_stft(content), log1p_stft(style)
    bins = int(a_content.shape[-1])
    std = np.sqrt(2.0) * np.sqrt(2.0 / ((bins + FILTERS) * KERNEL))
    kernel = tf.constant(np.random.default_rng(0).normal(0, std, (KERNEL, bins, FILTERS)),
                         tf.float32)

    def features(x):
        return tf.nn.relu(tf.nn.conv1d(x[None], kernel, stride=1, padding="VALID"))

    content_features = features(a_content)
    style_gram = gram(features(a_style))
    x = tf.Variable(a_content)
    optimizer = tf.keras.optimizers.Adam(LEARNING_RATE)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            f = features(x)
            content_loss = tf.reduce_mean(tf.square(f - content_features))
            style_loss = tf.reduce_mean(tf.square(gram(f) - style_gram))
            loss = CONTENT_WEIGHT * content_loss + STYLE_WEIGHT * style_loss
        optimizer.apply_gradients([(tape.gradient(loss, x), x)])
        return loss

    for i in range(args.steps):
        loss = step()
        if i % 20 == 0 or i == args.steps - 1:
            print(f"step {i}: loss {float(loss):.5g}", flush=True)
    magnitude = np.expm1(np.maximum(x.numpy(), 0.0)).T        # [1025, frames]
    y = librosa.griffinlim(magnitude, n_iter=64, hop_length=HOP, n_fft=N_FFT,
                           length=len(content))
    sf.write(args.output, y / max(1.0, np.abs(y).max()), SR)


if __name__ == "__main__":
    main()
