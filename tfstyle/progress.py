"""tfstyle's progress bars."""
import sys


def tqdm(*args, **kwargs):
    """A tqdm bar: its notebook bar where IPython is running (a notebook or an IPython
    shell), its terminal bar otherwise. `tqdm.auto` would decide by importing IPython, which
    takes 0.4-0.7 s of a command's start when it is installed but not running."""
    if "IPython" in sys.modules:
        from tqdm.auto import tqdm as bar
    else:
        from tqdm.std import tqdm as bar
    return bar(*args, **kwargs)
