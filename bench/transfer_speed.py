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
from tfstyle.optimisation import transfer as style_transfer
from tfstyle.optimisation.transfer import TransferConfig

PUBLISHED_SECONDS = 0.46  # fastest published implementation per iteration, on this machine


def matmul_gflops(seconds=4.0, n=2048, dtype="float32"):
    a = tf.cast(tf.random.normal([n, n]), dtype)
    b = tf.cast(tf.random.normal([n, n]), dtype)

    @tf.function
    def chain(a, b, reps):
        x = a
        for _ in tf.range(reps):
            x = tf.matmul(x, b) * tf.cast(1e-3, x.dtype)
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
    """Per-step time of the compiled loop, after a first call that traces it."""
    from tfstyle.optimise import Convergence, progress_bar

    objective = opt.objective(int(opt.content_rep.shape[0]))
    loop = style_transfer.AdamLoop(opt, objective)
    objective.set_window(opt.content_rep)
    x0 = opt.initial(opt.content_rep, 0)
    loop.reset(x0)
    loop.advance(2)                                     # traces
    loop.reset(x0)
    start = time.perf_counter()
    ran, *_ = loop.advance(steps)
    return (time.perf_counter() - start) / int(ran)


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
            # No convergence stop: every timed step runs. float32 products, against the
            # float32 matmul rate (bfloat16: bench/optimisation_speed.py).
            config = TransferConfig(method="random-cnn", kernel_size=str(k), filters="4096",
                                    tol=0.0, steps=args.steps, precision="float32").validate()
            opt = style_transfer.Optimisation(content, style, config)
            opt.jit_compile = jit
            seconds = seconds_per_step(opt, args.steps)
            t = int(opt.content_rep.shape[0])
            gflops = step_flops(t, k) / seconds / 1e9
            rows.append([k, "XLA (tfstyle's choice)" if jit else "tf.function", f"{seconds:.3f}",
                         f"{gflops:.0f}", f"{gflops / reference:.2f}",
                         f"{PUBLISHED_SECONDS / seconds:.1f}×"])
    body = (f"10 s content and style at 22050 Hz (431 frames), n_fft 2048, 4096 filters, "
            f"content + Gram style, Adam; {args.steps} timed steps after tracing. This "
            f"machine's float32 matmul rate, same run: **{reference:.0f} GFLOP/s** (the "
            f"reference). Published implementations took 0.46–0.62 s per iteration on the "
            f"host of 2026-11-22 (438 GFLOP/s); 'speed-up' is against the fastest, 0.46 s, "
            f"so on a slower host it understates the speed-up.\n\n")
    body += table(["kernel", "mode", "s/step", "GFLOP/s", "of matmul rate", "speed-up"], rows)
    write_section("transfer_speed", "Style-transfer step: Ulyanov-size problem", body)


if __name__ == "__main__":
    main()
