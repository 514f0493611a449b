"""The README's first command, whole (imports included), timed side by side in one run.

    python bench/default_speed.py [--rounds 2]

On the bundled 5 s examples: the harmonic method fitted from scratch (what `--method harmonic`
was before the timbre prior, `--preset harmonic-scratch`: the reference), the default command
(the automatic choice, which takes the harmonic method from the prior on these clips), and the
optimisation transfer. Rounds interleave the commands so
that a slow spell of a shared machine hits all of them. Also reports where the default's time
goes.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from report import DOC, table, write_section

ROOT = os.path.dirname(os.path.dirname(DOC))
BASE = [sys.executable, "-m", "tfstyle", "transfer", "examples/piano_melody.wav",
        "examples/violin_phrase.wav", "-q"]
RUNS = {
    "harmonic fitted from scratch (`--method harmonic` before the prior; reference)":
        ["--preset", "harmonic-scratch"],
    "default: the automatic choice (harmonic, from the timbre prior)": [],
    "optimisation (`--method random-cnn`, what chords or speech get)": ["--method",
                                                                       "random-cnn"],
}


def stages():
    """Seconds per stage of the default transfer in this process (after the imports)."""
    import tensorflow as tf

    from tfstyle import audio, dispatch

    tf.constant(0.0) + 1.0   # TensorFlow's start-up is not a stage of the method
    content = audio.load(os.path.join(ROOT, "examples/piano_melody.wav"), 22050)
    style = audio.load(os.path.join(ROOT, "examples/violin_phrase.wav"), 22050)
    result = dispatch.run(content, style)
    return result.timings, result.steps


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    seconds = {name: [] for name in RUNS}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, flags in RUNS.items():
                start = time.perf_counter()
                subprocess.run(BASE + ["-o", os.path.join(tmp, "out.wav")] + flags, cwd=ROOT,
                               env=env, check=True)
                seconds[name].append(time.perf_counter() - start)
                print(f"{name}: {seconds[name][-1]:.1f} s", flush=True)
    reference = np.mean(seconds[next(iter(RUNS))])
    rows = [[name, " ".join(RUNS[name]), ", ".join(f"{s:.1f}" for s in seconds[name]),
             f"{np.mean(seconds[name]) / reference:.2f}"] for name in RUNS]
    timings, steps = stages()
    body = ("`tfstyle transfer examples/piano_melody.wav examples/violin_phrase.wav -o "
            "out.wav` with the flags shown, as a new process each time (Python and "
            "TensorFlow imports included), rounds interleaved.\n\n")
    body += table(["command", "flags", "seconds per round", "ratio to the reference"], rows)
    body += ("\n\nWhere the default's time goes, in one process after the imports "
             f"({steps} adaptation steps): " + ", ".join(f"{k} {v:.1f} s" for k, v in
                                                          timings.items())
             + ". The rest of the command is Python, TensorFlow and Keras start-up and "
               "reading and writing the files.")
    write_section("default_speed", "The first command, whole: the default beside harmonic "
                  "transfer from scratch and optimisation transfer", body)


if __name__ == "__main__":
    main()
