"""Conversion speed of the shipped converters, side by side in one process: the harmonic
`--model violin` and the MelGAN-VC `--model piano-violin`, each through `tfstyle convert`'s
own path (streamed blocks), its exported SavedModel (`waveform` signature) and its TFLite
model with the LiteRT runner of export/ (float32 weights, 2 threads).

    python bench/converter_speed.py [--seconds 60]

The input is the bundled piano melody repeated to --seconds. Each path converts it once to
warm up (tracing, allocation) and is then timed over --rounds rounds (the best is kept). The
reference is MelGAN-VC's convert path, measured in the same run; the figure that matters is
seconds of audio converted per second (real-time factor) on this host.
"""
import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from report import load_examples, table, write_section

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "export"))


def timed(fn, rounds):
    fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    import tensorflow as tf

    import tflite_runner
    from tfstyle import audio
    from tfstyle.converters import api

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("piano-violin", "violin"):
            converter = api.load_converter(model=model)
            sr = converter.sr
            y = np.resize(load_examples("piano_melody", sr=sr), int(args.seconds * sr))
            written = converter.export(os.path.join(tmp, model), "all", ["none"], "m", None, 64)
            saved = tf.saved_model.load(next(p for p in written if os.path.isdir(p)))
            waveform = saved.signatures["waveform"]
            tflite = next(p for p in written if p.endswith(".tflite") and
                          ("harmonic" in p or "generator" in p))
            paths = {
                "tfstyle convert (streamed blocks)":
                    lambda: list(converter.convert_blocks(audio.Level([y]))),
                "SavedModel waveform signature":
                    lambda: waveform(waveform=tf.constant(y[None]))["waveform"].numpy(),
            }
            if converter.family == "harmonic":
                runner = tflite_runner.HarmonicRunner(tflite, threads=2)
                paths["TFLite + LiteRT runner"] = lambda: list(runner.render_blocks(
                    runner.analyse(audio.Level([y])), len(y)))
            else:
                runner = tflite_runner.Runner(tflite, threads=2)
                paths["TFLite generator + LiteRT runner"] = lambda: runner.convert(y)
            for name, fn in paths.items():
                seconds = timed(fn, args.rounds)
                rows.append([model, converter.family, name, seconds])
                print(rows[-1], flush=True)
    reference = rows[0][3]
    body = (f"{args.seconds:g} s of the bundled piano melody, converted in one process by each "
            "shipped converter along each path; best of "
            f"{args.rounds} timed rounds after a warm-up. The reference is the first row.\n\n")
    body += table(["model", "family", "path", "seconds", "real-time factor",
                   "time / reference"],
                  [[m, f, p, f"{s:.2f}", f"{args.seconds / s:.1f}x", f"{s / reference:.2f}"]
                   for m, f, p, s in rows])
    write_section("converter_speed", "Converter speed: harmonic and MelGAN-VC side by side",
                  body)
    print(body)


if __name__ == "__main__":
    main()
