"""Distributed training: TF_CONFIG checks, two workers on 127.0.0.1 against one device, a killed
worker and a resume, and a stop request."""
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import soundfile as sf

from tfstyle.cli import main
from tfstyle.errors import TfstyleError
from tfstyle.converters import distribute

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "train_worker.py")
TINY = ["--n-mels", "16", "--generator-filters", "8", "--critic-filters", "8", "--embedding",
        "4", "--batch-size", "2", "-q"]
# Seconds any group of processes may take before the test fails and kills it: a guard against a
# hang, sized for a busy 2-core host (the slowest group took 204 s there, beside another test
# process), not a speed requirement.
LIMIT = 480


@contextlib.contextmanager
def processes(commands, envs, logs):
    """Starts each command in its own process group; kills whatever is left on the way out."""
    started = []
    try:
        for command, env, log in zip(commands, envs, logs):
            started.append(subprocess.Popen(
                command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                stderr=open(log, "w"), start_new_session=True))
        yield started
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_all(procs, limit=LIMIT):
    deadline = time.time() + limit
    for proc in procs:
        proc.wait(timeout=max(1.0, deadline - time.time()))
    return [proc.returncode for proc in procs]


def read(path):
    with open(path) as f:
        return f.read()


@pytest.mark.parametrize("raw, message", [
    (None, "needs TF_CONFIG"),
    ("{not json", "not a valid cluster description"),
    ('{"cluster": {"worker": ["a:1"]}}', "not a valid cluster description"),
    ('{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}}',
     "task worker:2 is not in the cluster"),
    ('{"cluster": {"worker": ["a:1"], "ps": ["c:1"]}, "task": {"type": "worker", "index": 0}}',
     "not ps"),
    ('{"cluster": {"chief": ["a:1", "b:1"]}, "task": {"type": "chief", "index": 0}}',
     "at most one chief")])
def test_bad_tf_config_is_one_line(raw, message):
    with pytest.raises(TfstyleError, match=message):
        distribute.cluster("multi-worker", {} if raw is None else {"TF_CONFIG": raw})


def test_chief_and_worker_positions():
    spec = {"cluster": {"chief": ["c:1"], "worker": ["a:1", "b:1"]}}
    chief = distribute.cluster("multi-worker", {"TF_CONFIG": json.dumps(
        {**spec, "task": {"type": "chief", "index": 0}})})
    second = distribute.cluster("multi-worker", {"TF_CONFIG": json.dumps(
        {**spec, "task": {"type": "worker", "index": 1}})})
    assert (chief.workers, chief.index, chief.chief) == (3, 0, True)
    assert (second.index, second.chief, second.label) == (2, False, "worker 1 of 3 workers")
    assert second.address == "b:1" and second.peers == (("chief 0", "c:1"), ("worker 0", "a:1"))
    assert distribute.cluster("default") == distribute.Cluster()
    local = distribute.local_tf_configs(2)
    assert distribute.cluster("multi-worker", {"TF_CONFIG": local[0]}).chief
    assert distribute.cluster("multi-worker", {"TF_CONFIG": local[1]}).index == 1


