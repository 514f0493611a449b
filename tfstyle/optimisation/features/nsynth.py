"""The encoder of Magenta's NSynth WaveNet autoencoder (h512_bo16) as a Keras 3 model, and a
loader for Magenta's TF1 checkpoint (`wavenet-ckpt/model.ckpt-200000`).

Architecture (16 kHz mu-law audio in, [T/512, 16] encoding out):
    ae_startconv: Conv1D 3, 1 → 128
    30 blocks, dilation d = 2^((i − 1) mod 10):
        relu_a_i = ReLU(en) → ae_dilatedconv_i: Conv1D 3 dilated d, 128 → 128
        relu_b_i = ReLU(·)  → ae_res_i: Conv1D 1, 128 → 128;  res_i = en + ·
    ae_bottleneck: Conv1D 1, 128 → 16  (tap "bottleneck")
    AveragePooling1D(512)               (tap "encoding")
Magenta's non-causal convs (time-to-batch) equal Keras 'same' padding. Receptive field: 6141
samples (~384 ms).

The input is the mu-law companded waveform y = sign(x)·ln(1 + 255|x|)/ln 256 in [−1, 1]. Magenta
fed floor(y·128)/128; the floor has no gradient, so style transfer feeds y itself.
"""
import keras
import numpy as np

from tfstyle.errors import TfstyleError

SR = 16000
WIDTH = 128
BOTTLENECK = 16
BLOCKS = 30
HOP = 512


def dilation(block):
    """Dilation of block i (1-based)."""
    return 2 ** ((block - 1) % 10)


def receptive_field(blocks=BLOCKS):
    # Start conv sees 3 samples; each dilated kernel-3 conv widens the view by 2·d.
    return 3 + sum(2 * dilation(i) for i in range(1, blocks + 1))


RECEPTIVE_FIELD = receptive_field()


def expected_variables():
    """{checkpoint name: shape} of every encoder variable, in Magenta's layout [1, k, in, out]."""
    shapes = {"ae_startconv": (1, 3, 1, WIDTH), "ae_bottleneck": (1, 1, WIDTH, BOTTLENECK)}
    for i in range(1, BLOCKS + 1):
        shapes[f"ae_dilatedconv_{i}"] = (1, 3, WIDTH, WIDTH)
        shapes[f"ae_res_{i}"] = (1, 1, WIDTH, WIDTH)
    variables = {}
    for scope, shape in shapes.items():
        variables[f"{scope}/W"] = shape
        variables[f"{scope}/biases"] = (shape[-1],)
    return variables


