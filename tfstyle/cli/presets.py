"""`tfstyle presets`: the named recipes with a one-line description and their source."""
import textwrap

from tfstyle.presets import PRESETS


def add_parser(commands):
    p = commands.add_parser("presets", help="list the style-transfer presets",
                            description="List the named recipes of 'tfstyle transfer "
                                        "--preset NAME'. Any setting can be overridden.")
    p.add_argument("-v", "--verbose", action="store_true", help="also print every setting")
    p.set_defaults(run=run)


def run(args):
    for name, preset in PRESETS.items():
        print(f"{name:12s} {preset.summary}  [{preset.source}]")
        if args.verbose:
            indent = " " * 13
            print(textwrap.fill(preset.description, 96, initial_indent=indent,
                                subsequent_indent=indent))
            settings = ", ".join(f"--{k.replace('_', '-')} {v}"
                                 for k, v in preset.settings.items()) or "(tfstyle defaults)"
            print(textwrap.fill(settings, 96, initial_indent=indent, subsequent_indent=indent))
