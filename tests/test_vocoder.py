"""The WaveNet vocoder: generator shapes and receptive field, vocoding in blocks against one
piece, the multi-resolution STFT loss against librosa, the log-mel loss against the
benchmarks' mel distance, `fit --model vocoder` (the spectral loss
falls, the discriminator joins at its step, resume after SIGKILL), resynthesis through
`tfstyle convert`, and MelGAN-VC's conversion through `--vocoder`."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import kill_after_first_checkpoint, melody
from tfstyle.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SR = 16000
# A tiny front end and network: 32 mel bands, hop 64 = 4·4·4; n_fft not a power of two, so
# the MelGAN-VC export writes no waveform TFLite model (TFLite's RFFT2D needs one), which
# these tests do not need.
FRONT = ["--n-fft", "192", "--hop-length", "64", "--n-mels", "32"]
TINY = FRONT + ["--head", "waveform", "--upsample", "4,4,4", "--channels", "8,8,4",
               "--dilations", "1,3",
               "--segment-frames", "16", "--batch-size", "2", "--scales", "2", "-q"]


def tiny_config(**overrides):
    from tfstyle.converters.vocoder.config import VocoderConfig

    settings = dict(n_fft=192, hop_length=64, n_mels=32, head="waveform", upsample="4,4,4",
                    channels="8,8,4", dilations="1,3", segment_frames=16, batch_size=2,
                    scales=2)
    return VocoderConfig(**{**settings, **overrides}).validate()


def tune(seed, notes=6):
    rng = np.random.default_rng(seed)
    return melody(list(220.0 * 2 ** (rng.integers(0, 12, notes) / 12)), 0.25, sr=SR,
                  harmonics=(1.0, 0.5, 0.25), seed=seed)


def test_a_vocoder_run_saved_before_the_istft_head_keeps_its_waveform_head():
    import json

    from tfstyle.converters.vocoder.config import VocoderConfig

    saved = json.loads(tiny_config().to_json())
    saved.pop("head")
    assert VocoderConfig.from_dict(saved).head == "waveform"
    assert VocoderConfig.from_dict({**saved, "head": "istft"}).head == "istft"


# The two endings of the generator: stages up to the sample rate, or an inverse STFT after a
# stage at the frame rate or at 4 x it.
HEADS = {"waveform": {}, "istft": dict(head="istft", upsample="1", channels="8"),
         "istft-mel": dict(head="istft", upsample="1", channels="8", prior="mel"),
         "istft-x4": dict(head="istft", upsample="4", channels="8"),
         # An inverse STFT of 6 hops: blocks start on multiples of 3 frames at x2.
         "istft-x2-overlap6": dict(head="istft", upsample="2", channels="8", overlap=6)}


def build_net(head):
    """The tiny generator of a head, its iSTFT outputs (zero at first) made to move."""
    from tfstyle.converters.vocoder.generator import build

    net = build(tiny_config(**HEADS[head]))
    rng = np.random.default_rng(7)
    for name in ("log_magnitude", "phase") if head != "waveform" else ():
        layer = net.get_layer(name)
        layer.set_weights([rng.normal(0.0, 0.1, w.shape).astype(np.float32)
                           for w in layer.get_weights()])
    return net


@pytest.mark.parametrize("head", HEADS)
def test_the_generator_gives_a_hop_of_samples_per_frame_and_sees_only_its_receptive_field(head):
    import keras

    net = build_net(head)
    rng = np.random.default_rng(0)
    mel = rng.uniform(-1, 1, (1, 60, 32)).astype(np.float32)
    out = np.asarray(net(mel))
    assert out.shape == (1, 60 * 64) and np.all(np.isfinite(out))
    if head == "waveform":
        assert np.abs(out).max() <= 1.0
    # A change at frame 30 moves samples within the receptive field of it, and none beyond;
    # with a phase vocoder's phase, the running sum of each bin's frequency carries it on as
    # a constant turn of the bin, and the field bounds the frames of magnitude, phase and
    # frequency that move.
    field = net.receptive_field()
    changed = mel.copy()
    changed[0, 30] += 1.0
    if getattr(net, "integrate", False):
        parts = keras.Model(net.input, [net.get_layer("magnitude").output,
                                        net.get_layer("phase").output, net._frequency])
        diff = sum(np.abs(np.asarray(a) - np.asarray(b)).max(-1)[0]
                   for a, b in zip(parts(changed), parts(mel)))
        moved = np.nonzero(diff > 1e-6)[0] * (64 // net._rate())
        assert len(moved) and np.abs(np.asarray(net(changed)) - out)[0, -64:].max() > 1e-4
    else:
        diff = np.abs(np.asarray(net(changed)) - out)[0]
        moved = np.nonzero(diff > 1e-6)[0]
    assert len(moved)
    assert moved.min() >= (30 - field) * 64 and moved.max() < (31 + field) * 64
    again = type(net).from_config(net.get_config())
    again.set_weights(net.get_weights())
    np.testing.assert_allclose(np.asarray(again(mel)), out, atol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(net))
    assert restored.get_config() == net.get_config()


@pytest.mark.parametrize("head", HEADS)
def test_a_long_mel_vocoded_in_blocks_is_the_one_piece_output(head):
    from tfstyle.converters.vocoder import synthesis

    net = build_net(head)
    mel = np.random.default_rng(1).uniform(-1, 1, (250, 32)).astype(np.float32)
    whole = synthesis.vocode(net, mel, block_frames=10 ** 6)
    blocks = synthesis.vocode(net, mel, block_frames=40)
    assert whole.shape == blocks.shape == (250 * 64,)
    # A phase summed over a thousand frames (istft-x4's) rounds differently in pieces.
    tolerance = 2e-3 if getattr(net, "integrate", False) else 1e-4
    np.testing.assert_allclose(blocks, whole, atol=tolerance * np.abs(whole).max())
    # Trimmed or padded to a length.
    assert synthesis.vocode(net, mel, length=1000).shape == (1000,)


@pytest.mark.parametrize("overlap", [4, 6])
def test_the_istft_head_starts_from_the_magnitude_the_mel_implies(overlap):
    """Before training (its magnitude layer is zeros) the iSTFT generator's output carries the
    magnitude that the mel's inverse gives: measured again through the front end, it is the
    input mel; the phase it learns does not change how the magnitude is set."""
    import tensorflow as tf

    from tfstyle import spectral
    from tfstyle.converters.melgan_vc.frontend import magnitude_to_mel, normalized_mel
    from tfstyle.converters.vocoder.generator import ISTFTHead, build

    config = tiny_config(**HEADS["istft"], overlap=overlap)
    net = build(config)
    n_fft = overlap * config.hop_length
    y = tune(3)[None]
    mel = normalized_mel(tf.constant(y), config)
    prior = net.get_layer("mel_magnitude")(mel)
    again = magnitude_to_mel(tf.exp(prior), config, n_fft)
    # Where the mel is above its floor, the round trip holds to about a dB (the inverse is
    # clamped at zero); a wrong scale of the magnitude would be 6 dB (0.12) per factor 2.
    loud = np.asarray(mel) > -0.5
    assert np.mean(np.abs(np.asarray(again) - np.asarray(mel))[loud]) < 0.04
    # The head's inverse STFT is spectral.istft's: the true magnitude, and the true phase
    # less the head's own ramp (each bin's centre frequency over a hop), give y back.
    stft = spectral.stft(tf.constant(y), n_fft, config.hop_length)
    frames, bins = stft.shape[-2], stft.shape[-1]
    ramp = (np.arange(frames)[:, None] * np.arange(bins)[None, :] % overlap) \
        * (2 * np.pi / overlap)
    head = ISTFTHead(config.hop_length, overlap=overlap)
    out = np.asarray(head([tf.math.log(tf.abs(stft) + 1e-12),
                           tf.math.angle(stft) - ramp.astype(np.float32)]))
    edge = n_fft
    np.testing.assert_allclose(out[0, edge:-edge], y[0, edge:out.shape[1] - edge], atol=1e-4)


def test_the_correction_moves_band_levels_onto_the_mel_and_reaches_only_its_frames():
    """`MelCorrection` keeps a waveform whose mel is the given one (the STFT's inverse of an
    unchanged spectrum), brings a tilted, quieter copy's mel most of the way back onto it, and
    a change of one mel frame moves only the samples within its reach."""
    import tensorflow as tf

    from tfstyle.converters.melgan_vc.frontend import normalized_mel
    from tfstyle.converters.vocoder.correction import MelCorrection

    config = tiny_config(**HEADS["istft"])
    hop = config.hop_length
    front = {k: getattr(config, k) for k in ("sr", "n_fft", "n_mels", "fmin", "fmax",
                                             "min_level_db", "ref_level_db")}
    correct = MelCorrection(front, hop, passes=4)
    y = tune(3)
    frames = len(y) // hop
    y = y[:frames * hop]
    mel = np.asarray(normalized_mel(tf.constant(np.pad(y, (0, hop))), config))[None, :frames]
    same = np.asarray(correct(tf.constant(y[None]), tf.constant(mel)))[0]
    # The ends are padded otherwise than the front end pads them, which each pass carries
    # a frame's span further in.
    inner = slice((correct.reach + 1) * hop, -(correct.reach + 1) * hop)
    np.testing.assert_allclose(same[inner], y[inner], atol=1e-3 * np.abs(y).max())

    # A treble cut and 6 dB down.
    tilted = 0.5 * np.convolve(y, [0.5, 0.5])[:len(y)].astype(np.float32)
    fixed = np.asarray(correct(tf.constant(tilted[None]), tf.constant(mel)))[0]

    def error(x):
        got = np.asarray(normalized_mel(tf.constant(np.pad(x, (0, hop))), config))[:frames]
        loud = mel[0] > -0.5
        return np.mean(np.abs(got - mel[0])[loud])

    assert error(fixed) < 0.3 * error(tilted)

    changed = mel.copy()
    changed[0, 30] += 0.2
    moved = np.nonzero(np.abs(np.asarray(correct(tf.constant(tilted[None]),
                                                 tf.constant(changed)))[0] - fixed) > 1e-6)[0]
    assert len(moved)
    assert moved.min() >= (30 - correct.reach) * hop and moved.max() < (31 + correct.reach) * hop


def test_the_phase_vocoder_prior_plays_a_partial_between_two_bins_at_its_own_pitch():
    """Untrained (the network's layers start at zero), the istft-16k generator is a phase
    vocoder of the mel: a note whose partials fall between its bins' centres (20.8 Hz apart)
    comes out at their own frequencies, where the centre-frequency prior moves each to a
    centre (451 Hz to 437.5 Hz or 458.3 Hz, a quarter tone off)."""
    from tfstyle import metrics
    from tfstyle.converters.vocoder import synthesis
    from tfstyle.converters.vocoder.config import preset
    from tfstyle.converters.vocoder.generator import build

    t = np.arange(SR) / SR
    y = sum(0.3 / h * np.sin(2 * np.pi * 451.0 * h * t + h) for h in (1, 2, 3)).astype(
        np.float32)

    def peaks(z):
        spectrum = np.abs(np.fft.rfft(z[SR // 4:3 * SR // 4] * np.hanning(SR // 2)))
        hz = np.fft.rfftfreq(SR // 2, 1 / SR)
        return [hz[(hz > f - 40) & (hz < f + 40)][np.argmax(
            spectrum[(hz > f - 40) & (hz < f + 40)])] for f in (451.0, 902.0, 1353.0)]

    outputs = {}
    for prior in ("phase-vocoder", "mel"):
        config = preset("istft-16k", prior=prior)
        outputs[prior] = synthesis.resynthesise(build(config), y, config)
    np.testing.assert_allclose(peaks(outputs["phase-vocoder"]), [451, 902, 1353], atol=4.0)
    centre = peaks(outputs["mel"])[0]
    assert abs(centre / (SR / 768) - round(centre / (SR / 768))) < 0.2 and abs(centre - 451) > 6
    assert metrics.mel_distance(outputs["phase-vocoder"], y, SR) < metrics.mel_distance(
        outputs["mel"], y, SR) - 1.0


@pytest.mark.parametrize("head", ["istft", "istft-mel", "istft-x2-overlap6"])
def test_the_istft_generator_exports_to_builtin_tflite(head, tmp_path):
    """Its inverse DFT, overlap-add and the mel's magnitude estimate are builtin TFLite ops;
    the LiteRT runner's blocks, each carrying the integrated phase to the next, give what
    Keras gives the whole mel in one piece (padded as the runner pads it)."""
    import json

    from tfstyle.converters.melgan_vc.export import export_vocoder_tflite, vocoder_error

    sys.path.insert(0, os.path.join(ROOT, "export"))
    import tflite_runner

    # Blocks that keep 12 frames (a multiple of every head's frame period: 4, and 3 for the
    # overlap of 6 at x2) beside their context.
    net = build_net(head)
    frames = 2 * net.receptive_field() + 12
    path, ops = export_vocoder_tflite(net, str(tmp_path / "v.tflite"), frames=frames)
    assert {"SIN", "COS", "EXP", "PAD"} <= set(ops)
    assert vocoder_error(net, path, frames=frames) < 1e-4
    bins = net.bins
    front = dict(sr=SR, n_fft=192, hop_length=64, n_mels=32)
    json.dump({**front, "tflite": {"input": [1, frames, 32], "context_frames":
                                   net.receptive_field(),
                                   "carry": [1, bins] if net.integrate else None}},
              open(path + ".json", "w"))
    runner = tflite_runner.Runner.__new__(tflite_runner.Runner)
    runner.meta = front
    runner.set_vocoder(path)
    mel = np.random.default_rng(2).uniform(-1, 0.5, (70, 32)).astype(np.float32)
    got = runner.vocode(mel, 70 * 64)
    context = net.receptive_field()
    padded = np.concatenate([np.full((context, 32), -1.0, np.float32), mel,
                             np.full((frames, 32), -1.0, np.float32)])
    want, _ = net.vocode_block(padded[None], np.zeros((1, bins), np.float32), context, 0)
    want = np.asarray(want)[0, context * 64:(context + 70) * 64]
    np.testing.assert_allclose(got, want, atol=1e-4 * np.abs(want).max())


def test_the_multi_resolution_stft_loss_is_librosas_spectra_compared():
    import librosa

    from tfstyle.dsp.spectral_loss import multi_resolution_stft_loss

    rng = np.random.default_rng(2)
    a = rng.normal(size=(2, 4000)).astype(np.float32)
    b = (a + 0.3 * rng.normal(size=a.shape)).astype(np.float32)
    resolutions = ((256, 120, 30), (512, 300, 60))
    total, convergence, log_mag = (float(v) for v in
                                   multi_resolution_stft_loss(a, b, resolutions))
    want_sc, want_log = 0.0, 0.0
    for n_fft, win, hop in resolutions:
        sa = np.abs(librosa.stft(a, n_fft=n_fft, hop_length=hop, win_length=win,
                                 pad_mode="constant")).transpose(0, 2, 1)
        sb = np.abs(librosa.stft(b, n_fft=n_fft, hop_length=hop, win_length=win,
                                 pad_mode="constant")).transpose(0, 2, 1)
        want_sc += np.linalg.norm(sa - sb) / np.linalg.norm(sa)
        want_log += np.mean(np.abs(np.log(sa + 1e-7) - np.log(sb + 1e-7)))
    assert convergence == pytest.approx(want_sc / 2, rel=1e-3)
    assert log_mag == pytest.approx(want_log / 2, rel=1e-3)
    assert total == pytest.approx(convergence + log_mag, rel=1e-6)
    assert float(multi_resolution_stft_loss(a, a, resolutions)[0]) == pytest.approx(0, abs=1e-6)


def test_the_log_mel_loss_is_the_benchmarks_mel_distance():
    from tfstyle import metrics
    from tfstyle.dsp.spectral_loss import log_mel_distance

    rng = np.random.default_rng(3)
    t = np.arange(9000) / SR
    a = np.stack([np.sin(2 * np.pi * f * t) * np.exp(-3 * t) for f in (220.0, 330.0)])
    a = (a + 0.01 * rng.normal(size=a.shape)).astype(np.float32)
    b = (0.6 * np.roll(a, 40, axis=1) + 0.02 * rng.normal(size=a.shape)).astype(np.float32)
    want = np.mean([metrics.mel_distance(y, x, SR) for x, y in zip(a, b)])
    assert float(log_mel_distance(a, b, SR)) == pytest.approx(want, rel=1e-3)
    # A gain is not an error; the loss has a gradient where output = target.
    assert float(log_mel_distance(a, 0.5 * a, SR)) == pytest.approx(0.0, abs=2e-3)
    import tensorflow as tf

    x = tf.Variable(a)
    with tf.GradientTape() as tape:
        loss = log_mel_distance(a, x, SR)
    assert np.all(np.isfinite(tape.gradient(loss, x).numpy()))


def test_runs_from_before_the_log_mel_loss_keep_training_without_it():
    from tfstyle.converters.vocoder.config import VocoderConfig

    values = json.loads(tiny_config().to_json())
    values.pop("log_mel_weight")
    assert VocoderConfig.from_dict(values).log_mel_weight == 0.0
    assert VocoderConfig().log_mel_weight > 0


def test_the_istft_heads_overlap_is_checked_and_older_runs_keep_four_hops():
    """...and the correction, which has no weights, is given to older runs too."""
    from tfstyle.converters.vocoder.config import VocoderConfig
    from tfstyle.errors import TfstyleError

    values = json.loads(tiny_config(**HEADS["istft"], overlap=6, correction=2).to_json())
    assert VocoderConfig.from_dict(values).overlap == 6
    assert VocoderConfig.from_dict(values).correction == 2
    values.pop("overlap")
    values.pop("correction")
    assert VocoderConfig.from_dict(values).overlap == 4
    assert VocoderConfig.from_dict(values).correction == 4
    for bad in (2, 5):
        with pytest.raises(TfstyleError, match="overlap must be an even number from 4"):
            tiny_config(**HEADS["istft"], overlap=bad)
    with pytest.raises(TfstyleError, match="correction must be 0 or more passes"):
        tiny_config(**HEADS["istft"], correction=-1)


def test_the_spectral_loss_falls_then_the_discriminator_joins_at_its_step():
    import tensorflow as tf

    from tfstyle.converters.vocoder import family
    from tfstyle.converters.vocoder.data import training_pipeline
    from tfstyle.domains import Domain
    from tfstyle.dsp.spectral_loss import multi_resolution_stft_loss

    config = tiny_config(adversarial_start=30, learning_rate=2e-3)
    clips = [tune(i) for i in range(3)]
    batches = iter(training_pipeline(Domain("tunes", clips, ["0", "1", "2"], []), config))
    mel, audio = next(batches)
    assert mel.shape == (2, 16, 32) and audio.shape == (2, 16 * 64)
    model = family.build(config)
    step = tf.function(model.cycle)
    fixed = lambda: float(multi_resolution_stft_loss(audio, model.generator(mel))[0])
    d_before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    first = fixed()
    losses = [step(next(batches)) for _ in range(30)]
    assert fixed() < first
    # Before its step the discriminator is neither run nor moved.
    assert all(float(l["d_loss"]) == 0 and float(l["g_adv"]) == 0 for l in losses)
    for before, v in zip(d_before, model.discriminator.trainable_variables):
        np.testing.assert_array_equal(before, v.numpy())
    joined = step(next(batches))
    assert float(joined["d_loss"]) > 0 and float(joined["g_adv"]) > 0
    assert float(joined["log_mel"]) > 0
    assert any(not np.array_equal(b, v.numpy())
               for b, v in zip(d_before, model.discriminator.trainable_variables))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A vocoder run started as a user would, killed with SIGKILL after its first checkpoint,
    then resumed (in this process) from the run alone."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("vocoder")
    (root / "b").mkdir()
    for i in range(3):
        sf.write(root / "b" / f"{i}.wav", tune(i), SR)
    run = str(root / "run")
    command = [sys.executable, "-m", "tfstyle", "fit", "--model", "vocoder", "--b",
               str(root / "b"), "--run-dir", run, "--steps", "100000", "--checkpoint-every",
               "2", "--log-every", "2", "--adversarial-start", "3", *TINY]
    killed_at = kill_after_first_checkpoint(command, run)
    log = io.StringIO()
    with contextlib.redirect_stderr(log):
        assert main(["fit", "--run-dir", run, "--steps", str(killed_at + 2), "-q"]) == 0
    return root, run, killed_at, log.getvalue()


def test_a_killed_vocoder_run_resumes_and_resynthesises(run, tmp_path):
    import tensorflow as tf

    root, run_dir, killed_at, log = run
    assert f"from step {killed_at}" in log
    assert tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints")).endswith(
        f"-{killed_at + 2}")
    assert os.listdir(os.path.join(run_dir, "tensorboard"))
    out = tmp_path / "resynthesised.wav"
    assert main(["convert", run_dir, str(root / "b" / "0.wav"), "-o", str(out), "-q"]) == 0
    y, sr = sf.read(out)
    assert sr == SR and len(y) == len(tune(0)) and np.all(np.isfinite(y))


@pytest.fixture(scope="module")
def melgan(run):
    """A MelGAN-VC run of the vocoder's mel front end."""
    root = run[0]
    path = str(root / "melgan")
    assert main(["fit", "--a", str(root / "b"), "--b", str(root / "b"), "--run-dir", path,
                 "--steps", "3", "--generator-filters", "8", "--critic-filters", "8",
                 "--embedding", "4", "--batch-size", "2", *FRONT, "-q"]) == 0
    return path


def test_melgan_vc_converts_through_a_vocoder_of_its_front_end(run, melgan, tmp_path, capsys):
    root, vocoder_run, _, _ = run
    source = str(root / "b" / "1.wav")
    outs = {}
    for name, flags in (("vocoder", ["--vocoder", vocoder_run]), ("griffin-lim", [])):
        outs[name] = tmp_path / f"{name}.wav"
        assert main(["convert", melgan, source, "-o", str(outs[name]), "-q", *flags]) == 0
    a, _ = sf.read(outs["vocoder"])
    b, _ = sf.read(outs["griffin-lim"])
    assert len(a) == len(b) == len(tune(1)) and not np.allclose(a, b)
    # A vocoder of another mel, or a run that is no vocoder: one line, exit 2, nothing written.
    other = str(tmp_path / "other")
    assert main(["fit", "--a", str(root / "b"), "--b", str(root / "b"), "--run-dir", other,
                 "--steps", "1", "--generator-filters", "8", "--critic-filters", "8",
                 "--embedding", "4", "--batch-size", "2", "--n-fft", "256", "--hop-length",
                 "64", "--n-mels", "24", "-q"]) == 0
    capsys.readouterr()
    for flags, message in ((["--vocoder", vocoder_run], "inverts another mel"),
                           (["--vocoder", melgan], "not a vocoder"),
                           # No vocoder ships for this tiny mel.
                           (["--vocoder", "wavenet"], "no vocoder ships for this model's mel"),
                           (["--vocoder", vocoder_run, "--inversion", "optimize"],
                            "give --inversion or --vocoder, not both")):
        out = tmp_path / "never.wav"
        code = main(["convert", other, source, "-o", str(out), *flags, "-q"])
        err = capsys.readouterr().err.strip()
        assert code == 2 and message in err and len(err.splitlines()) == 1
        assert not out.exists()
    # Named Griffin-Lim is the default's output here, where no vocoder ships for the mel.
    named = tmp_path / "named.wav"
    assert main(["convert", melgan, source, "-o", str(named), "--vocoder", "griffin-lim",
                 "-q"]) == 0
    np.testing.assert_allclose(sf.read(named)[0], b, atol=1e-6)


def test_a_melgan_vc_export_carries_the_vocoder(run, melgan, tmp_path):
    import json

    import tensorflow as tf

    from tfstyle.converters.api import load_converter
    from tfstyle.converters.melgan_vc.convert import convert_audio

    root, vocoder_run, _, _ = run
    out = tmp_path / "export"
    assert main(["export", melgan, "--vocoder", vocoder_run, "--out", str(out), "--name", "m"]
                ) == 0
    meta = json.load(open(out / "m" / "1" / "assets.extra" / "tfstyle.json"))
    assert meta["inversion"] == "wavenet vocoder"
    y = tune(2)
    served = tf.saved_model.load(str(out / "m" / "1")).signatures["waveform"](
        waveform=tf.constant(y[None], tf.float32))["waveform"].numpy()[0]
    converter, vocoder = load_converter(melgan), load_converter(vocoder_run)
    want = convert_audio(converter.frozen(), y, converter.config, vocoder=vocoder.generator)
    rms = lambda x: np.sqrt(np.mean(x ** 2))
    np.testing.assert_allclose(served / rms(served), want / rms(want), atol=1e-3)
    tflite = json.load(open(out / "m_vocoder_none.tflite.json"))["tflite"]
    assert tflite["max_abs_error_vs_keras"] < 1e-4
    assert tflite["context_frames"] == vocoder.generator.receptive_field()
    # The LiteRT runner with the generator slice and the vocoder, on a file.
    wav = tmp_path / "in.wav"
    sf.write(wav, np.tile(y, 3), SR)
    done = subprocess.run([sys.executable, os.path.join(ROOT, "export", "tflite_runner.py"),
                           str(out / "m_generator_none.tflite"), str(wav),
                           str(tmp_path / "runner.wav"), "--vocoder",
                           str(out / "m_vocoder_none.tflite")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert done.returncode == 0, done.stderr
    got, sr = sf.read(tmp_path / "runner.wav")
    assert sr == SR and len(got) == 3 * len(y) and np.all(np.isfinite(got))


def test_the_default_vocoder_is_the_shipped_one_of_the_mel_only_where_it_measured_better(
        tmp_path, monkeypatch):
    """`--vocoder` unset: the vocoder shipped for the model's exact mel when its record says it
    beat Griffin-Lim, else Griffin-Lim; `wavenet` names it whatever its record; another mel
    has none."""
    import json

    from tfstyle import pretrained
    from tfstyle.converters import families
    from tfstyle.converters.api import choose_vocoder
    from tfstyle.converters.melgan_vc.frontend import MelGANConfig
    from tfstyle.errors import TfstyleError

    melgan = families.get("melgan-vc")
    config = MelGANConfig(n_fft=192, hop_length=64, n_mels=32)
    monkeypatch.setattr(pretrained, "HERE", str(tmp_path))
    folder = tmp_path / pretrained.MODELS["vocoder-16k"]
    folder.mkdir()

    def ship(default, **front_end):
        record = {"family": "vocoder", "default": default,
                  "config": json.loads(tiny_config(**front_end).to_json())}
        (folder / "config.json").write_text(json.dumps(record))

    ship(True)
    assert choose_vocoder(None, melgan, config) == "vocoder-16k"
    assert choose_vocoder("griffin-lim", melgan, config) is None
    ship(False)
    assert choose_vocoder(None, melgan, config) is None
    assert choose_vocoder("wavenet", melgan, config) == "vocoder-16k"
    ship(True, n_mels=24)
    assert choose_vocoder(None, melgan, config) is None
    with pytest.raises(TfstyleError, match="no vocoder ships for this model's mel"):
        choose_vocoder("wavenet", melgan, config)
    # A harmonic model has no mel to invert: no default, and naming one is an error.
    harmonic = families.get("harmonic")
    assert choose_vocoder(None, harmonic, None) is None
    with pytest.raises(TfstyleError, match="applies to MelGAN-VC models"):
        choose_vocoder("wavenet", harmonic, None)


def test_a_magnitude_of_any_stft_gives_the_front_ends_mel_at_its_frame_rate():
    """What an optimisation transfer hands the vocoder: its magnitude (another n_fft and hop)
    measured as the vocoder's front end measures audio."""
    from tfstyle import spectral
    from tfstyle.converters.melgan_vc.frontend import magnitude_to_mel, normalized_mel
    from tfstyle.converters.vocoder.synthesis import resample_frames

    config = tiny_config()
    y = tune(3).astype(np.float32)
    want = normalized_mel(y, config).numpy()

    def mel(n_fft, hop):
        stft = spectral.stft(y, n_fft, hop, pad_mode="reflect")
        return magnitude_to_mel(spectral.magnitude(stft), config, n_fft).numpy()

    np.testing.assert_allclose(mel(config.n_fft, config.hop_length), want, atol=1e-4)
    # A longer FFT resolves the partials more finely, but the bands' levels stay put.
    sounding = want > -0.5
    assert abs(np.mean((mel(384, config.hop_length) - want)[sounding])) * 50 < 1.5  # dB
    # Frames every 128 samples brought to every 64: interpolated in time, the same span.
    coarse = mel(config.n_fft, 128)
    fine = resample_frames(coarse, 128, 64, len(want))
    assert fine.shape == want.shape
    np.testing.assert_allclose(fine[::2][:len(coarse)], coarse[:len(fine[::2])], atol=1e-6)
    np.testing.assert_allclose(fine[1:-2:2], (coarse[:-1] + coarse[1:])[:len(fine[1:-2:2])]
                               / 2, atol=1e-6)
    assert np.mean(np.abs(fine - want)[sounding]) < np.mean(np.abs(want[sounding] + 1.0)) / 4


def test_an_optimisation_transfer_sounds_through_a_vocoder(run, melgan, tmp_path, capsys):
    root, vocoder_run, _, _ = run
    content, style = str(root / "b" / "0.wav"), str(root / "b" / "2.wav")
    # The mel-cnn2 preset, tiny, at the vocoder's rate; its STFT (n_fft 512, hop 128) is not
    # the vocoder's (192, 64).
    common = ["--preset", "mel-cnn2", "--sr", "16000", "--n-fft", "512", "--hop-length",
              "128", "--n-mels", "32", "--filters", "8,8", "--steps", "2", "-q"]
    outs = {}
    for name, flags in (("vocoder", ["--vocoder", vocoder_run]), ("griffin-lim", [])):
        outs[name] = tmp_path / f"{name}.wav"
        assert main(["transfer", content, style, "-o", str(outs[name]), *common, *flags]) == 0
    a, sr = sf.read(outs["vocoder"])
    b, _ = sf.read(outs["griffin-lim"])
    assert sr == SR and len(a) == len(b) == len(tune(0)) and np.all(np.isfinite(a))
    assert not np.allclose(a, b)
    # A vocoder of another rate, a run that is no vocoder, a method that makes its own audio:
    # one line, exit 2, nothing written.
    capsys.readouterr()
    for flags, message in ((["--vocoder", vocoder_run, "--sr", "22050"], "give --sr 16000"),
                           (["--vocoder", melgan], "not a vocoder"),
                           (["--vocoder", vocoder_run, "--method", "harmonic"],
                            "make their own audio"),
                           (["--vocoder", "wavenet", "--sr", "8000"],
                            "no vocoder ships for 8000 Hz")):
        out = tmp_path / "never.wav"
        code = main(["transfer", content, style, "-o", str(out), *common, *flags])
        err = capsys.readouterr().err.strip()
        assert code == 2 and message in err and len(err.splitlines()) == 1, err
        assert not out.exists()


def test_a_vocoder_run_starts_from_another_of_the_same_network(run, tmp_path, capsys):
    """`--init-from RUN`: fine-tuning onto another front end (here another n_fft and fmax) from
    the run's networks; once it has checkpoints of its own, it resumes without the start."""
    import shutil

    from tfstyle.converters.api import load_converter
    from tfstyle.converters.vocoder.generator import build

    root, vocoder_run, _, _ = run
    start = str(shutil.copytree(vocoder_run, tmp_path / "start"))
    other_front = ["--n-fft", "256", "--fmax", "7000"]
    new = str(tmp_path / "new")
    fit = ["fit", "--model", "vocoder", "--b", str(root / "b"), *TINY]
    assert main([*fit, *other_front, "--run-dir", new, "--steps", "1", "--init-from", start,
                 "--learning-rate", "1e-9"]) == 0
    want = load_converter(start).generator.get_weights()
    got = load_converter(new).generator.get_weights()
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(want, got))
    fresh = build(tiny_config()).get_weights()
    assert not all(np.allclose(a, b, atol=1e-3) for a, b in zip(want, fresh))
    shutil.rmtree(start)
    assert main(["fit", "--run-dir", new, "--steps", "2", "-q"]) == 0
    # Another network: one line, exit 2, no checkpoint.
    capsys.readouterr()
    bad = tmp_path / "bad"
    code = main([*fit, "--channels", "8,8,8", "--run-dir", str(bad), "--steps", "1",
                 "--init-from", vocoder_run])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "its network differs" in err[-1] and "channels 8,8,4" in err[-1]
    assert not (bad / "checkpoints").exists()


@pytest.mark.parametrize("name, head", [("vocoder-16k", []), ("vocoder-22k", []),
                                        ("vocoder-16k", ["--overlap", "6"])])
def test_a_vocoder_run_starts_from_a_shipped_vocoder(name, head, run, tmp_path):
    """`--init-from vocoder-16k`: a new run (your audio, here at the shipped one's settings)
    starts from the shipped generator, so training goes on from the package itself; with
    another inverse STFT, from its WaveNet layers."""
    from tfstyle import pretrained
    from tfstyle.converters.api import load_converter

    root = run[0]
    shipped = pretrained.load(name)
    assert shipped.generator.receptive_field() % shipped.generator.frame_period == 0
    new = str(tmp_path / "new")
    preset = "istft-16k" if shipped.config.sr == 16000 else "istft-22k"
    assert main(["fit", "--model", "vocoder", "--b", str(root / "b"), "--preset", preset,
                 "--run-dir", new, "--steps", "1", "--init-from", name, "--learning-rate",
                 "1e-9", "--batch-size", "1", "--segment-frames", "8", "-q"] + head) == 0
    started = load_converter(new)
    # Over another prior or inverse STFT, the magnitude and phase it adds start from zero.
    other = bool(started.config.network_differences(shipped.config))
    assert other == bool(head) or started.config.prior != shipped.config.prior
    for layer in shipped.generator.layers:
        mine = started.generator.get_layer(layer.name).get_weights()
        if other and layer.name in ("log_magnitude", "phase"):
            assert all(np.abs(b).max() < 1e-6 for b in mine)
            continue
        for a, b in zip(layer.get_weights(), mine):
            np.testing.assert_allclose(b, a, atol=1e-6)
