"""Seconds per optimisation step for the Ulyanov-size problem, and the FLOP rate it reaches.

Problem: 10 s at 22050 Hz (431 frames), n_fft 2048 (1025 bins as channels), 4096 random filters,
content + Gram style loss, Adam. Kernel widths 3 (tfstyle's default) and 11 (Ulyanov's). The
reference is this machine's float32 matmul rate (2048² matmuls in one tf.function), measured in
the same run. A step's FLOPs: the conv forward and its input gradient (2 × 2·T·k·F·C), the
content loss, and the Gram style loss in its frames form (FFᵀ and FSᵀ, forward and backward).
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

from report import load_examples, table, write_section
from tfstyle import style_transfer
from tfstyle.style_transfer import TransferConfig
PUBLISHED_SECONDS = 0.46  # fastest published implementation per iteration, on this machine


def matmul_gflops(seconds=4.0, n=2048):
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])

    @tf.function
    def chain(a, b, reps):
        x = a
        for _ in tf.range(reps):
            x = tf.matmul(x, b) * 1e-3
        return x

    chain(a, b, tf.constant(2)).numpy()
    reps, elapsed = 8, 0.0
    while elapsed < seconds:
        start = time.perf_counter()
        chain(a, b, tf.constant(reps)).numpy()
        elapsed = time.perf_counter() - start
        reps *= 2
    return 2 * n ** 3 * (reps // 2) / elapsed / 1e9


def step_flops(t, k, f=1025, c=4096, ts=431):
    t_out, ts_out = t - k + 1, ts - k + 1
    conv = 2 * t_out * k * f * c
    gram = 2 * t_out * t_out * c + 2 * t_out * ts_out * c
    return 2 * conv + 3 * gram + 6 * t_out * c


def seconds_per_step(opt, steps):
    """Per-step time, with tracing cancelled by differencing two run lengths."""
    window = opt.content_rep
    terms = opt.loss_fn(window)
    times = {}
    for n in (2, 2 + steps):
        opt.config.steps = n
        bar = style_transfer._progress_bar(n, False)
        start = time.perf_counter()
        style_transfer._adam(opt, terms, opt.initial(window, 0), bar)
        times[n] = time.perf_counter() - start
    return (times[2 + steps] - times[2]) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    sr = 22050
    content = load_examples("piano_melody", "speech", sr=sr)
    style = load_examples("violin_phrase", "flute_phrase", sr=sr)
    reference = matmul_gflops()
    rows = []
    for k in (3, 11):
        for jit in (False, True):
            config = TransferConfig(kernel_size=str(k), filters="4096").validate()
            opt = style_transfer.Optimisation(content, style, config)
            opt.jit_compile = jit
            seconds = seconds_per_step(opt, args.steps)
            t = int(opt.content_rep.shape[0])
            gflops = step_flops(t, k) / seconds / 1e9
            rows.append([k, "XLA" if jit else "tf.function (tfstyle's choice)", f"{seconds:.3f}",
                         f"{gflops:.0f}", f"{gflops / reference:.2f}",
                         f"{PUBLISHED_SECONDS / seconds:.1f}×"])
    body = (f"10 s content and style at 22050 Hz (431 frames), n_fft 2048, 4096 filters, "
            f"content + Gram style, Adam; {args.steps} timed steps after tracing. This "
            f"machine's float32 matmul rate, same run: **{reference:.0f} GFLOP/s** (the "
            f"reference). Published implementations take 0.46–0.62 s per iteration here; "
            f"'speed-up' is against the fastest, 0.46 s.\n\n")
    body += table(["kernel", "mode", "s/step", "GFLOP/s", "of matmul rate", "speed-up"], rows)
    write_section("transfer_speed", "Style-transfer step: Ulyanov-size problem", body)


if __name__ == "__main__":
    main()
