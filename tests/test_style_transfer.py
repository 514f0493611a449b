"""The random-CNN transfer engine on tiny configs: lengths, levels, losses that decrease."""
import numpy as np
import pytest

import tfstyle
from conftest import SR, melody, tone
from tfstyle.optimisation import transfer as style_transfer
from tfstyle.errors import TfstyleError
from tfstyle.optimisation.transfer import TransferConfig

TINY = dict(method="random-cnn", sr=SR, n_fft=512, hop_length=128, filters=64, kernel_size=3, gl_iters=8)


def test_output_has_content_length_and_level():
    content = melody([262, 330, 392, 330], sr=SR)          # 1.0 s
    style = tone(1.7, SR, freqs=(220, 440, 660, 880))       # longer, other timbre
    result = style_transfer.run(content, style, steps=10, **TINY)
    y = tfstyle.transfer(content, style, steps=10, **TINY)
    np.testing.assert_array_equal(y, result.audio)
    assert y.shape == content.shape and y.dtype == np.float32
    assert np.all(np.isfinite(y))
    assert np.max(np.abs(y)) <= 10 ** (-1 / 20) + 1e-6       # never clipped
    rms = np.sqrt(np.mean(y ** 2))
    assert rms > 0.3 * np.sqrt(np.mean(content ** 2))        # not silent
    assert set(result.losses) == {"content", "style", "total"}


def test_optimisation_lowers_the_style_loss():
    content = melody([262, 294, 330, 349], sr=SR)
    style = tone(2.0, SR, freqs=(110, 220, 330, 440, 550))
    result = style_transfer.run(content, style, steps=40, **TINY)
    before, after = result.initial_losses, result.losses
    assert style_transfer.run(content, style, steps=0, **TINY).losses == before
    assert before["content"] == pytest.approx(0.0, abs=1e-9)   # starts from the content
    assert after["style"] < 0.5 * before["style"]
    assert after["total"] < before["total"]


@pytest.mark.parametrize("init", ["content+noise", "noise"])
def test_other_start_points_and_gram_form_for_long_clips(init):
    content = melody([262, 330], note_seconds=0.6, sr=SR)
    style = tone(0.6, SR, freqs=(440, 880))
    # 16 filters and ~75 frames: more frames than channels, so the C×C Gram form is used.
    result = style_transfer.run(content, style, steps=5, init=init, **{**TINY, "filters": 16})
    assert result.audio.shape == content.shape
    assert np.isfinite(result.losses["total"])


def test_is_deterministic_for_a_seed():
    content, style = melody([262, 330, 392], sr=SR), tone(1.0, SR, freqs=(300, 600))
    a = tfstyle.transfer(content, style, steps=5, seed=1, **TINY)
    b = tfstyle.transfer(content, style, steps=5, seed=1, **TINY)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("override,message", [
    (dict(steps=-1), "steps"), (dict(learning_rate=0.0), "learning_rate"),
    (dict(tol=-1.0), "tol"), (dict(tol_window=0), "tol_window"),
    (dict(hop_length=1024), "hop_length"), (dict(init="zeros"), "init must be one of"),
    (dict(style_weight=float("nan")), "style_weight"), (dict(filters=0), "filters")])
def test_invalid_settings_are_user_errors(override, message):
    with pytest.raises(TfstyleError, match=message):
        tfstyle.transfer(tone(1.0), tone(1.0), **{**TINY, **override})


def test_bad_arrays_are_user_errors():
    with pytest.raises(TfstyleError, match="too short"):
        tfstyle.transfer(tone(0.01), tone(1.0), **TINY)
    bad = tone(1.0)
    bad[5] = np.inf
    with pytest.raises(TfstyleError, match="NaN or infinite"):
        tfstyle.transfer(tone(1.0), bad, **TINY)
    with pytest.raises(TfstyleError, match="mono"):
        tfstyle.transfer(np.zeros((2, SR), np.float32), tone(1.0), **TINY)


def test_defaults_are_documented_and_valid():
    config = TransferConfig().validate()
    assert config.min_samples() == config.n_fft


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_both_optimisers_lower_the_loss(optimizer):
    content = melody([262, 330, 392, 330], sr=SR)
    style = tone(1.5, SR, freqs=(150, 300, 450, 600))
    result = style_transfer.run(content, style, optimizer=optimizer, steps=15,
                                **{**TINY, "gl_iters": 2})
    assert result.losses["total"] < 0.5 * result.initial_losses["total"]


def test_extra_loss_terms_are_reported_and_lowered():
    content = melody([262, 330, 392], sr=SR)
    style = tone(1.0, SR, freqs=(200, 400))
    result = style_transfer.run(content, style, steps=20, autocorr_row_weight=1e-3,
                                autocorr_col_weight=1e-3, tv_weight=1e-3, content_weight=0.1,
                                **{**TINY, "gl_iters": 2})
    for term in ("autocorr_row", "autocorr_col", "tv"):
        assert term in result.losses
    assert result.losses["total"] < result.initial_losses["total"]


