"""The converter families, by the name a run's config.json records.

A family is a module with:

    NAME, Config              its name and settings dataclass (`Config.from_dict`, `to_json`,
                              `validate`, `preset(name, **settings)`, `PRESETS`)
    new_run(config, domains)  checks the domains it needs, returns the names it trains on
    build(config)             the training model (a keras.Model with `cycle(batch)`,
                              `checkpoint_objects()`, `steps_per_cycle`, `shown` and
                              `preview(clip)`), built under the current strategy
    pipeline(domains, config, rows, seed)  endless tf.data batches of `rows` rows
    Converter(config, objects) the inference side: `restore_objects()`, `convert_blocks`,
                              `load_shipped`, `package`, `export`

The registry imports a family only when asked, so naming a run's family costs no TensorFlow.
"""
import importlib

from tfstyle.errors import TfstyleError

FAMILIES = {"melgan-vc": "tfstyle.converters.melgan_vc.family",
            "harmonic": "tfstyle.converters.harmonic.family"}


def get(name):
    if name not in FAMILIES:
        raise TfstyleError(f"unknown model family {name!r}; tfstyle trains "
                           f"{', '.join(FAMILIES)}")
    return importlib.import_module(FAMILIES[name])
