"""Converters trained by the project that ship inside the package, usable offline right after
install: `tfstyle convert --model NAME IN -o OUT`, `tfstyle export --model NAME`.

Each lives in a folder here holding `config.json` (the model family and the settings it was
trained with), the family's weights (MelGAN-VC: `generator.weights.h5` with spectral
normalisation frozen into plain kernels; harmonic: `decoder.weights.h5` and
`synth.weights.h5`) and `MODEL_CARD.md` (data, training, scores, and the command that retrains
it). The scripts in `bench/` (`train_pretrained.py`, `train_harmonic.py`) write these folders.

`vocoder_16k/` and `vocoder_22k/` are the mel vocoders (`tfstyle.converters.vocoder`, written by
`bench/train_vocoder.py package`): as converters they resynthesise audio through its mel, and
`--vocoder wavenet` of convert, transfer and export picks the one of the mel at hand.

`timbre_prior/` is no converter but the multi-instrument prior of one-shot harmonic transfer
(`tfstyle.harmonic.prior`, written by `bench/train_prior.py`): encoder, conditioned decoder
and synthesiser weights with their `config.json` and `MODEL_CARD.md`.
"""
import json
import os

from tfstyle.errors import TfstyleError

HERE = os.path.dirname(os.path.abspath(__file__))
# name -> folder; names are what users type, folders are importable-safe.
MODELS = {"piano-violin": "piano_violin", "violin": "violin", "flute": "flute",
          "trumpet": "trumpet", "vocoder-16k": "vocoder_16k", "vocoder-22k": "vocoder_22k"}


def available():
    """The names of the shipped models whose folder is present."""
    return [name for name in MODELS
            if os.path.isfile(os.path.join(HERE, MODELS[name], "config.json"))]


def folder(name):
    if name not in MODELS:
        raise TfstyleError(f"unknown model {name!r}; the models that ship with tfstyle: "
                           f"{', '.join(available())}")
    path = os.path.join(HERE, MODELS[name])
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise TfstyleError(f"model {name!r}: {path} lacks config.json; reinstall tfstyle")
    return path


def load_config(name, path=None):
    """(the family's config, the saved record) of a shipped model (or of the folder `path`);
    no TensorFlow needed."""
    from tfstyle.converters import families

    with open(os.path.join(path or folder(name), "config.json")) as f:
        record = json.load(f)
    family = families.get(record.setdefault("family", "melgan-vc"))
    return family.Config.from_dict(record["config"]), record


def summary(name):
    """The first line of the model card, for listings."""
    with open(os.path.join(folder(name), "MODEL_CARD.md")) as f:
        return f.readline().lstrip("# ").strip()


def load(name, path=None):
    """The Converter of a shipped model (or of the folder `path` that `package` wrote)."""
    from tfstyle.converters import families

    path = path or folder(name)
    config, record = load_config(name, path)
    return families.get(record["family"]).Converter.from_folder(path, config, record)


def package(converter, out, **record):
    """Writes a shipped-model folder from a trained Converter."""
    from tfstyle.converters.serving import write_json

    os.makedirs(out, exist_ok=True)
    converter.package(out)
    write_json(os.path.join(out, "config.json"), {
        "family": converter.family, "config": json.loads(converter.config.to_json()), **record})
