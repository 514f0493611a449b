"""Converters trained by the project that ship inside the package, usable offline right after
install: `tfstyle convert --model NAME IN -o OUT`, `tfstyle export --model NAME`.

Each lives in a folder here holding `config.json` (the MelGAN-VC settings it was trained with),
`generator.weights.h5` (the generator with spectral normalisation frozen into plain kernels,
so it needs no power-iteration state) and `MODEL_CARD.md` (data, training, scores, and the
command that retrains it). `bench/train_pretrained.py` writes these folders.
"""
import json
import os

from tfstyle.errors import TfstyleError

HERE = os.path.dirname(os.path.abspath(__file__))
# name -> folder; names are what users type, folders are importable-safe.
MODELS = {"piano-violin": "piano_violin"}
WEIGHTS = "generator.weights.h5"


def folder(name):
    if name not in MODELS:
        raise TfstyleError(f"unknown model {name!r}; the models that ship with tfstyle: "
                           f"{', '.join(MODELS)}")
    path = os.path.join(HERE, MODELS[name])
    if not os.path.isfile(os.path.join(path, WEIGHTS)):
        raise TfstyleError(f"model {name!r}: {path} lacks {WEIGHTS}; reinstall tfstyle")
    return path


def load_config(name, path=None):
    """(MelGANConfig, the saved record) of a shipped model (or of the folder `path`); no
    TensorFlow needed."""
    from tfstyle.melgan_vc.frontend import MelGANConfig

    with open(os.path.join(path or folder(name), "config.json")) as f:
        record = json.load(f)
    return MelGANConfig.from_dict(record["config"]), record


def summary(name):
    """The first line of the model card, for listings."""
    with open(os.path.join(folder(name), "MODEL_CARD.md")) as f:
        return f.readline().lstrip("# ").strip()


def generator(name, path=None):
    """(generator, config) of a shipped model (or of the folder `path` that `package` wrote),
    ready for `melgan_vc.convert`."""
    from tfstyle.melgan_vc.generator import Generator

    path = path or folder(name)
    config, _ = load_config(name, path)
    model = Generator(config.n_mels, config.generator_filters, "none", name="generator")
    model.load_weights(os.path.join(path, WEIGHTS))
    return model, config


def package(generator, config, out, **record):
    """Writes a shipped-model folder from a trained generator (frozen on the way)."""
    from tfstyle.melgan_vc.export import freeze_generator

    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, ".partial." + WEIGHTS)   # Keras insists on the .weights.h5 suffix
    freeze_generator(generator, config).save_weights(tmp)
    os.replace(tmp, os.path.join(out, WEIGHTS))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"config": json.loads(config.to_json()), **record}, f, indent=2)