@keras.saving.register_keras_serializable(package="tfstyle")
class NSynthEncoder(keras.Model):
    """NSynth WaveNet encoder; returns a dict of taps.

    Args:
        blocks: residual blocks (30 in NSynth; fewer for tiny test models).
        width: channels of the residual stream (128).
        bottleneck: channels of the encoding (16).
        hop: average-pooling window of the encoding (512).
        seed: seed of the random initial weights (used only without a checkpoint).

    Input [batch, samples, 1] continuous mu-law; taps relu_a_i, relu_b_i, res_i (i = 1..blocks),
    bottleneck [batch, samples, 16] and encoding [batch, samples // hop, 16].
    """

    def __init__(self, blocks=BLOCKS, width=WIDTH, bottleneck=BOTTLENECK, hop=HOP, seed=0,
                 **kwargs):
        init = lambda k: keras.initializers.VarianceScaling(1.0, "fan_avg", "uniform",
                                                            seed=seed + k)

        # Layers.
        start = keras.layers.Conv1D(width, 3, padding="same", name="ae_startconv",
                                    kernel_initializer=init(0))
        dilated = [keras.layers.Conv1D(width, 3, padding="same", dilation_rate=dilation(i),
                                       name=f"ae_dilatedconv_{i}", kernel_initializer=init(i))
                   for i in range(1, blocks + 1)]
        res = [keras.layers.Conv1D(width, 1, name=f"ae_res_{i}",
                                   kernel_initializer=init(100 + i))
               for i in range(1, blocks + 1)]
        neck = keras.layers.Conv1D(bottleneck, 1, name="ae_bottleneck",
                                   kernel_initializer=init(1000))
        pool = keras.layers.AveragePooling1D(hop, name="encoding")

        # Functional graph.
        inputs = keras.Input(shape=(None, 1), name="mu_law")
        outputs = {}
        en = start(inputs)
        for i in range(1, blocks + 1):
            a = keras.layers.ReLU(name=f"relu_a_{i}")(en)
            b = keras.layers.ReLU(name=f"relu_b_{i}")(dilated[i - 1](a))
            en = keras.layers.Add(name=f"res_{i}")([en, res[i - 1](b)])
            outputs.update({f"relu_a_{i}": a, f"relu_b_{i}": b, f"res_{i}": en})
        outputs["bottleneck"] = neck(en)
        outputs["encoding"] = pool(outputs["bottleneck"])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.trainable = False

        # Config.
        self.blocks, self.width, self.bottleneck, self.hop, self.seed = \
            blocks, width, bottleneck, hop, seed
        self.receptive_field = receptive_field(blocks)

    def get_config(self):
        return {"blocks": self.blocks, "width": self.width, "bottleneck": self.bottleneck,
                "hop": self.hop, "seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def scopes(self):
        """Checkpoint scope of every conv layer of this model."""
        return ["ae_startconv", "ae_bottleneck"] + [
            f"ae_{kind}_{i}" for i in range(1, self.blocks + 1) for kind in ("dilatedconv", "res")]


def load_checkpoint(model, path):
    """Sets `model`'s weights from Magenta's TF1 checkpoint by variable name.

    Args:
        model: an NSynthEncoder (30 blocks for the real checkpoint).
        path: the checkpoint prefix (e.g. .../wavenet-ckpt/model.ckpt-200000) or its folder.

    Raises:
        TfstyleError: unreadable checkpoint, or the list of missing and mis-shaped variables.
    """
    import tensorflow as tf

    try:
        reader = tf.train.load_checkpoint(path)
    except (tf.errors.OpError, ValueError) as e:
        raise TfstyleError(f"{path}: not a readable TensorFlow checkpoint "
                           f"({str(e).splitlines()[0][:120]}); give the prefix of Magenta's "
                           "wavenet-ckpt/model.ckpt-200000") from None
    found = reader.get_variable_to_shape_map()
    missing, mismatched = [], []
    for scope in model.scopes():
        layer = model.get_layer(scope)
        for suffix, variable in (("W", layer.kernel), ("biases", layer.bias)):
            name = f"{scope}/{suffix}"
            want = (1,) + tuple(variable.shape) if suffix == "W" else tuple(variable.shape)
            if name not in found:
                missing.append(name)
            elif tuple(found[name]) != want:
                mismatched.append(f"{name} {tuple(found[name])} != {want}")
    if missing or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing ({', '.join(missing[:6])}"
                         f"{', ...' if len(missing) > 6 else ''})")
        if mismatched:
            parts.append(f"{len(mismatched)} with the wrong shape ({'; '.join(mismatched[:3])})")
        raise TfstyleError(f"{path}: not an NSynth WaveNet encoder checkpoint: "
                           + " and ".join(parts))
    for scope in model.scopes():
        layer = model.get_layer(scope)
        layer.kernel.assign(np.asarray(reader.get_tensor(f"{scope}/W"))[0])
        layer.bias.assign(np.asarray(reader.get_tensor(f"{scope}/biases")))
    return model


def save_checkpoint(model, prefix):
    """Writes `model`'s weights as a TF1-style checkpoint with Magenta's names and layout (the
    inverse of `load_checkpoint`; used to make test checkpoints)."""
    import tensorflow as tf

    names, tensors = [], []
    for scope in model.scopes():
        layer = model.get_layer(scope)
        names += [f"{scope}/W", f"{scope}/biases"]
        tensors += [layer.kernel.numpy()[None], layer.bias.numpy()]
    tf.raw_ops.SaveV2(prefix=prefix, tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=tensors)
    return prefix
