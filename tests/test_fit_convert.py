"""`tfstyle fit` and `tfstyle convert` as a user runs them, on tiny models and synthetic audio."""
import glob
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf

from conftest import melody
from tfstyle.cli import main
from tfstyle.domains import list_files, load_domain
from tfstyle.converters.melgan_vc import frontend

SR = 16000
TINY = ["--n-mels", "16", "--generator-filters", "8", "--critic-filters", "8", "--embedding",
        "4", "--batch-size", "2", "-q"]


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    """Two folders of 'melodies' with different timbres (harmonic weights), plus bad files."""
    root = tmp_path_factory.mktemp("domains")
    rng = np.random.default_rng(0)
    for name, harmonics in (("a", (1.0, 0.1)), ("b", (0.3, 1.0, 0.6, 0.4))):
        folder = root / name / "sub"
        folder.mkdir(parents=True)
        for i in range(3):
            notes = rng.uniform(200, 600, 8)
            sf.write(folder / f"clip{i}.wav", melody(notes, sr=SR, harmonics=harmonics, seed=i), SR)
    (root / "a" / "broken.wav").write_text("not audio")
    sf.write(root / "a" / "tiny.wav", melody([300], note_seconds=0.1, sr=SR), SR)
    (root / "empty").mkdir()
    return root


def _events(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tags = set()
    for path in glob.glob(os.path.join(run, "tensorboard", "*")):
        acc = EventAccumulator(path, size_guidance={"tensors": 0})
        acc.Reload()
        tags |= set(acc.Tags()["tensors"])
    return tags


def test_domain_report_skips_bad_files_and_rejects_empty(domains):
    config = frontend.preset("melgan-vc", n_mels=16)
    domain = load_domain(str(domains / "a"), config)
    assert len(domain.clips) == 3
    reasons = dict(domain.skipped)
    assert "not a readable audio file" in reasons[str(domains / "a" / "broken.wav")]
    assert "shorter than one training crop" in reasons[str(domains / "a" / "tiny.wav")]
    report = domain.report("A", SR)
    assert "3 clips" in report and "skipped" in report
    with pytest.raises(Exception, match="no usable audio"):
        load_domain(str(domains / "empty"), config)
    listing = domains / "list.txt"
    listing.write_text("a/sub/clip0.wav\n# comment\na/sub/clip1.wav\n")
    assert len(load_domain(str(listing), config).clips) == 2
    assert len(list_files(str(domains / "b" / "**" / "*.wav"))) == 3


def test_fit_resumes_logs_and_converts(domains, tmp_path, capsys):
    run = str(tmp_path / "run")
    args = ["fit", "--a", str(domains / "a"), "--b", str(domains / "b"), "--run-dir", run,
            "--checkpoint-every", "3", "--log-every", "3", *TINY]
    assert main(args + ["--steps", "6"]) == 0
    err = capsys.readouterr().err
    assert "domain A:" in err and "3 clips" in err and "broken.wav" in err
    assert os.path.exists(os.path.join(run, "checkpoints", "ckpt-6.index"))
    assert main(args + ["--steps", "9"]) == 0
    assert "resuming" in capsys.readouterr().err
    assert os.path.exists(os.path.join(run, "checkpoints", "ckpt-9.index"))
    tags = _events(run)
    assert {"loss/d_loss", "loss/g_adv", "loss/identity", "loss/travel"} <= tags
    assert any(t.startswith("preview/") for t in tags)

    # A 40 s input converts in segments; the folder tree is mirrored; --skip-existing works.
    src = tmp_path / "in" / "deep"
    src.mkdir(parents=True)
    long = np.tile(melody([262, 330, 392, 440], sr=SR), 10)
    sf.write(src / "long.wav", long, SR)
    (src / "bad.wav").write_text("junk")
    out = tmp_path / "out"
    assert main(["convert", run, str(tmp_path / "in"), "-o", str(out), "--gl-iters", "4",
                 "-q"]) == 0
    converted, sr = sf.read(out / "in" / "deep" / "long.wav")
    assert sr == SR and len(converted) == len(long)
    assert np.max(np.abs(converted)) > 1e-3
    assert "skipped" in capsys.readouterr().err
    before = os.path.getmtime(out / "in" / "deep" / "long.wav")
    assert main(["convert", run, str(tmp_path / "in"), "-o", str(out), "--skip-existing",
                 "-q"]) == 0
    assert os.path.getmtime(out / "in" / "deep" / "long.wav") == before
    single = tmp_path / "one.flac"
    assert main(["convert", run, str(src / "long.wav"), "-o", str(single), "--sr", "22050",
                 "--gl-iters", "2", "-q"]) == 0
    y, sr = sf.read(single)
    assert sr == 22050 and abs(len(y) - len(long) * 22050 / SR) < 5


@pytest.mark.parametrize("args,message", [
    (["convert", "/nonexistent/run", "x.wav", "-o", "o.wav"], "no such run directory"),
    (["fit", "--a", "EMPTY", "--b", "B", "--run-dir", "RUN", "--steps", "1"],
     "no usable audio"),
    (["fit", "--a", "A", "--b", "B", "--run-dir", "RUN", "--frames", "30"], "multiple of 4"),
    (["fit", "--a", "A", "--b", "/nope", "--run-dir", "RUN"], "no such file or folder")])
def test_bad_inputs_are_one_line_errors(domains, tmp_path, capsys, args, message):
    args = [str(domains / "empty") if a == "EMPTY" else str(domains / "a") if a == "A" else
            str(domains / "b") if a == "B" else str(tmp_path / "run") if a == "RUN" else a
            for a in args]
    assert main(args + ["-q"] if args[0] == "fit" else args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("tfstyle: error:")


def test_a_killed_run_resumes_from_its_last_checkpoint(domains, tmp_path):
    run = str(tmp_path / "run")
    command = [sys.executable, "-m", "tfstyle", "fit", "--a", str(domains / "a"), "--b",
               str(domains / "b"), "--run-dir", run, "--steps", "3000",
               "--checkpoint-every", "3", *TINY]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    index = os.path.join(run, "checkpoints", "checkpoint")
    while not os.path.exists(index) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    time.sleep(2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(os.path.join(run, "checkpoints"))
    assert latest is not None
    killed_at = int(latest.rsplit("-", 1)[1])
    resumed = subprocess.run(command[:-len(TINY)] + TINY[:-1] +
                             ["--steps", str(killed_at + 3)], capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"from step {killed_at}" in resumed.stderr


def test_sigterm_stops_after_the_step_with_a_checkpoint(domains, tmp_path):
    run = str(tmp_path / "run")
    command = [sys.executable, "-m", "tfstyle", "fit", "--a", str(domains / "a"), "--b",
               str(domains / "b"), "--run-dir", run, "--steps", "3000",
               "--checkpoint-every", "300", *TINY]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.time() + 180
        events = os.path.join(run, "tensorboard")
        while not os.path.exists(events) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.5)
        time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        err = proc.communicate(timeout=120)[1]
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("tfstyle: stopped at step ") and "run the same command" in last
    stopped_at = int(last.split("step ")[1].split()[0])
    assert 0 < stopped_at < 300
    import tensorflow as tf

    assert tf.train.latest_checkpoint(os.path.join(run, "checkpoints")).endswith(
        f"-{stopped_at}")
