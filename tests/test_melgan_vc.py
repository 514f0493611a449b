"""MelGAN-VC: networks, spectral norm, front end vs a librosa reference, train_step schedule."""
import librosa
import numpy as np
import pytest
import tensorflow as tf

from conftest import melody
from tfstyle.errors import TfstyleError
from tfstyle.converters.melgan_vc import convert, frontend, spectral_norm
from tfstyle.converters.melgan_vc.critic import Critic
from tfstyle.converters.melgan_vc.generator import Generator
from tfstyle.converters.melgan_vc.siamese import Siamese
from tfstyle.converters.melgan_vc.trainer import build_networks

TINY = dict(n_mels=16, generator_filters=8, critic_filters=8, embedding=4, batch_size=2)


def _count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_reference_sized_networks():
    g, s, c = Generator(), Siamese(), Critic()
    assert g.output_shape == (None, 192, None, 1)
    assert s.output_shape == (None, 128) and c.output_shape == (None, 1)
    # Parameter counts computed from the reference's layer tables.
    assert (round(_count(g) / 1e6, 2), round(_count(s) / 1e6, 2), round(_count(c) / 1e6, 2)) == \
        (2.93, 1.39, 4.5)
    assert g(np.zeros((1, 192, 48, 1), np.float32)).shape == (1, 192, 48, 1)


def test_get_config_round_trips():
    for model in (Generator(16, 8, "keras"), Siamese(16, 24, 8, 4), Critic(16, 72, 8, "none")):
        clone = model.__class__.from_config(model.get_config())
        assert clone.get_config() == model.get_config()
        assert _count(clone) == _count(model)


def test_power_iteration_normalises_the_spectral_norm():
    layer = spectral_norm.SNConv2D(6, (3, 3), kernel_initializer="he_uniform")
    x = np.random.default_rng(0).standard_normal((1, 8, 8, 4)).astype(np.float32)
    for _ in range(30):
        layer(x)
    w = layer.normalized_kernel().numpy().reshape(-1, 6)
    assert np.linalg.svd(w, compute_uv=False)[0] == pytest.approx(1.0, abs=0.02)
    # Gradients reach the raw kernel through σ (and u, v).
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x))
    assert tape.gradient(loss, layer.kernel) is not None


def test_normalized_mel_matches_the_reference_recipe():
    config = frontend.preset("melgan-vc")
    y = melody([262, 330, 392, 523], sr=16000)
    ours = frontend.normalized_mel(y, config).numpy()
    # The notebook's recipe with librosa: reflect-centred STFT, power / Σw², HTK mel, dB.
    spec = np.abs(librosa.stft(y, n_fft=1152, hop_length=192, pad_mode="reflect")) ** 2 / 432.0
    mel = librosa.filters.mel(sr=16000, n_fft=1152, n_mels=192, fmax=8000, htk=True,
                              norm=None) @ spec
    db = librosa.power_to_db(mel, top_db=80.0) - 20.0
    ref = np.clip(2 * (db + 100) / 100 - 1, -1, 1).T
    assert ours.shape == ref.shape and ours.min() >= -1 and ours.max() <= 1
    assert np.max(np.abs(ours - ref)) < 1e-3
    back = frontend.denormalize(ours, config).numpy()
    inside = (ref > -1) & (ref < 1)
    np.testing.assert_allclose(10 * np.log10(back[inside]), db.T[inside] + 20.0, atol=0.02)


def test_griffin_lim_inversion_recovers_the_mel():
    config = frontend.preset("melgan-vc", n_mels=64)
    y = melody([262, 330, 392, 523], sr=16000)
    mel = frontend.normalized_mel(y, config)
    audio = frontend.mel_to_audio(mel, config, len(y), n_iter=32).numpy()
    assert audio.shape == y.shape
    again = frontend.normalized_mel(audio, config).numpy()
    assert np.mean(np.abs(again - mel.numpy())) < 0.05
    short = frontend.optimize_inversion(mel, config, len(y), steps=30).numpy()
    assert short.shape == y.shape and np.all(np.isfinite(short))


def test_invalid_settings():
    with pytest.raises(TfstyleError, match="multiple of 4"):
        frontend.preset("melgan-vc", frames=25)
    with pytest.raises(TfstyleError, match="unknown preset"):
        frontend.preset("nope")
    music = frontend.preset("music-22k")
    assert music.seconds(music.frames) == pytest.approx(frontend.preset("melgan-vc").seconds(24),
                                                        rel=0.05)


def _model(config, strategy=None):
    from tfstyle.converters.melgan_vc import family
    from tfstyle.converters.training import build
    return build(family, config, strategy)[0]


