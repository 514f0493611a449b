"""Losses of optimisation style transfer, on feature maps shaped [frames, channels].

Gram statistics are G = FᵀF / T: the channel co-activation averaged over the T frames, so clips
of different lengths have comparable Grams (Ulyanov's TF notebook divides by the input frame
count instead, alishdipani by T·C; the normaliser is a constant factor absorbed by the weight).
The style loss is the mean squared difference of the two C×C Grams.
"""
import tensorflow as tf


def content_loss(features, target):
    """Mean squared difference of activations (same shape)."""
    return tf.reduce_mean(tf.square(features - target))


def gram(features):
    """G = FᵀF / T for features [T, C]: a C×C matrix."""
    t = tf.cast(tf.shape(features)[0], features.dtype)
    return tf.matmul(features, features, transpose_a=True) / t


class GramStyleLoss:
    """mean((G(F) − G(S))²) against a fixed style feature map S, computed the cheaper way.

    ‖FᵀF/Tx − SᵀS/Ts‖² expands into ‖FFᵀ‖²/Tx² − 2‖FSᵀ‖²/(Tx·Ts) + ‖SSᵀ‖²/Ts², which needs only
    Tx×Tx and Tx×Ts products. When the clips are shorter than there are channels (5 s of audio
    is ~215 frames against 4096 filters) that costs O(T²·C) instead of the O(T·C²) of forming the
    C×C Grams. The form is chosen from the static shapes when the loss is traced.

    Args:
        style_features: [Ts, C] activations of the style.
        content_frames: Tx, the frame count of the features this loss will be applied to (None
            when unknown; then the Gram form is used).
    """

    def __init__(self, style_features, content_frames=None):
        style_features = tf.convert_to_tensor(style_features, tf.float32)
        ts, c = style_features.shape
        tx = content_frames
        self.channels = c
        self.use_frames_form = tx is not None and tx * tx * c + tx * ts * c < tx * c * c + c * c
        self._ts = float(ts)
        if self.use_frames_form:
            self._style = style_features
            self._style_energy = tf.reduce_sum(
                tf.square(tf.matmul(style_features, style_features, transpose_b=True)))
        else:
            self._gram = gram(style_features)

    def __call__(self, features):
        c2 = float(self.channels) ** 2
        if not self.use_frames_form:
            return tf.reduce_sum(tf.square(gram(features) - self._gram)) / c2
        tx = tf.cast(tf.shape(features)[0], tf.float32)
        own = tf.reduce_sum(tf.square(tf.matmul(features, features, transpose_b=True)))
        cross = tf.reduce_sum(tf.square(tf.matmul(features, self._style, transpose_b=True)))
        return (own / tx ** 2 - 2.0 * cross / (tx * self._ts)
                + self._style_energy / self._ts ** 2) / c2
