"""`tfstyle ui`: serves the local web page (needs `pip install "tfstyle[ui]"`)."""
import argparse
import signal

from tfstyle.errors import TfstyleError

EPILOG = """The page has three tabs: Transfer (two clips, a method, its main settings, the output
to play and download with the spectrograms), Convert (a shipped converter or a run folder, any
number of files) and Evaluate (the measures of 'tfstyle evaluate' beside the baselines). The
bundled examples are one click away. It binds to 127.0.0.1 by default, so only this computer
can open it; nothing is sent anywhere. Stop it with Ctrl-C; its temporary files go with it.

examples:
  tfstyle ui                                  # then open http://127.0.0.1:7860
  tfstyle ui --port 8080 --max-upload-mb 200
  tfstyle ui --host 0.0.0.0                   # reachable from the local network"""


def add_parser(commands):
    p = commands.add_parser(
        "ui", help="a local web page: drop two clips or pick a converter, listen, compare",
        description="Serve tfstyle's web page on this computer (Gradio).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; 0.0.0.0 opens it to other machines "
                        "(default: %(default)s)")
    p.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    p.add_argument("--max-upload-mb", type=float, default=50,
                   help="uploads larger than this are refused before they are read "
                        "(default: %(default)s)")
    p.set_defaults(run=run)


def run(args):
    if not 0 < args.port < 65536:
        raise TfstyleError(f"--port must be 1-65535, got {args.port}")
    if not args.max_upload_mb > 0:
        raise TfstyleError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise TfstyleError('the web page needs the ui extra: pip install "tfstyle[ui]" '
                           '(from a clone: pip install -e ".[ui]")') from None
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow(pooled=True)     # the page converts, as `tfstyle convert` does
    from tfstyle.ui import page

    # A service manager stops it with SIGTERM: handled as Ctrl-C, so the server closes and its
    # temporary files are removed.
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"tfstyle: serving on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    page.serve(args.host, args.port, args.max_upload_mb, block=True, quiet=True)
    print("tfstyle: stopped; temporary files removed", flush=True)


def _interrupt(signo, frame):
    raise KeyboardInterrupt
