"""tfstyle: neural audio style transfer in TensorFlow / Keras 3.

The package is layered: a DSP core that imports no training code (`audio`, `spectral`, `phase`,
`dsp`) and the settings of a transfer (`transfer_config`, `presets`) at the bottom; above
them optimisation transfer (`optimisation`: representations, feature networks, losses, the
engine), harmonic transfer (`harmonic`: the synthesiser, the timbre prior, one-shot transfer)
and the trained converters (`converters`: shared run, training, conversion and export
plumbing, one sub-package per family); `dispatch` chooses between the two transfer methods;
the command line (`cli`) and the web page (`ui`) on top. `tfstyle.transfer`, `fit`, `convert` and
`export` are the Python entry points of the commands of those names.
"""
__version__ = "0.1.0"


def transfer(*args, **kwargs):
    """Style transfer, harmonic or by optimisation (chosen automatically unless `method` is
    given); see `tfstyle.dispatch.transfer` (imported lazily: importing TensorFlow takes
    seconds, and the CLI wants to reject bad input before that)."""
    from tfstyle.dispatch import transfer as _transfer

    return _transfer(*args, **kwargs)


def fit(*args, **kwargs):
    """Trains a converter (MelGAN-VC or harmonic); see `tfstyle.converters.api.fit`."""
    from tfstyle.converters.api import fit as _fit

    return _fit(*args, **kwargs)


def convert(*args, **kwargs):
    """Converts audio with a trained run or a shipped model; see
    `tfstyle.converters.api.convert`."""
    from tfstyle.converters.api import convert as _convert

    return _convert(*args, **kwargs)


def export(*args, **kwargs):
    """Exports a trained run or a shipped model to SavedModel and TFLite; see
    `tfstyle.converters.api.export`."""
    from tfstyle.converters.api import export as _export

    return _export(*args, **kwargs)
