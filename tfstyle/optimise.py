"""What every optimisation in tfstyle shares: the result of a transfer, the rule that stops an
optimisation once it has converged, and the progress bar."""
import dataclasses
import sys

import numpy as np


@dataclasses.dataclass
class TransferResult:
    """What `run` returns: the waveform at `sr` plus what a user wants to see about the run."""

    audio: np.ndarray      # None where the output went straight to a file
    sr: int
    losses: dict           # each weighted term and the total at the end
    initial_losses: dict   # the same at the start point
    seconds: float
    representation: np.ndarray = None  # the optimised representation [frames, channels]
    steps: int = 0         # optimisation steps taken, all windows together
    max_steps: int = 0     # what --steps allowed, all windows together
    stop_reason: str = ""  # why the (last) window stopped: "converged", "max steps", ...
    transpose: float = 0.0  # semitones the content was moved by (harmonic method)
    precision: str = ""    # the random CNN's product format, where not float32
    warnings: list = dataclasses.field(default_factory=list)  # lines for the user
    timings: dict = dataclasses.field(default_factory=dict)   # seconds per stage
    samples: int = 0       # the output's length (also when `audio` is None)

    def __post_init__(self):
        if self.audio is not None and not self.samples:
            self.samples = len(self.audio)

    def moved(self):
        """"; content moved by N semitones" (to a hundredth, as the command line and the web
        page say it), or "" where the move rounds to none."""
        shift = round(self.transpose, 2)
        return f"; content moved by {shift:+g} semitones" if shift else ""


def converged(before, total, tol):
    """The rule on two totals `window` steps apart: improved by no more than `tol` (relative).
    Python floats or tensors alike (`abs` is `tf.abs` on a tensor), so the compiled loop of
    optimisation transfer applies the very same rule on-graph."""
    return before - total <= tol * abs(before)


class Convergence:
    """Decides when an optimisation has converged: the total loss improved by less than `tol`
    (relative) over the last `window` steps. Measured on the comparison data
    (bench/transfer_convergence.py): past that point chroma and mel distance move by less than
    their run-to-run noise, while the steps cost as much as the ones before."""

    def __init__(self, tol, window, max_steps):
        self.tol, self.window, self.max_steps = float(tol), int(window), int(max_steps)
        self.history, self.steps = [], 0
        self.reason = "max steps" if max_steps else "no steps"

    def update(self, total):
        """Records one step's total loss; True when the optimisation should stop."""
        self.steps += 1
        self.history.append(float(total))
        if not np.isfinite(total):
            self.reason = "diverged"
            return True
        if self.tol > 0 and len(self.history) > self.window:
            before = self.history[-self.window - 1]
            if converged(before, total, self.tol):
                self.reason = "converged"
                return True
        return False

    def record(self, totals):
        """Steps run elsewhere (a compiled loop applying the same rule): their totals."""
        self.steps += len(totals)
        self.history.extend(float(t) for t in totals)

    def stopped(self, finite=True):
        """The compiled loop stopped before its step limit: converged, or diverged."""
        self.reason = "converged" if finite else "diverged"


def summarise(reasons):
    """One reason for all windows, or each reason with its count when they differ."""
    if len(set(reasons)) <= 1:
        return reasons[0] if reasons else "no steps"
    counts = {r: reasons.count(r) for r in reasons}
    return ", ".join(f"{r} in {n} of {len(reasons)} windows" for r, n in counts.items())


def progress_bar(total, enabled, desc="optimising"):
    from tfstyle.progress import tqdm

    # Off a terminal (logs, CI) a line every 10 s is plenty.
    interval = 0.1 if sys.stderr.isatty() else 10.0
    return tqdm(total=total, desc=desc, unit="step", disable=not enabled,
                mininterval=interval, dynamic_ncols=True, leave=True)
