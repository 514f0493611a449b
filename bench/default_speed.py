"""The README's first command, whole (imports included), timed side by side in one run.

    python bench/default_speed.py [--rounds 3] [--before d855c9f]

On the bundled 5 s examples: `--method harmonic` as it was before the timbre prior (the
reference: commit --before, checked out into a temporary git worktree and run from there), the
same recipe in today's code (`--preset harmonic-scratch`), the default command (the automatic
choice, which takes the harmonic method from the prior on these clips), and the optimisation
transfer. Rounds interleave the commands so that a slow spell of a shared machine hits all of
them. Also reports where the default's time goes.
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
# The last commit before the timbre prior: its `--method harmonic` fitted from scratch.
BEFORE = "d855c9f"
REFERENCE = "`--method harmonic` before the timbre prior (reference)"
RUNS = {
    REFERENCE: ["--method", "harmonic"],
    "harmonic fitted from scratch in today's code": ["--preset", "harmonic-scratch"],
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, metavar="REV",
                        help="the commit whose --method harmonic is the reference "
                             "(default %(default)s, the last before the timbre prior)")
    args = parser.parse_args()
    seconds = {name: [] for name in RUNS}
    with tempfile.TemporaryDirectory() as tmp:
        before = os.path.join(tmp, "before")
        subprocess.run(["git", "worktree", "add", "--detach", before, args.before], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            for _ in range(args.rounds):
                for name, flags in RUNS.items():
                    # From the old checkout, `python -m tfstyle` imports its own package.
                    where = before if name == REFERENCE else ROOT
                    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": where}
                    start = time.perf_counter()
                    subprocess.run(BASE + ["-o", os.path.join(tmp, "out.wav")] + flags,
                                   cwd=where, env=env, check=True)
                    seconds[name].append(time.perf_counter() - start)
                    print(f"{name}: {seconds[name][-1]:.1f} s", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", before], cwd=ROOT,
                           check=False, capture_output=True)
    reference = np.mean(seconds[REFERENCE])
    rows = [[name, " ".join(RUNS[name]) + (f" (at {args.before})" if name == REFERENCE
                                           else ""),
             ", ".join(f"{s:.1f}" for s in seconds[name]),
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
