"""Random CNN feature network: taps, shapes, frozen seeded weights, config round trip."""
import math

import keras
import numpy as np
import pytest

from tfstyle.optimisation.features.random_cnn import RandomCNN1D


def test_taps_shapes_and_frozen_weights():
    net = RandomCNN1D(33, filters=16, kernel_size=3, seed=1)
    out = net(np.random.default_rng(0).random((2, 10, 33)).astype(np.float32))
    assert set(out) == {"conv1", "relu1"}
    assert out["relu1"].shape == (2, 8, 16)
    assert float(np.min(out["relu1"])) >= 0.0
    assert not net.trainable_weights
    std = float(np.std(net.get_layer("conv1").kernel.numpy()))
    expected = math.sqrt(2) * math.sqrt(2 / ((33 + 16) * 3))
    assert abs(std - expected) < 0.15 * expected


def test_seed_fixes_the_weights_and_layers_stack():
    a = RandomCNN1D(8, filters=[16, 4], kernel_size=[3, 5], activation="leaky_relu", seed=5)
    b = RandomCNN1D(8, filters=[16, 4], kernel_size=[3, 5], activation="leaky_relu", seed=5)
    c = RandomCNN1D(8, filters=[16, 4], kernel_size=[3, 5], activation="leaky_relu", seed=6)
    x = np.ones((1, 20, 8), np.float32)
    np.testing.assert_array_equal(a(x)["leaky_relu2"], b(x)["leaky_relu2"])
    assert not np.allclose(a(x)["conv1"], c(x)["conv1"])
    assert a(x)["conv2"].shape == (1, 20 - 2 - 4, 4)
    assert a.receptive_field == 7


def test_get_config_round_trip():
    net = RandomCNN1D(12, filters=8, kernel_size=2, activation="none", seed=3)
    clone = RandomCNN1D.from_config(net.get_config())
    x = np.ones((1, 5, 12), np.float32)
    np.testing.assert_array_equal(net(x)["conv1"], clone(x)["conv1"])
    assert set(clone(x)) == {"conv1"}
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(net))
    np.testing.assert_array_equal(net(x)["conv1"], restored(x)["conv1"])


@pytest.mark.parametrize("kernel", [1, 3, 11])
def test_the_tap_products_are_the_convolution(kernel):
    import keras

    from tfstyle.optimisation.features.random_cnn import TapConv1D

    x = np.random.default_rng(0).normal(size=(2, 40, 24)).astype(np.float32)
    taps = TapConv1D(16, kernel, padding="valid", use_bias=False)
    conv = keras.layers.Conv1D(16, kernel, padding="valid", use_bias=False)
    taps.build(x.shape), conv.build(x.shape)
    conv.set_weights(taps.get_weights())
    got, want = np.asarray(taps(x)), np.asarray(conv(x))
    assert got.shape == want.shape == (2, 40 - kernel + 1, 16)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_bfloat16_products_are_the_float32_ones_rounded():
    import tensorflow as tf

    from tfstyle.optimisation.features.random_cnn import TapConv1D

    x = tf.constant(np.random.default_rng(1).normal(size=(1, 50, 64)).astype(np.float32))
    exact = TapConv1D(32, 3, padding="valid", use_bias=False)
    rounded = TapConv1D(32, 3, padding="valid", use_bias=False, matmul_dtype="bfloat16")
    exact.build(x.shape), rounded.build(x.shape)
    rounded.set_weights(exact.get_weights())
    outputs, grads = [], []
    for layer in (exact, rounded):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.square(y))
        outputs.append(y.numpy())
        grads.append(tape.gradient(loss, x).numpy())
    assert outputs[1].dtype == np.float32 and grads[1].dtype == np.float32
    # bfloat16 keeps 8 significant bits: products of 192 terms land within a few 2^-8 of the
    # float32 ones relative to their size, and differ from them.
    for exact_value, rounded_value in ((outputs[0], outputs[1]), (grads[0], grads[1])):
        error = np.linalg.norm(rounded_value - exact_value) / np.linalg.norm(exact_value)
        assert 0 < error < 2e-2
    clone = TapConv1D.from_config(rounded.get_config())
    assert clone.matmul_dtype == "bfloat16"
    net = RandomCNN1D(12, filters=8, kernel_size=2, seed=3, matmul_dtype="bfloat16")
    assert RandomCNN1D.from_config(net.get_config()).get_layer("conv1").matmul_dtype == \
        "bfloat16"
