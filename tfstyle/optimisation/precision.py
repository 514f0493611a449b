"""Which number format the random CNN's matrix products take (`--precision`).

The default optimisation step is two matrix products, the 1-D CNN's forward and its backward
to the spectrogram, at the host's float32 matmul rate already (bench/optimisation_speed.py).
CPUs that multiply bfloat16 natively (AVX512-BF16: AMD Zen 4 and later, Intel Cooper Lake;
AMX: Intel Sapphire Rapids and later) do the same products about twice as fast through
oneDNN, and the transfer's losses at convergence move by less than a part in a thousand
(docs/benchmarks.md). Elsewhere oneDNN would emulate bfloat16, slower than float32, so "auto"
takes it only where the CPU has it. Only the products' inputs are rounded: the spectrogram,
the weights, Adam's moments and every loss stay float32.
"""
import sys

from tfstyle.optimisation.features.catalog import PRECISIONS

# /proc/cpuinfo flags of native bfloat16 dot products.
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(path="/proc/cpuinfo"):
    """The first processor's feature flags (Linux), or an empty set where they can't be read."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def native_bfloat16(flags=None):
    """Whether this CPU multiplies bfloat16 in hardware (`flags`: a set of cpuinfo flags, by
    default this machine's)."""
    if flags is None:
        flags = cpu_flags() if sys.platform.startswith("linux") else set()
    return any(flag in flags for flag in NATIVE_BFLOAT16_FLAGS)


def resolve(precision, flags=None, gpu=None):
    """"float32" or "bfloat16" for a --precision value: "auto" is bfloat16 on a CPU-only
    process whose CPU has native bfloat16 (on a GPU the products are float32, as they were
    measured)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    if gpu is None:
        import tensorflow as tf

        gpu = bool(tf.config.list_logical_devices("GPU"))
    return "bfloat16" if not gpu and native_bfloat16(flags) else "float32"
