"""Feature networks for optimisation style transfer: frozen Keras models with named taps.

Every network maps a representation [batch, frames, channels] to a dict of activations named
by tap ("conv1", "relu1", ...). The style-transfer engine only sees that dict, so networks and
losses can be mixed freely.
"""
from tfstyle.features.random_cnn import RandomCNN1D

__all__ = ["RandomCNN1D"]
