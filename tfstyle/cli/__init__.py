"""The `tfstyle` command line: one sub-command per module in this package."""
import sys
import warnings

from tfstyle import __version__
from tfstyle.cli import convert, data, evaluate, export, fit, presets, transfer, ui
from tfstyle.cli.common import ArgumentParser, exit_now
from tfstyle.errors import Stopped, TfstyleError


def build_parser():
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
    ui.add_parser(commands)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"tfstyle: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Runs a command; from the command line (`argv` None), a command that sets `exit_now`
    ends the process as soon as it is done (see `common.exit_now`)."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        code = args.run(args) or 0
        if argv is None and getattr(args, "exit_now", False):
            exit_now(code)
        return code
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
