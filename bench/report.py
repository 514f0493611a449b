"""Writes a benchmark's section into docs/benchmarks.md, replacing that section's last run.

Each section sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, so several scripts
share one file and re-running one script updates only its own figures.
"""
import os
import platform
import re
import sys
import time

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                   "benchmarks.md")
HEADER = """# Benchmarks

Every figure here is written by a script in `bench/`; each section names the command that made
it and the machine it ran on. Timings are compared with a reference measured in the same run,
because absolute times on shared machines are noisy.
"""


def cpu():
    """The CPU's model and widest vector instruction set (TF's matmul speed differs ~4x between
    AVX-512 and AVX2 hosts), e.g. "AMD EPYC (AVX2)"."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    isa = next((name.upper() for name in ("avx512f", "avx2", "avx", "neon", "asimd")
                if name in flags), "")
    isa = "AVX-512" if isa == "AVX512F" else isa
    return f"{model} ({isa})" if isa else model


def machine():
    return (f"{cpu()}, {os.cpu_count()} cores, {platform.machine()}, "
            f"Python {platform.python_version()}")


def write_section(name, title, body, command=None):
    """`command` is what regenerates the section (default: this script's own command line)."""
    command = command or "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])
    section = (f"<!-- bench:{name} -->\n## {title}\n\n"
               f"`{command}` — {time.strftime('%Y-%m-%d')}, {machine()}\n\n{body.strip()}\n"
               f"<!-- /bench:{name} -->")
    text = open(DOC).read() if os.path.exists(DOC) else HEADER
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else \
        text.rstrip() + "\n\n" + section + "\n"
    os.makedirs(os.path.dirname(DOC), exist_ok=True)
    with open(DOC + ".tmp", "w") as f:
        f.write(text)
    os.replace(DOC + ".tmp", DOC)
    print(section)


def load_examples(*names, sr=22050):
    """Bundled example clips (names without .wav), loaded at sr and joined end to end."""
    import numpy as np

    from tfstyle import audio

    folder = os.path.join(os.path.dirname(DOC), "..", "examples")
    return np.concatenate([audio.load(os.path.join(folder, n + ".wav"), sr) for n in names])


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
