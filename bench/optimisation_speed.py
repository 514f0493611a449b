"""The default optimisation transfer, whole, against the same recipe written plainly in
TensorFlow, before and after; where its time goes; how it grows with length; every preset.

    python bench/optimisation_speed.py [--rounds 3] [--before 165c904]

On the bundled 5 s clips (piano melody, violin phrase), each command a new process with its
imports, rounds interleaved so that a slow spell of a shared machine hits all of them:
`bench/plain_reference.py` (the reference: the recipe as the published notebooks write it, run
for as many steps as tfstyle takes to converge), `tfstyle transfer --method random-cnn` at
--before (checked out into a temporary git worktree) and today, with its default --precision
(bfloat16 products where the CPU multiplies bfloat16 natively) and with --precision float32.
Then: a profile of one command of each version (cProfile: the cumulative time of the functions
named in the table); the optimisation step's arithmetic rate against this host's matmul rate
in the step's format; a 1-minute content
against the 5 s one; the presets ulyanov2016, mel-cnn2, cnn2d and vgg19 (random weights: the
same arithmetic as ImageNet's) before and after; losses at convergence and chroma of both
versions' outputs.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

from report import DOC, table, write_section

ROOT = os.path.dirname(os.path.dirname(DOC))
CONTENT = os.path.join(ROOT, "examples", "piano_melody.wav")
STYLE = os.path.join(ROOT, "examples", "violin_phrase.wav")
# The last commit before issue 29's changes to the optimisation.
BEFORE = "165c904"
PRESETS = {"ulyanov2016": [], "mel-cnn2": [], "cnn2d": [], "vgg19": ["--random-weights"]}
# A profile's rows: (label, function name, file name ending), cumulative seconds.
PROFILE = [
    ("TensorFlow and Keras imports", "import_tensorflow", ("common.py",)),
    # `run` of the engine: tfstyle/style_transfer.py before, tfstyle/optimisation/transfer.py
    # today.
    ("the transfer (`run` of the engine)", "run",
     ("tfstyle/style_transfer.py", "optimisation/transfer.py")),
    ("Griffin-Lim", "griffin_lim", ("phase.py",)),
    ("tf.function tracing, everywhere", "trace_function", ("tracing_compilation.py",)),
]
PROFILE_CODE = """
import cProfile, json, pstats, sys, time
start = time.perf_counter()
profile = cProfile.Profile()
profile.enable()
from tfstyle.cli import main
main(["transfer", {content!r}, {style!r}, "-o", {out!r}, "--method", "random-cnn", "-q"])
profile.disable()
total = time.perf_counter() - start
found = {{}}
for (path, line, name), (_, _, _, cumulative, _) in pstats.Stats(profile).stats.items():
    for label, function, ending in {rows!r}:
        if name == function and path.endswith(tuple(ending)) and "dispatch" not in path:
            found[label] = max(found.get(label, 0.0), cumulative)
print("PROFILE " + json.dumps({{"total": total, **found}}))
"""


def tfstyle_command(out, flags=(), content=CONTENT):
    return [sys.executable, "-m", "tfstyle", "transfer", content, STYLE, "-o", out,
            "--method", "random-cnn", *flags]


def timed(command, cwd=ROOT):
    """(seconds, stderr+stdout) of one command in a new process, from `cwd`'s package."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": cwd}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stderr + done.stdout


def summary(log):
    """(steps taken, end losses {term: value}) from a transfer's summary lines."""
    steps = int(re.search(r"stopped after (\d+) of", log).group(1))
    losses = dict((k, float(v)) for k, v in re.findall(r"(\w+) [\d.e+-]+ -> ([\d.e+-]+)",
                                                       log.split("weighted losses")[1]))
    return steps, losses


def chroma(path):
    from tfstyle import metrics

    y, sr = sf.read(path, dtype="float32")
    content, _ = sf.read(CONTENT, dtype="float32")
    return metrics.chroma_correlation(y, content, sr)


