"""Settings dataclasses shared by the API and the CLI: each field carries its help text and
allowed values, so `--help`, validation and the Python defaults cannot drift apart."""
import dataclasses
import json

from tfstyle.errors import TfstyleError


class Settings:
    """Base of a settings dataclass saved in a run or a model: its JSON round trip, which
    ignores keys it does not know (written by another version)."""

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})

    def check_trainable(self):
        """Fails on settings that a model may carry but a training run cannot give it."""
        return self


def setting(default, help, choices=None):
    """A dataclass field with the help text and choices the CLI and validation use."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def check_choices(obj):
    """Raises TfstyleError for the first field whose value is not among its choices."""
    for field in dataclasses.fields(obj):
        choices = field.metadata["choices"]
        if choices and getattr(obj, field.name) not in choices:
            raise TfstyleError(f"{field.name} must be one of {', '.join(choices)}, "
                               f"got {getattr(obj, field.name)!r}")


def add_arguments(group, cls, default_label="default"):
    """One --option per field of `cls`, defaulting to None so only given options override."""
    for field in dataclasses.fields(cls):
        flag = "--" + field.name.replace("_", "-")
        if field.type is bool:
            group.add_argument(flag, action="store_true", default=None,
                               help=field.metadata["help"])
            continue
        group.add_argument(
            flag, type=field.type, default=None, choices=field.metadata["choices"],
            metavar=None if field.metadata["choices"] else field.name.upper(),
            help=f"{field.metadata['help']} ({default_label}: {field.default!r})")


def given(args, cls):
    """The fields of `cls` that were given on the command line."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
            if getattr(args, f.name) is not None}


def from_preset(cls, presets, name, kind, overrides):
    """`cls` with the settings of preset `name` ({name: (description, settings)}) and
    `overrides` on top, validated; an unknown name is a one-line error naming `kind`'s."""
    if name not in presets:
        raise TfstyleError(f"unknown preset {name!r}; a {kind} run takes one of "
                           f"{', '.join(presets)}")
    return cls(**{**presets[name][1], **overrides}).validate()
