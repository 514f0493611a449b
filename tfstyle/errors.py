"""The one exception type that means "the user asked for something we cannot do".

The CLI turns it into a one-line message and exit code 2; anything else is a bug in tfstyle.
"""


class TfstyleError(Exception):
    """A user-facing error: bad path, unreadable audio, invalid option value, missing weights."""


class Stopped(KeyboardInterrupt):
    """Work stopped on request (Ctrl-C or SIGTERM) after saving its state: not an error. The
    CLI prints the message and exits with 128 + the signal's number."""

    def __init__(self, message, signo):
        super().__init__(message)
        self.signo = signo