def profile(where, out):
    code = PROFILE_CODE.format(content=CONTENT, style=STYLE, out=out, rows=PROFILE)
    _, log = timed([sys.executable, "-c", code], cwd=where)
    return json.loads(log.split("PROFILE ", 1)[1].splitlines()[0])


def step_rate(steps, precision):
    """(product format, seconds per step, GFLOP/s of the step, this host's matmul GFLOP/s in
    that format), in this process: today's loop on the default problem, tracing left out."""
    from transfer_speed import matmul_gflops, seconds_per_step, step_flops

    from tfstyle import audio, presets
    from tfstyle.optimisation.transfer import Optimisation

    config = presets.config(method="random-cnn").resolve(
        {"tol": 0.0, "steps": steps, "precision": precision}, 22050)
    content, style = (audio.load(p, 22050) for p in (CONTENT, STYLE))
    opt = Optimisation(content, style, config)
    seconds = seconds_per_step(opt, steps)
    frames, style_frames = int(opt.content_rep.shape[0]), int(opt.style_rep.shape[0])
    flops = step_flops(frames, 3, f=opt.rep.channels, ts=style_frames)
    return (opt.matmul_dtype, seconds, flops / seconds / 1e9,
            matmul_gflops(dtype=opt.matmul_dtype))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, metavar="REV")
    args = parser.parse_args()
    plain_ref = "the recipe written plainly (bench/plain_reference.py, reference)"
    before_name = f"tfstyle at {args.before}"
    now_name = "tfstyle today"
    float32_name = "tfstyle today, --precision float32"
    flags = {float32_name: ["--precision", "float32"]}
    seconds = {plain_ref: [], before_name: [], now_name: [], float32_name: []}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        before = os.path.join(tmp, "before")
        subprocess.run(["git", "worktree", "add", "--detach", before, args.before], cwd=ROOT,
                       check=True, capture_output=True)
        try:
            out = {name: os.path.join(tmp, f"{i}.wav") for i, name in enumerate(seconds)}
            # Steps to converge, for the reference to run as many.
            _, log = timed(tfstyle_command(out[now_name]))
            steps = summary(log)[0]
            for _ in range(args.rounds):
                for name in seconds:
                    if name == plain_ref:
                        command = [sys.executable, os.path.join(ROOT, "bench",
                                                                "plain_reference.py"),
                                   CONTENT, STYLE, out[name], "--steps", str(steps)]
                        where = ROOT
                    else:
                        command = tfstyle_command(out[name], flags.get(name, ()))
                        where = before if name == before_name else ROOT
                    s, log = timed(command, where)
                    seconds[name].append(s)
                    if name != plain_ref:
                        results[name] = summary(log) + (chroma(out[name]),)
                    print(f"{name}: {s:.1f} s", flush=True)
            profiles = {name: profile(before if name == before_name else ROOT,
                                      os.path.join(tmp, "p.wav"))
                        for name in (before_name, now_name)}
            print(profiles, flush=True)
            # Length: a 1-minute content (the melody repeated) against the 5 s one.
            melody, sr = sf.read(CONTENT, dtype="float32")
            minute = os.path.join(tmp, "minute.wav")
            sf.write(minute, np.resize(melody, 60 * sr), sr)
            short, _ = timed(tfstyle_command(os.path.join(tmp, "s.wav"), ["-q"]))
            long_, log = timed(tfstyle_command(os.path.join(tmp, "l.wav"), content=minute))
            long_steps = summary(log)[0]
            print(f"5 s {short:.1f} s, 1 min {long_:.1f} s", flush=True)
            preset_rows = []
            for preset, flags in PRESETS.items():
                pair = []
                for where in (before, ROOT):
                    command = [sys.executable, "-m", "tfstyle", "transfer", CONTENT, STYLE,
                               "-o", os.path.join(tmp, "p.wav"), "--preset", preset, *flags]
                    s, log = timed(command, where)
                    pair.append((s,) + summary(log))
                    print(preset, where == ROOT, f"{s:.1f} s", flush=True)
                (b, b_steps, b_losses), (a, a_steps, a_losses) = pair
                preset_rows.append([preset, " ".join(flags), f"{b:.1f}", f"{a:.1f}",
                                    f"{a / b:.2f}", f"{b_steps} / {a_steps}",
                                    f"{b_losses['total']:.4g} / {a_losses['total']:.4g}"])
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", before], cwd=ROOT,
                           check=False, capture_output=True)
    rates = [step_rate(steps, p) for p in ("auto", "float32")]
    reference = np.mean(seconds[plain_ref])
    rows = [[name, ", ".join(f"{s:.1f}" for s in seconds[name]),
             f"{np.mean(seconds[name]) / reference:.2f}"] for name in seconds]
    body = (f"`tfstyle transfer examples/piano_melody.wav examples/violin_phrase.wav -o out.wav "
            f"--method random-cnn` (what the automatic choice runs on chords, drums or speech) "
            f"against `bench/plain_reference.py` with the same clips, sizes and {steps} Adam "
            f"steps (as many as today's tfstyle takes to converge), each a new process with "
            f"its imports, {args.rounds} rounds interleaved.\n\n")
    body += table(["command", "seconds per round", "ratio to the plain recipe"], rows)
    body += "\n\nLosses at convergence and chroma with the content, same clips:\n\n"
    body += table(["version", "steps", "content loss", "style loss", "total",
                   "chroma with the content"],
                  [[name, str(r[0]), f"{r[1]['content']:.4g}", f"{r[1]['style']:.4g}",
                    f"{r[1]['total']:.4g}", f"{r[2]:.3f}"] for name, r in results.items()])
    body += ("\n\nWhere one command's time goes (cProfile of the whole command in one "
             "process, cumulative seconds of the functions named; profiling slows Python-heavy "
             "parts such as tracing a little):\n\n")
    def stages(p):
        imports, transfer, gl, tracing = (p.get(label, 0.0) for label, _, _ in PROFILE)
        return [p["total"], imports, transfer, transfer - gl, gl, tracing,
                p["total"] - imports - transfer]

    labels = ["whole command", "TensorFlow and Keras imports",
              "the transfer (`run` of the engine)",
              "of which front end, network, style statistics and the steps",
              "of which Griffin-Lim", "tf.function tracing, everywhere (inside the rows above)",
              "the rest: Python start-up, tfstyle's imports, reading and writing the files"]
    columns = [stages(profiles[n]) for n in (before_name, now_name)]
    body += table(["stage", before_name, now_name],
                  [[label, f"{a:.2f}", f"{b:.2f}"] for label, a, b in zip(labels, *columns)])
    body += "\n\nThe optimisation step today, against this host's matmul rate in the same " \
            "format, measured in the same process (2048² products):\n\n"
    body += table(["products", "ms per step", "GFLOP/s", "matmul GFLOP/s", "share"],
                  [[dtype, f"{per_step * 1000:.0f}", f"{gflops:.0f}", f"{matmul:.0f}",
                    f"**{gflops / matmul:.0%}**"]
                   for dtype, per_step, gflops, matmul in dict(
                       (r[0], r) for r in rates).values()])
    body += (f"\n\nA 1-minute "
             f"content (the melody repeated, {long_steps} steps over its windows) took "
             f"{long_:.1f} s against {short:.1f} s for the 5 s clip: "
             f"**{long_ / short:.1f}×** for 12× the length.\n\n")
    body += "Presets, each command a new process, before and after:\n\n"
    body += table(["preset", "flags", f"s at {args.before}", "s today", "ratio",
                   "steps before / today", "total loss before / today"], preset_rows)
    write_section("optimisation_speed", "Optimisation transfer, whole, against the plain "
                  "recipe", body)


if __name__ == "__main__":
    main()
