"""Pretrained weights: found in a given file or Keras' cache, or a clear error; never fetched."""
import os

import h5py
import keras
import numpy as np
import pytest

from tfstyle.errors import TfstyleError
from tfstyle.optimisation.features import backbones, weights
from tfstyle.optimisation.features.extractor import build


def _write_legacy_h5(model, path):
    """Keras' own keras.applications weight files are in the legacy HDF5 layout."""
    from keras.src.legacy.saving import legacy_h5_format

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def test_missing_weights_name_the_file_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(TfstyleError) as info:
        weights.resolve("vgg19")
    message = str(info.value)
    assert "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert str(tmp_path / "models") in message and "--random-weights" in message
    with pytest.raises(TfstyleError, match="does not exist"):
        weights.resolve("resnet50", str(tmp_path / "nope.h5"))
    with pytest.raises(TfstyleError, match="keras-hub preset"):
        weights.resolve("vit")


def test_weights_load_from_keras_cache_and_from_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    keras.utils.set_random_seed(7)
    reference = keras.applications.VGG19(weights=None, include_top=False,
                                         input_shape=(None, None, 3))
    cached = weights.keras_cache(weights.KERAS_FILES["vgg19"][1])
    _write_legacy_h5(reference, cached)
    loaded = backbones.build_cnn("vgg19")
    np.testing.assert_array_equal(loaded.get_layer("block3_conv2").kernel.numpy(),
                                  reference.get_layer("block3_conv2").kernel.numpy())
    own = str(tmp_path / "mine.weights.h5")
    reference.save_weights(own)
    extractor = build("vgg19", 64, weights=own, pooling="avg", image_range=(-80.0, 0.0))
    np.testing.assert_array_equal(extractor.model.get_layer("block1_conv1").kernel.numpy(),
                                  reference.get_layer("block1_conv1").kernel.numpy())
    assert isinstance(extractor.model.get_layer("block1_pool"), keras.layers.AveragePooling2D)
    rep = np.random.default_rng(0).uniform(-80, 0, (1, 40, 64)).astype(np.float32)
    taps = extractor(rep, ["block1_conv1", "block4_conv2"])
    assert taps["block1_conv1"].shape == (64, 40, 64)     # (frequency, frames, channels)
    bad = tmp_path / "junk.h5"
    bad.write_text("not weights")
    with pytest.raises(TfstyleError, match="cannot load"):
        backbones.build_cnn("vgg19", str(bad))


def test_unknown_layer_names_list_the_valid_ones():
    extractor = build("random-cnn", 16, filters="8", kernel_size="3")
    with pytest.raises(TfstyleError, match="relu1"):
        extractor.check_layers(["block9"])
