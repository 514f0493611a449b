"""`tfstyle transfer` as a user runs it: errors are one line with exit code 2 and no output."""
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import SR, melody, tone
from tfstyle.cli import main

FAST = ["--method", "random-cnn", "--sr", str(SR), "--n-fft", "512", "--hop-length", "128",
        "--filters", "32", "--steps", "3", "--gl-iters", "2", "-q"]


@pytest.fixture
def clips(wav):
    return wav("content.wav", melody([262, 330, 392, 523], sr=SR)), \
        wav("style.wav", tone(1.5, SR, freqs=(200, 400, 600)))


def _run(capsys, args):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_end_to_end_in_a_fresh_process(clips, tmp_path):
    content, style = clips
    out, plot = tmp_path / "out.wav", tmp_path / "out.png"
    proc = subprocess.run([sys.executable, "-m", "tfstyle", "transfer", content, style,
                           "-o", str(out), "--plot", str(plot), "--steps", "3",
                           *FAST[:-3], "--gl-iters", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    y, sr = sf.read(out)
    assert sr == SR and len(y) == len(sf.read(content)[0])
    assert open(plot, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "weighted losses (start -> end): content" in proc.stderr and "wrote" in proc.stderr
    # TensorFlow's start-up chatter is kept off the terminal.
    assert "oneDNN" not in proc.stderr and "cuda" not in proc.stderr.lower()
    assert sorted(os.listdir(tmp_path)) == ["content.wav", "out.png", "out.wav", "style.wav"]


@pytest.mark.parametrize("bad", ["missing", "empty", "text", "truncated", "nan", "short"])
def test_bad_inputs_give_one_line_and_no_output(clips, wav, tmp_path, capsys, bad):
    content, style = clips
    data = open(content, "rb").read()
    path = tmp_path / f"{bad}.wav"
    if bad == "empty":
        sf.write(path, np.zeros(0, np.float32), SR)
    elif bad == "text":
        path.write_text("hello, I am not a wav file\n" * 10)
    elif bad == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif bad == "nan":
        y = tone(1.0)
        y[10:20] = np.nan
        sf.write(path, y, SR, subtype="FLOAT")
    elif bad == "short":
        sf.write(path, tone(0.005), SR)
    out = tmp_path / "out.wav"
    code, err = _run(capsys, ["transfer", str(path), style, "-o", str(out), *FAST])
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("tfstyle: error: ")
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("args,message", [
    (["--steps", "ten"], "invalid int value"),
    (["--learning-rate", "-1"], "learning_rate must be positive"),
    (["--init", "banana"], "invalid choice"),
    (["-o", "/nonexistent/dir/out.wav"], "does not exist"),
    (["-o", "out.xyz"], "unsupported output format"),
    (["--plot", "pic.jpg"], "PNG")])
def test_bad_options_give_one_line(clips, tmp_path, capsys, args, message):
    content, style = clips
    argv = ["transfer", content, style, "-o", str(tmp_path / "o.wav"), *FAST, *args]
    with pytest.raises(SystemExit) as info:
        sys.exit(main(argv))
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("preset,names", [("vgg19", "vgg19_weights_tf_dim_ordering"),
                                          ("boemer2019", "wavenet-ckpt")])
def test_missing_weights_stop_before_any_work(clips, tmp_path, capsys, monkeypatch, preset,
                                              names):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    content, style = clips
    code, err = _run(capsys, ["transfer", content, style, "-o", str(tmp_path / "o.wav"),
                              "--preset", preset])
    assert code == 2 and names in err and "--random-weights" in err
    assert err.count("\n") == 1 and not (tmp_path / "o.wav").exists()


def test_help_documents_every_setting(capsys):
    with pytest.raises(SystemExit):
        main(["transfer", "--help"])
    text = capsys.readouterr().out
    for option in ["--steps", "--learning-rate", "--content-weight", "--style-weight",
                   "--filters", "--kernel-size", "--n-fft", "--hop-length", "--sr", "--seed",
                   "--gl-iters", "--plot", "--preset", "--method", "--weights",
                   "--random-weights", "--optimizer", "--representation", "--precision"]:
        assert option in text


def test_the_progress_bar_ends_where_a_converged_run_ended(clips, tmp_path, capsys):
    import re

    content, style = clips
    code, err = _run(capsys, ["transfer", content, style, "-o", str(tmp_path / "o.wav"),
                              *FAST[:-5], "--steps", "300", "--tol", "0.5", "--tol-window",
                              "3", "--gl-iters", "2"])
    assert code == 0
    taken = int(re.search(r"stopped after (\d+) of at most 300 steps: converged", err)[1])
    assert taken < 300
    last = [line for line in re.split(r"[\r\n]", err) if "optimising" in line][-1]
    assert f"{taken}/{taken}" in last and "/300" not in last


@pytest.mark.parametrize("precision,said", [("bfloat16", True), ("float32", False)])
def test_the_summary_says_when_the_products_were_bfloat16(clips, tmp_path, capsys, precision,
                                                          said):
    content, style = clips
    code, err = _run(capsys, ["transfer", content, style, "-o", str(tmp_path / "o.wav"),
                              *FAST[:-1], "--precision", precision])
    assert code == 0
    assert ("; bfloat16 products (--precision)" in err) == said
    with pytest.raises(SystemExit) as exit_:
        main(["transfer", content, style, "-o", str(tmp_path / "p.wav"), *FAST,
              "--precision", "float16"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "invalid choice: 'float16'" in err
    assert not (tmp_path / "p.wav").exists()
