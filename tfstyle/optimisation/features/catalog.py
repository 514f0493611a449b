"""The names of the feature networks (no TensorFlow needed to list or check them)."""
NETWORKS = ("random-cnn", "cnn2d", "vgg19", "resnet50", "vit", "nsynth")
PRETRAINED = ("vgg19", "resnet50", "vit", "nsynth")
