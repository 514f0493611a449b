"""NSynth WaveNet encoder: architecture, TF1 checkpoint loading, waveform style transfer."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import melody, tone
from tfstyle import spectral
from tfstyle.optimisation import transfer as style_transfer
from tfstyle.errors import TfstyleError
from tfstyle.optimisation.features import nsynth


def test_full_encoder_shapes_taps_and_names():
    model = nsynth.NSynthEncoder()
    out = tf.function(model)(np.zeros((1, 64000, 1), np.float32))
    assert out["encoding"].shape == (1, 125, 16)
    assert out["bottleneck"].shape == (1, 64000, 16)
    assert {"relu_a_1", "relu_b_30", "res_30"} <= set(out)
    assert model.receptive_field == nsynth.RECEPTIVE_FIELD == 6141
    assert [nsynth.dilation(i) for i in (1, 2, 10, 11, 30)] == [1, 2, 512, 1, 512]
    assert model.get_layer("ae_dilatedconv_12").dilation_rate == (2,)
    params = sum(int(np.prod(v.shape)) for v in model.weights)
    assert 1.9e6 < params < 2.0e6


def test_checkpoint_names_are_magentas(tmp_path):
    prefix = nsynth.save_checkpoint(nsynth.NSynthEncoder(), str(tmp_path / "model.ckpt-200000"))
    written = dict(tf.train.list_variables(prefix))
    assert {k: tuple(v) for k, v in written.items()} == nsynth.expected_variables()


def test_loading_reproduces_reference_activations(tmp_path):
    source = nsynth.NSynthEncoder(blocks=3, seed=1)
    x = spectral.mu_law_encode(melody([262, 330, 392], sr=16000)[:4096])[None, :, None]
    reference = source(x)
    prefix = nsynth.save_checkpoint(source, str(tmp_path / "model.ckpt-7"))
    target = nsynth.load_checkpoint(nsynth.NSynthEncoder(blocks=3, seed=9), prefix)
    out = target(x)
    for tap in ("relu_a_1", "relu_b_3", "res_3", "encoding"):
        np.testing.assert_allclose(out[tap], reference[tap], atol=1e-6)
    # Independent check of the layout: start conv taps x[t-1], x[t], x[t+1]; block 1 by hand.
    reader = tf.train.load_checkpoint(prefix)
    w, b = reader.get_tensor("ae_startconv/W")[0], reader.get_tensor("ae_startconv/biases")
    v = np.pad(np.asarray(x)[0, :, 0], 1)
    start = v[:-2, None] * w[0, 0] + v[1:-1, None] * w[1, 0] + v[2:, None] * w[2, 0] + b
    np.testing.assert_allclose(np.asarray(out["relu_a_1"])[0], np.maximum(start, 0), atol=1e-5)


def test_missing_or_mismatched_variables_are_listed(tmp_path):
    small = nsynth.NSynthEncoder(blocks=2, width=8)
    prefix = nsynth.save_checkpoint(small, str(tmp_path / "small.ckpt"))
    with pytest.raises(TfstyleError, match=r"missing \(ae_dilatedconv_3/W") as info:
        nsynth.load_checkpoint(nsynth.NSynthEncoder(blocks=3, width=8), prefix)
    assert "\n" not in str(info.value)
    with pytest.raises(TfstyleError, match="wrong shape"):
        nsynth.load_checkpoint(nsynth.NSynthEncoder(blocks=2, width=16), prefix)
    with pytest.raises(TfstyleError, match="not a readable TensorFlow checkpoint"):
        nsynth.load_checkpoint(nsynth.NSynthEncoder(blocks=2), str(tmp_path / "nothing"))


def test_waveform_transfer_keeps_length_and_rate_in_windows():
    sr = 22050
    # 2.3 s: at 16 kHz three windows of exactly 16384 samples (steps of 16384 - 6141), so the
    # XLA step compiles once instead of once per window length.
    content = melody([262, 330, 392, 523] * 3, sr=sr)[:50812]
    style = tone(1.0, sr, freqs=(200, 400, 600))
    config = style_transfer.TransferConfig(
        method="nsynth", representation="waveform", sr=sr, steps=2, chunk_frames=16384,
        random_weights=True, learning_rate=0.01, style_weight=10.0)
    opt = style_transfer.Optimisation(content, style, config.validate())
    samples = int(opt.content_rep.shape[0])
    assert opt.work_sr == 16000 and abs(samples - 36870) < 3 and opt.content_rep.shape[1] == 1
    windows = opt.windows(samples)
    assert len(windows) >= 3
    assert all(a[1] - b[0] >= 6141 for a, b in zip(windows, windows[1:]))
    result = opt.run(progress=False)
    assert result.audio.shape == content.shape
    assert np.max(np.abs(result.audio)) > 1e-3
    assert result.losses["style"] < result.initial_losses["style"]


def test_method_and_representation_must_agree():
    with pytest.raises(TfstyleError, match="waveform"):
        style_transfer.TransferConfig(method="nsynth").validate()
    with pytest.raises(TfstyleError, match="waveform"):
        style_transfer.TransferConfig(representation="waveform").validate()
