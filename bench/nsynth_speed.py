"""Seconds per waveform style-transfer step through the NSynth encoder, for 4 s of audio.

4 s at 16 kHz (64000 samples) in one window, boemer2019 losses (Gram style on 8 ReLU taps,
content on relu_b_30), Adam; random encoder weights (speed does not depend on them). The
reference is this machine's float32 matmul rate in the same run; a step's FLOPs are the encoder's
forward plus the gradient with respect to the input (about one more forward; the frozen weights
need none).
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from report import load_examples, table, write_section
from tfstyle import presets
from tfstyle.optimisation import transfer as style_transfer
from transfer_speed import matmul_gflops, seconds_per_step


def encoder_flops(samples, blocks=30, width=128):
    per_sample = 2 * (3 * width + blocks * (3 * width * width + width * width) + width * 16)
    return 2 * per_sample * samples


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    sr = 16000
    content = load_examples("piano_melody", sr=sr)[: 4 * sr]
    style = load_examples("violin_phrase", sr=sr)[: 4 * sr]
    reference = matmul_gflops()
    rows = []
    for jit in (False, True):
        config = presets.config("boemer2019", sr=sr, random_weights=True,
                                chunk_frames=4 * sr).validate()
        opt = style_transfer.Optimisation(content, style, config)
        opt.jit_compile = jit
        seconds = seconds_per_step(opt, args.steps)
        gflops = encoder_flops(4 * sr) / seconds / 1e9
        rows.append(["XLA (tfstyle's choice)" if jit else "tf.function", f"{seconds:.2f}", f"{gflops:.0f}",
                     f"{gflops / reference:.2f}"])
    body = (f"4 s at 16 kHz, one window, boemer2019 losses, {args.steps} timed steps after "
            f"tracing. Matmul reference in the same run: **{reference:.0f} GFLOP/s**.\n\n")
    body += table(["mode", "s/step", "GFLOP/s", "of matmul rate"], rows)
    write_section("nsynth_speed", "NSynth waveform transfer step", body)


if __name__ == "__main__":
    main()
