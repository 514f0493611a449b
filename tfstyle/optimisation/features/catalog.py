"""The names of the feature networks and of the random CNN's product formats (no TensorFlow
needed to list or check them)."""
NETWORKS = ("random-cnn", "cnn2d", "vgg19", "resnet50", "vit", "nsynth")
PRETRAINED = ("vgg19", "resnet50", "vit", "nsynth")
# --precision (tfstyle.optimisation.precision).
PRECISIONS = ("auto", "float32", "bfloat16")
