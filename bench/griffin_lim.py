"""Griffin-Lim: tfstyle (tf.function) against librosa.griffinlim on the same magnitudes.

Both run the fast variant (momentum 0.99) for 32 iterations on the STFT magnitude of 10 s of
the bundled examples; times are the best of several runs after one warm-up, spectral
convergence ‖S − |STFT(y)|‖/‖S‖ is computed the same way for both.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import librosa
import numpy as np

from report import load_examples, table, write_section
from tfstyle import phase


def best_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sr = 22050
    y = load_examples("piano_melody", "speech", sr=sr)
    rows = []
    for n_fft, hop in [(1024, 256), (2048, 512)]:
        S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))
        kw = dict(n_iter=32, hop_length=hop, n_fft=n_fft, momentum=0.99, length=len(y))
        for init in ("zeros", "random"):
            t_ref, y_ref = best_time(lambda: librosa.griffinlim(
                S, init=None if init == "zeros" else "random",
                random_state=np.random.default_rng(0), **kw), args.repeats)
            # The same initial phase as librosa's draw, so both start from one point.
            start = "zeros" if init == "zeros" else \
                2 * np.pi * np.random.default_rng(0).random(S.shape).T
            t_ours, y_ours = best_time(lambda: phase.griffin_lim(S.T, init=start, **kw).numpy(),
                                       args.repeats)
            sc_ref = phase.spectral_convergence(S.T, y_ref, n_fft, hop)
            sc_ours = phase.spectral_convergence(S.T, y_ours, n_fft, hop)
            rows.append([f"{n_fft}/{hop}", init, f"{t_ref:.3f}", f"{t_ours:.3f}",
                         f"{t_ours / t_ref:.2f}", f"{sc_ref:.4f}", f"{sc_ours:.4f}"])
    body = ("10 s at 22050 Hz (`piano_melody.wav` + `speech.wav`), 32 iterations, momentum "
            "0.99, best of {} runs, both from the same initial phase (zeros, or librosa's seeded "
            "uniform draw). Ratio = tfstyle time / librosa time (target ≤ 0.5); "
            "lower spectral convergence is better.\n\n").format(args.repeats)
    body += table(["n_fft/hop", "initial phase", "librosa s", "tfstyle s", "ratio",
                   "librosa SC", "tfstyle SC"], rows)
    write_section("griffin_lim", "Griffin-Lim: tfstyle vs librosa", body)


if __name__ == "__main__":
    main()
