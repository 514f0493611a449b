"""Peak memory and time of the commands that take long audio, as the input grows.

    python bench/memory_vs_length.py [--minutes 1 10]

The bundled piano melody, repeated to each length, goes through `tfstyle transfer --method
harmonic` (the violin phrase's timbre), `tfstyle convert --model piano-violin` (MelGAN-VC)
and `tfstyle convert --model violin` (a harmonic converter), with
default settings, each run a new process; its peak resident memory (the kernel's maxrss of
that process) and wall time are reported beside those of the 5 s original, the reference.
Both read, process and write in blocks, so the peak should not grow with the length.
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
COMMANDS = {
    "transfer --method harmonic": lambda src, out: [
        "transfer", src, os.path.join(ROOT, "examples", "violin_phrase.wav"), "-o", out,
        "--method", "harmonic", "-q"],
    "convert --model piano-violin": lambda src, out: [
        "convert", "--model", "piano-violin", src, "-o", out, "-q"],
    "convert --model violin": lambda src, out: [
        "convert", "--model", "violin", src, "-o", out, "-q"],
}


def measure(args):
    """(peak RSS in GB, seconds) of one tfstyle command in a new process."""
    command = [sys.executable, "-m", "tfstyle"] + args
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return usage.ru_maxrss / 1e6, seconds       # ru_maxrss is in KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    args = parser.parse_args()
    melody, sr = sf.read(EXAMPLE, dtype="float32")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("5 s (the example, reference)", EXAMPLE)]
        for minutes in args.minutes:
            path = os.path.join(tmp, f"{minutes:g}min.wav")
            sf.write(path, np.resize(melody, int(minutes * 60 * sr)), sr, subtype="PCM_16")
            cases.append((f"{minutes:g} min", path))
        for command in args.commands:
            make, reference = COMMANDS[command], None
            for name, path in cases:
                peak, seconds = measure(make(path, os.path.join(tmp, "out.wav")))
                reference = reference or peak
                length = sf.info(path).duration
                rows.append([command, name, f"{peak:.2f}", f"{peak / reference:.2f}",
                             f"{seconds:.0f}", f"{length / seconds:.1f}×"])
                print(rows[-1], flush=True)
    body = ("The bundled piano melody repeated to each length, through each command with "
            "default settings (`tfstyle transfer CONTENT examples/violin_phrase.wav -o out.wav "
            "--method harmonic`, `tfstyle convert --model piano-violin CONTENT -o out.wav`, the "
            "same with `--model violin`), "
            "each a new process. Peak memory is the process's maximum resident set size; the "
            "time includes the imports, and for the harmonic method the fit on the style "
            "(the same for every length).\n\n")
    body += table(["command", "content", "peak RSS (GB)", "ratio to the 5 s run", "seconds",
                   "content seconds per second"], rows)
    write_section("memory_vs_length", "Memory and time against input length", body)


if __name__ == "__main__":
    main()
