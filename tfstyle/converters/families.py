"""The converter families, by the name a run's config.json records.

A family is a module with:

    NAME, Config, DEFAULT_PRESET   its name, settings dataclass (`Config.from_dict`, `to_json`,
                              `validate`, `check_trainable`) and default preset; `PRESETS` and
                              `preset(name, **settings)`
    ROLES                     the domains it trains on ("a", "b" or "b" alone)
    check_domains(domains, config, log)   warnings about the training data
    prepare(domains, config, run, log, progress)  analysis done once per run (cached), and
                              what the run records of it
    build(config, record)     the training model (a keras.Model with `cycle(batch)`,
                              `checkpoint_objects()`, `steps_per_cycle`, `shown` and
                              `preview(clip)`), built under the current strategy
    pipeline(domains, config, rows, seed)  endless tf.data batches of `rows` rows
    Converter                 the inference side: `from_run`, `from_folder`, `convert_blocks`,
                              `package`, `export` (the harmonic one also `record`: what a
                              packaged model stores beside its weights)

The registry imports a family only when asked, so naming a run's family costs no TensorFlow.
"""
import importlib

from tfstyle.errors import TfstyleError

FAMILIES = {"melgan-vc": "tfstyle.converters.melgan_vc.family",
            "harmonic": "tfstyle.converters.harmonic.family",
            "vocoder": "tfstyle.converters.vocoder.family"}


def get(name):
    if name not in FAMILIES:
        raise TfstyleError(f"unknown model family {name!r}; tfstyle trains "
                           f"{', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[name])
