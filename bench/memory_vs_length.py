"""Peak memory and time of the commands that take long audio, as the input grows.

    python bench/memory_vs_length.py [--minutes 1 10]

The bundled piano melody, repeated to each length, goes through `tfstyle transfer --method
harmonic` (the violin phrase's timbre), `tfstyle convert --model piano-violin` (MelGAN-VC)
and `tfstyle convert --model violin` (a harmonic converter), with
default settings, and through the LiteRT runner (`export/tflite_runner.py`, no TensorFlow) with
`tfstyle export --model flute` and with `tfstyle export --prior` and the violin phrase as
style, each run a new process; its peak resident memory (the kernel's maxrss of that process)
and wall time are reported beside those of the 5 s original, the reference. All read, process
and write in blocks, so the peak should not grow with the length.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

from report import DOC, table, write_section

ROOT = os.path.dirname(os.path.dirname(DOC))
EXAMPLE = os.path.join(ROOT, "examples", "piano_melody.wav")
STYLE = os.path.join(ROOT, "examples", "violin_phrase.wav")
RUNNER = os.path.join(ROOT, "export", "tflite_runner.py")


def exported(tmp, *what):
    """The float32 TFLite file of `tfstyle export ... --format tflite` (made once)."""
    name = "prior" if what == ("--prior",) else what[-1]
    path = os.path.join(tmp, "tflite", f"{name}_{'prior' if name == 'prior' else 'harmonic'}"
                                       "_none.tflite")
    if not os.path.exists(path):
        subprocess.run([sys.executable, "-m", "tfstyle", "export", *what, "--format", "tflite",
                        "--out", os.path.join(tmp, "tflite"), "--name", name], check=True,
                       cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return path


# Each: (input, output, a folder for what it needs) → the command after `python`.
COMMANDS = {
    "transfer --method harmonic": lambda src, out, tmp: [
        "-m", "tfstyle", "transfer", src, STYLE, "-o", out, "--method", "harmonic", "-q"],
    "convert --model piano-violin": lambda src, out, tmp: [
        "-m", "tfstyle", "convert", "--model", "piano-violin", src, "-o", out, "-q"],
    "convert --model violin": lambda src, out, tmp: [
        "-m", "tfstyle", "convert", "--model", "violin", src, "-o", out, "-q"],
    "tflite_runner.py (export --model flute)": lambda src, out, tmp: [
        RUNNER, exported(tmp, "--model", "flute"), src, out],
    "tflite_runner.py --style (export --prior)": lambda src, out, tmp: [
        RUNNER, exported(tmp, "--prior"), src, out, "--style", STYLE],
}


def measure(args):
    """(peak RSS in GB, seconds) of one command (after `python`) in a new process."""
    command = [sys.executable] + args
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return usage.ru_maxrss / 1e6, seconds       # ru_maxrss is in KiB on Linux


def cases(folder, minutes):
    """[(name, path)]: the 5 s example (the reference) and the piano melody repeated to each
    of `minutes`, written into `folder`."""
    melody, sr = sf.read(EXAMPLE, dtype="float32")
    found = [("5 s (the example, reference)", EXAMPLE)]
    for m in minutes:
        path = os.path.join(folder, f"{m:g}min.wav")
        sf.write(path, np.resize(melody, int(m * 60 * sr)), sr, subtype="PCM_16")
        found.append((f"{m:g} min", path))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = cases(tmp, args.minutes)
        for command in args.commands:
            make, reference = COMMANDS[command], None
            for name, path in inputs:
                peak, seconds = measure(make(path, os.path.join(tmp, "out.wav"), tmp))
                reference = reference or peak
                length = sf.info(path).duration
                rows.append([command, name, f"{peak:.2f}", f"{peak / reference:.2f}",
                             f"{seconds:.1f}", f"{length / seconds:.1f}×"])
                print(rows[-1], flush=True)
    body = ("The bundled piano melody repeated to each length, through each command with "
            "default settings (`tfstyle transfer CONTENT examples/violin_phrase.wav -o out.wav "
            "--method harmonic`, `tfstyle convert --model piano-violin CONTENT -o out.wav`, the "
            "same with `--model violin`; `export/tflite_runner.py MODEL CONTENT out.wav` with "
            "the float32 TFLite of `tfstyle export --model flute` and of `tfstyle export "
            "--prior`, the latter with `--style examples/violin_phrase.wav`), "
            "each a new process. Peak memory is the process's maximum resident set size; the "
            "time includes the imports, and for the harmonic method the fit on the style "
            "(the same for every length); the runner's excludes the export, done once "
            "beforehand.\n\n")
    body += table(["command", "content", "peak RSS (GB)", "ratio to the 5 s run", "seconds",
                   "content seconds per second"], rows)
    write_section("memory_vs_length", "Memory and time against input length", body)


if __name__ == "__main__":
    main()
