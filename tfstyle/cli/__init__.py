"""The `tfstyle` command line: one sub-command per module in this package."""
import argparse
import os
import sys
import tempfile
import warnings

from tfstyle import __version__
from tfstyle.errors import Stopped, TfstyleError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a usage error on one line (and exit code 2), like every other
    user error of tfstyle."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    from tfstyle.cli import convert, data, evaluate, export, fit, presets, transfer

    parser = ArgumentParser(
        prog="tfstyle",
        description="Neural audio style transfer: the content of one sound with the timbre of "
                    "another.")
    parser.add_argument("--version", action="version", version=f"tfstyle {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                                     parser_class=ArgumentParser)
    commands.required = True
    transfer.add_parser(commands)
    presets.add_parser(commands)
    fit.add_parser(commands)
    convert.add_parser(commands)
    export.add_parser(commands)
    evaluate.add_parser(commands)
    data.add_parser(commands)
    return parser


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


def import_tensorflow():
    """Imports TensorFlow quietly (see `quietly`) and runs its first op."""
    return quietly(_first_op)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"tfstyle: warning: {message}", file=sys.stderr)


def main(argv=None):
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return args.run(args) or 0
    except TfstyleError as e:
        print(f"tfstyle: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:   # e.g. piped into `head`
        sys.stderr.close()
        return 0
    except Stopped as e:
        print(f"tfstyle: {e}", file=sys.stderr)
        return 128 + e.signo
    except KeyboardInterrupt:
        print("tfstyle: interrupted; no output was left half-written", file=sys.stderr)
        return 130
