"""tfstyle: neural audio style transfer in TensorFlow / Keras 3.

The package is split into a DSP core that imports no training code (`audio`, `spectral`,
`phase`), feature networks (`features`), losses, the optimisation engine (`style_transfer`) and the
command line (`cli`). `tfstyle.transfer(...)` is the Python entry point of `tfstyle transfer`.
"""
__version__ = "0.1.0"


def transfer(*args, **kwargs):
    """Style transfer; see `tfstyle.style_transfer.transfer` (imported lazily: importing
    TensorFlow takes seconds, and the CLI wants to reject bad input before that)."""
    from tfstyle.style_transfer import transfer as _transfer

    return _transfer(*args, **kwargs)


def fit(*args, **kwargs):
    """Trains a MelGAN-VC converter; see `tfstyle.melgan_vc.api.fit`."""
    from tfstyle.melgan_vc.api import fit as _fit

    return _fit(*args, **kwargs)


def convert(*args, **kwargs):
    """Converts audio with a trained MelGAN-VC run; see `tfstyle.melgan_vc.api.convert`."""
    from tfstyle.melgan_vc.api import convert as _convert

    return _convert(*args, **kwargs)
