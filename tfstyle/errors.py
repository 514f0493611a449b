"""The one exception type that means "the user asked for something we cannot do".

The CLI turns it into a one-line message and exit code 2; anything else is a bug in tfstyle.
"""


class TfstyleError(Exception):
    """A user-facing error: bad path, unreadable audio, invalid option value, missing weights."""