def test_fit_cli_rejects_bad_distribution_options(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    base = ["fit", "--a", str(tmp_path), "--b", str(tmp_path), "--run-dir",
            str(tmp_path / "run"), "-q"]
    assert main(base + ["--strategy", "multi-worker"]) == 2
    assert "needs TF_CONFIG" in capsys.readouterr().err
    assert main(base + ["--tpu", "grpc://x:1"]) == 2
    assert "--tpu goes with --strategy tpu" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def _train_all(tmp_path, runs, steps, *family):
    """Runs tests/train_worker.py for each (strategy, rows, run folder, weights file), the
    multi-worker ones given a TF_CONFIG of a local two-worker cluster, all at once; returns
    (the saved weights in order, the log files)."""
    commands = [[sys.executable, WORKER, strategy, rows, steps, str(tmp_path / run),
                 str(tmp_path / out), *family] for strategy, rows, run, out in runs]
    configs = iter(distribute.local_tf_configs(2))
    envs = [{"TF_CONFIG": next(configs)} if strategy == "multi-worker" else {}
            for strategy, *_ in runs]
    logs = [str(tmp_path / f"log{i}") for i in range(len(runs))]
    with processes(commands, envs, logs) as procs:
        codes = wait_all(procs)
    assert codes == [0] * len(runs), [read(log)[-2000:] for log in logs]
    return [np.load(tmp_path / run[3]) for run in runs], logs


def test_two_workers_step_exactly_as_one_device_on_the_global_batch(tmp_path):
    """Two workers with 2 rows each, and two replicas in one worker, end identical to one
    device with 4 rows, up to the order of floating-point sums."""
    steps = "9"
    runs = [("multi-worker", "2", "run2", "w0.npy"), ("multi-worker", "2", "run2", "w1.npy"),
            ("default", "4", "run1", "single.npy"), ("mirrored-2cpu", "2", "run3", "m.npy"),
            ("default", "2", "run4", "control.npy")]
    (w0, w1, single, mirrored, control), logs = _train_all(tmp_path, runs, steps)
    np.testing.assert_array_equal(w0, w1)
    # Same data and schedule: only the order of floating-point sums differs, and how much that
    # moves the weights depends on the CPU's kernels (AVX-512 and AVX2 hosts differ by ~10x).
    # So the yardstick is measured in the same run: one device with the same seeds on half the
    # batch differs in data alone (measured 14x further away than the distributed runs on an
    # AVX2 host with oneDNN off, mean differences 5.5e-4 against 3.8e-5).
    data_effect = np.abs(control - single).mean()
    for distributed in (w0, mirrored):
        order_effect = np.abs(distributed - single).mean()
        assert order_effect * 10 < data_effect, (order_effect, data_effect)
    # The chief alone wrote the run directory; the other worker's scratch folder is gone.
    assert sorted(os.listdir(tmp_path / "run2" / "checkpoints")) == [
        "checkpoint", "ckpt-9.data-00000-of-00001", "ckpt-9.index"]
    key = hashlib.sha1(str(tmp_path / "run2").encode()).hexdigest()[:12]
    assert not os.path.exists(os.path.join(tempfile.gettempdir(), f"tfstyle-{key}-worker-1"))
    assert "worker 1 of 2 workers: step 9" in read(logs[1])


def test_two_harmonic_workers_step_as_one_device_on_the_global_batch(tmp_path):
    """The harmonic family on the same loop: two workers with 1 row each end identical to each
    other and close to one device with 2 rows (the yardstick as above). Each row brings its
    own synthesiser noise: with one seed per replica instead, worker 1's row was filtered with
    row 0's noise and the order effect was a quarter of the data effect, not under a tenth."""
    runs = [("multi-worker", "1", "run2", "w0.npy"), ("multi-worker", "1", "run2", "w1.npy"),
            ("default", "2", "run1", "single.npy"), ("default", "1", "run3", "control.npy")]
    (w0, w1, single, control), logs = _train_all(tmp_path, runs, "6", "harmonic")
    np.testing.assert_array_equal(w0, w1)
    order_effect, data_effect = np.abs(w0 - single).mean(), np.abs(control - single).mean()
    assert order_effect * 10 < data_effect, (order_effect, data_effect)
    assert sorted(os.listdir(tmp_path / "run2" / "checkpoints")) == [
        "checkpoint", "ckpt-6.data-00000-of-00001", "ckpt-6.index"]
    assert "worker 1 of 2 workers: step 6" in read(logs[1])


def test_vocoder_workers_and_replicas_step_as_one_device_on_the_global_batch(tmp_path):
    """The vocoder on the same loop, through both of its phases (the discriminator joins at
    step 2 inside a `tf.cond`, its optimizer applied outside it): two workers with 1 row
    each, and two replicas in one worker, end identical to each other and close to one
    device with 2 rows (the yardstick as above)."""
    runs = [("multi-worker", "1", "run2", "w0.npy"), ("multi-worker", "1", "run2", "w1.npy"),
            ("default", "2", "run1", "single.npy"), ("mirrored-2cpu", "1", "run3", "m.npy"),
            ("default", "1", "run4", "control.npy")]
    (w0, w1, single, mirrored, control), _ = _train_all(tmp_path, runs, "5", "vocoder")
    np.testing.assert_array_equal(w0, w1)
    data_effect = np.abs(control - single).mean()
    for distributed in (w0, mirrored):
        order_effect = np.abs(distributed - single).mean()
        assert order_effect * 10 < data_effect, (order_effect, data_effect)


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    from train_worker import synthetic_domain

    root = tmp_path_factory.mktemp("domains")
    for name, harmonics, seed in (("a", (1.0, 0.1), 0), ("b", (0.3, 1.0, 0.6), 1)):
        (root / name).mkdir()
        for i, clip in enumerate(synthetic_domain(name, harmonics, seed).clips):
            sf.write(root / name / f"{i}.wav", clip, 16000)
    return root


def _fit_command(domains, run, steps):
    return [sys.executable, "-m", "tfstyle", "fit", "--a", str(domains / "a"), "--b",
            str(domains / "b"), "--run-dir", str(run), "--strategy", "multi-worker",
            "--steps", str(steps), "--checkpoint-every", "6", *TINY]


def _latest_step(run):
    index = os.path.join(run, "checkpoints", "checkpoint")
    if not os.path.exists(index):
        return None
    first = read(index).splitlines()[0]
    return int(first.rsplit("-", 1)[1].rstrip('"'))


def test_a_killed_worker_and_a_restart_resume_from_the_last_checkpoint(domains, tmp_path):
    run = tmp_path / "run"
    envs = [{"TF_CONFIG": c} for c in distribute.local_tf_configs(2)]
    logs = [str(tmp_path / f"log{i}") for i in range(2)]
    with processes([_fit_command(domains, run, 3000)] * 2, envs, logs) as procs:
        deadline = time.time() + LIMIT
        while _latest_step(run) is None and time.time() < deadline and \
                all(p.poll() is None for p in procs):
            time.sleep(0.5)
        assert _latest_step(run), [read(log)[-2000:] for log in logs]
        os.killpg(procs[1].pid, signal.SIGKILL)
        # The survivor notices within the health-check interval and says how to go on.
        assert wait_all(procs[:1], LIMIT) == [2]
    saved = _latest_step(run)
    last = read(logs[0]).strip().splitlines()[-1]
    assert "lost contact" in last and f"resume from step {saved}" in last, last

    envs = [{"TF_CONFIG": c} for c in distribute.local_tf_configs(2)]
    logs = [str(tmp_path / f"again{i}") for i in range(2)]
    with processes([_fit_command(domains, run, saved + 6)] * 2, envs, logs) as procs:
        codes = wait_all(procs)
    assert codes == [0, 0], [read(log)[-2000:] for log in logs]
    assert f"resuming {run} from step {saved}" in read(logs[0])
    assert _latest_step(run) == saved + 6
    assert json.loads(read(run / "config.json"))["replicas"] == 2
