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
    _import_lean()
    import tensorflow as tf

    tf.constant(0.0) + 0.0  # device discovery logs here
    return tf


def _import_lean():
    """Imports TensorFlow (which imports Keras) without what Keras imports and tfstyle never
    uses: scikit-learn (Keras' scikit-learn wrappers), pandas (DataFrames as training data),
    matplotlib (Keras' image galleries), IPython (Keras' notebook display of weight files;
    0.4-0.7 s alone) and `keras._tf_keras`, the Keras 2 compatibility namespace. Together
    ~2 s of every command's start (measured on the README's first command and on
    `--method random-cnn`). Keras runs without them (those features of its
    own then say the package is missing); each imports as usual afterwards, where something
    asks for it (`tf.keras`, `--plot`, a librosa function that needs scikit-learn)."""
    if "keras" in sys.modules:
        return
    import types

    # sklearn, pandas, matplotlib: an ImportError inside Keras, which it expects; _tf_keras:
    # an empty module in its place while Keras imports.
    stub = types.ModuleType("keras._tf_keras")
    stand_ins = {name: value for name, value in (
        ("sklearn", None), ("pandas", None), ("matplotlib", None), ("IPython", None),
        ("keras._tf_keras", stub))
        if name not in sys.modules}
    sys.modules.update(stand_ins)
    try:
        import keras  # noqa: F401
    finally:
        for name in stand_ins:
            del sys.modules[name]
        keras = sys.modules.get("keras")
        if getattr(keras, "_tf_keras", None) is stub:
            del keras._tf_keras   # the real one imports on first use


def exit_now(code):
    """Ends the process at once, for commands whose outputs are all written and closed:
    Python's and TensorFlow's teardown of a finished command takes 1-1.5 s (measured on the
    README's first command) and does nothing a user needs."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
