"""MelGAN-VC speed: training batches per second (melgan-vc preset, batch 16) and the real-time
factor of `tfstyle convert` (seconds of compute per second of audio).

The reference is a plain Keras version of the joint step timed in the same run: G+S and D
updated together on every batch with two GradientTapes, no schedule (what the issue calls the
plain step, about 0.7–0.8 s on this machine). tfstyle's cycle is one joint and two critic-only
batches; the critic-only batches skip the siamese and the identity pass.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from report import load_examples, table, write_section
from tfstyle.converters.melgan_vc import convert, frontend
from tfstyle.converters.training import build


def timed(fn, repeats):
    fn()
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = frontend.preset("melgan-vc")
    model, _ = build(config)
    rng = np.random.default_rng(0)
    shape = (config.batch_size, config.joint_every, config.n_mels, config.crop_frames, 1)
    a = tf.constant(np.tanh(rng.standard_normal(shape)), tf.float32)
    b = tf.constant(np.tanh(rng.standard_normal(shape)), tf.float32)
    bs = config.batch_size
    joint = tf.function(lambda: model._joint_step(a[:, 0], b[:, 0]))
    critic = tf.function(lambda: model._critic_step(a[:, 1], b[:, 1]))
    cycle = tf.function(lambda: model.cycle((a, b)))
    t_joint, t_critic = timed(joint, args.repeats), timed(critic, args.repeats)
    t_cycle = timed(cycle, args.repeats)
    per_batch = t_cycle / config.joint_every
    rows = [["plain joint step (reference)", f"{t_joint:.3f}", f"{1 / t_joint:.2f}", "1.00"],
            ["critic-only step", f"{t_critic:.3f}", f"{1 / t_critic:.2f}",
             f"{t_critic / t_joint:.2f}"],
            [f"tfstyle cycle / {config.joint_every} (per batch)", f"{per_batch:.3f}",
             f"{1 / per_batch:.2f}", f"{per_batch / t_joint:.2f}"]]
    body = (f"melgan-vc preset (16 kHz, 192 mels, 24-frame slices), batch {bs}, full-size "
            f"networks, {args.repeats} timed repeats after tracing. Ratio = time / the plain "
            "joint step's time in this run.\n\n")
    body += table(["step", "seconds", "batches/s", "ratio"], rows)

    y = np.tile(load_examples("speech", "piano_melody", sr=config.sr), 6)   # 60 s
    start = time.perf_counter()
    convert.convert_audio(model.generator, y, config, gl_iters=64)
    seconds = time.perf_counter() - start
    body += (f"\n\nConversion of {len(y) / config.sr:.0f} s of audio (generator in 50 % "
             f"overlapping slices, 64 Griffin-Lim iterations, 30 s segments): {seconds:.1f} s, "
             f"real-time factor **{seconds / (len(y) / config.sr):.3f}**.")
    write_section("melgan_speed", "MelGAN-VC training and conversion speed", body)


if __name__ == "__main__":
    main()