def test_long_content_is_optimised_in_crossfaded_windows():
    content = melody([262, 294, 330, 349, 392, 440, 494, 523] * 2, sr=SR)   # 4 s
    style = tone(1.0, SR, freqs=(220, 440, 660))
    config = TransferConfig(**{**TINY, "steps": 10, "chunk_frames": 120, "gl_iters": 2})
    opt = style_transfer.Optimisation(content, style, config.validate())
    frames = int(opt.content_rep.shape[0])
    windows = opt.windows(frames)
    assert len(windows) > 3 and windows[0][0] == 0 and windows[-1][1] == frames
    for (a0, a1), (b0, b1) in zip(windows, windows[1:]):
        assert a1 - b0 >= opt.net.receptive_field        # overlap covers the receptive field
    result = opt.run(progress=False)
    assert result.audio.shape == content.shape
    rep = result.representation
    jumps = np.abs(np.diff(rep, axis=0)).mean(axis=1)
    seams = [w[0] for w in windows[1:]] + [w[1] for w in windows[:-1]]
    # No step where a window starts or ends larger than the signal's own frame-to-frame changes.
    assert max(jumps[s - 1] for s in seams) <= np.percentile(jumps, 99)


def test_windows_of_a_long_clip_share_one_trace_and_the_compiled_rule_is_pythons():
    from tfstyle.optimise import Convergence, progress_bar

    content = melody([262, 294, 330, 349, 392, 440, 494, 523] * 2, sr=SR)   # 4 s
    style = tone(1.0, SR, freqs=(220, 440, 660))
    config = TransferConfig(**{**TINY, "steps": 40, "chunk_frames": 120, "tol": 0.02,
                               "tol_window": 5}).validate()
    opt = style_transfer.Optimisation(content, style, config)
    windows = opt.windows(int(opt.content_rep.shape[0]))
    assert len({stop - start for start, stop in windows}) == 1 and len(windows) > 3
    objective = opt.objective(windows[0][1] - windows[0][0])
    loop = style_transfer.AdamLoop(opt, objective)
    bar = progress_bar(0, False)
    stoppers = []
    for index, (start, stop) in enumerate(windows):
        objective.set_window(opt.content_rep[start:stop])
        stoppers.append(Convergence(config.tol, config.tol_window, config.steps))
        x, first, last = loop(opt.initial(opt.content_rep[start:stop], index), bar,
                              stoppers[-1])
        assert x.shape == (stop - start, opt.rep.channels) and last[1] < first[1]
    for fn in (loop.step, loop.advance, loop.evaluate, objective._content_maps):
        assert fn.experimental_get_tracing_count() == 1
    # The compiled loop stopped where the Python rule, fed the same totals, stops.
    for stopper in stoppers:
        again = Convergence(config.tol, config.tol_window, config.steps)
        assert any(again.update(t) for t in stopper.history) == (stopper.reason == "converged")
        assert (again.steps, again.reason) == (stopper.steps, stopper.reason)
    assert any(s.reason == "converged" for s in stoppers)


def test_convergence_rule():
    from tfstyle.optimise import Convergence

    flat = Convergence(tol=1e-3, window=5, max_steps=100)
    assert not any(flat.update(1.0) for _ in range(5))   # needs a full window first
    assert flat.update(1.0) and flat.reason == "converged" and flat.steps == 6
    falling = Convergence(tol=1e-3, window=5, max_steps=100)
    assert not any(falling.update(0.9 ** i) for i in range(50))
    off = Convergence(tol=0.0, window=5, max_steps=100)
    assert not any(off.update(1.0) for _ in range(50)) and off.reason == "max steps"
    bad = Convergence(tol=1e-3, window=5, max_steps=100)
    assert bad.update(float("nan")) and bad.reason == "diverged"


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_optimisation_stops_at_convergence_and_says_why(optimizer):
    content = melody([262, 330, 392, 330], sr=SR)
    style = tone(1.0, SR, freqs=(220, 440, 660))
    settings = dict(TINY, optimizer=optimizer, steps=60, tol_window=3)
    loose = style_transfer.run(content, style, tol=0.05, **settings)
    full = style_transfer.run(content, style, tol=0.0, **settings)
    assert loose.stop_reason == "converged" and loose.steps < 60 and loose.max_steps == 60
    assert full.steps == 60 or full.stop_reason == "converged"   # SciPy may finish first
    assert full.stop_reason in ("max steps", "converged") and full.losses["total"] <= \
        loose.losses["total"] * 1.001
