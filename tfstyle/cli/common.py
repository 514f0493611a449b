"""What every sub-command shares: the one-line usage errors and TensorFlow's quiet start."""
import argparse
import os
import sys
import tempfile

from tfstyle.errors import TfstyleError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (and exit code 2), like every other
    user error of tfstyle."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def quietly(start):
    """Runs `start()`, which loads TensorFlow, with TensorFlow's start-up log lines (oneDNN, CUDA
    probing on CPU machines) kept off the terminal; they are shown only if it fails with
    something other than a tfstyle error, or with TFSTYLE_DEBUG=1. Returns what start returns."""
    if os.environ.get("TFSTYLE_DEBUG"):
        return start()
    # Level 3 also hides the C++ error lines that TensorFlow logs beside the exceptions tfstyle
    # reports in one line (a lost worker, oneDNN type fall-backs).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            return start()
        except TfstyleError:
            raise
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _first_op():
    import tensorflow as tf

    tf.constant(0.0) + 0.0  # device discovery logs here
    return tf


def import_tensorflow(pooled=False):
    """Imports TensorFlow quietly (see `quietly`) and runs its first op.

    pooled: TensorFlow's pooling (BFC) CPU allocator instead of malloc for every tensor, for
    commands that convert audio: conversion allocates and frees the same few sizes block after
    block, and malloc's heap kept growing around them (MelGAN-VC, 1 min of audio: 1.13 GB peak
    RSS with malloc, 0.97 GB pooled; docs/benchmarks.md). TensorFlow reads the setting when it
    starts, so it has no effect once TensorFlow is loaded; a user's own value is kept."""
    if pooled:
        os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")
    return quietly(_first_op)