def _batches(config, n=12):
    rng = np.random.default_rng(0)
    shape = (n, config.joint_every, config.n_mels, config.crop_frames, 1)
    a = np.tanh(rng.standard_normal(shape)).astype(np.float32)
    b = 0.5 * np.tanh(rng.standard_normal(shape)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((a, b)).batch(
        config.batch_size, drop_remainder=True).repeat()


def test_train_step_schedule_and_losses():
    config = frontend.preset("melgan-vc", **TINY)
    model = _model(config)
    history = model.fit(_batches(config), steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
    # Two cycles of 3 batches: joint on batches 0 and 3, critic alone on the other four.
    assert int(model.g_optimizer.iterations.numpy()) == 2
    assert int(model.d_optimizer.iterations.numpy()) == 6
    for name in ("d_loss", "g_adv", "identity", "travel", "margin", "g_total"):
        assert np.isfinite(history.history[name][-1])


def test_losses_move_when_training_on_fixed_domains():
    config = frontend.preset("melgan-vc", **{**TINY, "joint_every": 1})
    model = _model(config)
    history = model.fit(_batches(config, 4), steps_per_epoch=15, epochs=3, verbose=0,
                        shuffle=False).history
    assert history["identity"][-1] < history["identity"][0]
    assert history["g_total"][-1] < history["g_total"][0]


def test_fit_under_a_distribution_strategy():
    config = frontend.preset("melgan-vc", **TINY)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    model = _model(config, strategy)
    history = model.fit(_batches(config), steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(history.history["d_loss"][-1])
    assert int(model.g_optimizer.iterations.numpy()) == 2


def test_convert_mel_crossfades_slices_without_seams():
    config = frontend.preset("melgan-vc", **TINY)
    generator = build_networks(config)[0]
    rng = np.random.default_rng(1)
    mel = np.tanh(np.cumsum(rng.standard_normal((100, 16)) * 0.1, axis=0)).astype(np.float32)
    out = convert.convert_mel(generator, mel, config).numpy()
    assert out.shape == mel.shape and np.all(np.abs(out) <= 1.0)
    # Bare concatenation jumps where one slice ends and the next begins; the crossfade does not.
    jumps = np.abs(np.diff(out, axis=0)).mean(axis=1)
    images = np.stack([mel[i:i + 24].T[..., None] for i in range(0, 96, 24)])
    bare = np.concatenate([s[..., 0].T for s in generator(images, training=False).numpy()])
    bare_jumps = np.abs(np.diff(bare, axis=0)).mean(axis=1)
    seams = [23, 47, 71]
    assert max(jumps[s] for s in seams) < np.mean([bare_jumps[s] for s in seams])
    one = convert.convert_mel(generator, mel[:5], config).numpy()
    assert one.shape == (5, 16)


def _mel_of(freq, config, weights=(1.0, 0.5, 0.25), seconds=0.5):
    y = melody([freq], note_seconds=seconds, sr=config.sr, harmonics=weights)
    return frontend.normalized_mel(y, config)


def test_mel_chroma_filterbank_agrees_with_librosa_chroma():
    from tfstyle import spectral

    sr, n_fft, hop = 22050, 1024, 192
    y = melody([196.0, 262.0, 330.0, 440.0, 587.0, 880.0], sr=sr)
    bank = spectral.mel_chroma_filterbank(sr, n_fft, 192, 0.0, sr / 2, htk=True, norm=None)
    power = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop)) ** 2
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=192, htk=True, norm=None) @ power
    ours = (mel.T @ bank).argmax(axis=1)
    theirs = librosa.feature.chroma_stft(S=power, sr=sr).argmax(axis=0)
    assert bank.shape == (192, 12) and np.all(bank >= 0)
    # The same dominant pitch class, G3 to A5, but for a frame or two at note changes.
    assert np.mean(ours == theirs) > 0.95


def test_pitch_consistency_pulls_a_shifted_output_back():
    from tfstyle.converters.melgan_vc.pitch import pitch_consistency, profiles

    config = frontend.preset("music-22k")
    image = lambda mel: tf.transpose(mel)[None, :, :, None]
    a = image(_mel_of(440.0, config))
    shifted = image(_mel_of(440.0 * 2 ** (3 / 12), config))            # C5 for A4
    other_timbre = image(_mel_of(440.0, config, weights=(0.3, 1.0, 0.6, 0.4)))
    loss = lambda out: float(pitch_consistency(a, out, config))
    assert loss(a) == pytest.approx(0.0, abs=1e-6)
    assert loss(other_timbre) < 0.5 * loss(shifted)

    # Gradient descent on the output alone moves its pitch class from C back to A.
    out = tf.Variable(shifted)
    optimizer = tf.keras.optimizers.Adam(0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            value = pitch_consistency(a, out, config)
        optimizer.apply([tape.gradient(value, out)], [out])
    before = loss(out)
    for _ in range(150):
        step()
        out.assign(tf.clip_by_value(out, -1.0, 1.0))
    dominant = lambda x: int(np.argmax(np.sum(profiles(
        tf.transpose(x[0, :, :, 0]), config).numpy(), axis=0)))
    assert dominant(shifted) == 0 and dominant(a) == 9
    assert dominant(out) == 9 and loss(out) < 0.3 * before

    # A decay 40 dB down still counts: its pitch drifting is not hidden by the loud attack.
    sr = config.sr
    note = lambda f, gain: gain * melody([f], note_seconds=0.5, sr=sr)
    both = lambda quiet: image(frontend.normalized_mel(
        np.concatenate([note(440.0, 1.0), note(quiet, 0.01)]), config))
    drifted = float(pitch_consistency(both(440.0), both(440.0 * 2 ** (3 / 12)), config))
    everything = float(pitch_consistency(
        both(440.0), image(frontend.normalized_mel(np.concatenate(
            [note(523.25, 1.0), note(523.25, 0.01)]), config)), config))
    assert drifted > 0.25 * everything


def test_pitch_weight_enters_the_generator_loss():
    config = frontend.preset("melgan-vc", **{**TINY, "joint_every": 1})
    losses = {}
    for weight in (0.0, 10.0):
        model = _model(frontend.preset("melgan-vc", **{**TINY, "joint_every": 1,
                                                       "pitch_weight": weight}))
        a, b = next(iter(_batches(config)))
        losses[weight] = {k: float(v) for k, v in model.cycle((a, b)).items()}
    # Same seed, same batch: only the pitch term differs between the two totals.
    off, on = losses[0.0], losses[10.0]
    assert off["pitch"] > 0 and off["pitch"] == pytest.approx(on["pitch"], rel=1e-4)
    assert on["g_total"] - off["g_total"] == pytest.approx(10.0 * on["pitch"], rel=1e-3)
    with pytest.raises(TfstyleError, match="must not be negative"):
        frontend.preset("melgan-vc", pitch_weight=-1.0)
