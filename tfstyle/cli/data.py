"""`tfstyle data list|info|build`: the datasets a domain spec can name, and what a spec selects."""
import argparse
import os

EPILOG = """domain specs (what 'tfstyle fit --a/--b' takes):
  a folder (recursive), a text file listing audio files, a quoted glob, one audio file, or
  tfds:NAME[/CONFIG][?split=S&FEATURE=VALUE[,VALUE]&take=N&data_dir=DIR]

examples:
  tfstyle data list
  tfstyle data build timbre_pairs/piano_violin
  tfstyle data build audio_domains/mine --manual-dir ~/recordings   # subfolders = domains
  tfstyle data info 'tfds:timbre_pairs/piano_violin?instrument=piano' recordings/violin
  tfstyle data info 'tfds:nsynth/gansynth_subset?split=valid&family=brass'
See docs/data.md for preparing gtzan, nsynth, ljspeech and vctk without network access."""


def add_parser(commands):
    from tfstyle.cli.common import ArgumentParser

    p = commands.add_parser(
        "data", help="list datasets, show what a domain spec selects, build datasets",
        description="Datasets as training domains: the project's TFDS builders and the "
                    "research's datasets from the TFDS catalog.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(title="actions", dest="action", metavar="ACTION",
                               parser_class=ArgumentParser)
    actions.required = True
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", metavar="DIR", default=None,
                          help="TFDS data folder (default: $TFDS_DATA_DIR or "
                               "~/tensorflow_datasets)")

    listing = actions.add_parser(
        "list", parents=[data_dir], help="the datasets a tfds: spec can name",
        description="The datasets tfstyle knows, whether each is prepared in the data folder, "
                    "what a domain can be selected by, and how to prepare it offline.")
    listing.set_defaults(run=run_list)

    info = actions.add_parser(
        "info", parents=[data_dir], help="what one or more domain specs resolve to",
        description="For each spec: the files (count, minutes, rates, unreadable ones) or the "
                    "TFDS examples (count of the split, minutes, label values) it selects. "
                    "Minutes are before 'fit' trims silence.")
    info.add_argument("specs", nargs="+", metavar="SPEC", help="a domain spec (see below)")
    info.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    info.set_defaults(run=run_info)

    build = actions.add_parser(
        "build", parents=[data_dir], help="prepare a dataset (nothing is downloaded if the "
                                          "files are in --manual-dir)",
        description="Prepare a TFDS dataset in the data folder: timbre_pairs/CONFIG is "
                    "rendered here with fluidsynth; audio_domains/NAME is made from the folder "
                    "given by --manual-dir (one subfolder per domain); catalog datasets read "
                    "their archives from --manual-dir (see docs/data.md).")
    build.add_argument("name", metavar="NAME[/CONFIG]", help="e.g. timbre_pairs/piano_violin")
    build.add_argument("--manual-dir", metavar="DIR", default=None,
                       help="folder holding the source files (audio_domains: one subfolder per "
                            "domain; catalog datasets: the downloaded archives)")
    build.add_argument("--rebuild", action="store_true",
                       help="regenerate even if already prepared (e.g. after adding files)")
    build.set_defaults(run=run_build)


def _data_dir(args):
    import tensorflow_datasets as tfds

    return os.path.expanduser(args.data_dir or tfds.core.constants.DATA_DIR)


def run_list(args):
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    import tensorflow_datasets as tfds

    from tfstyle.datasets import KNOWN, prepared, register

    register()
    root = _data_dir(args)
    print(f"datasets for tfds: specs (data folder {root})\n")
    for name, known in KNOWN.items():
        configs = [c.name for c in getattr(tfds.builder_cls(name), "BUILDER_CONFIGS", [])]
        ready = prepared(name, root)
        state = ("prepared: " + ", ".join(c or name for c in ready)) if ready \
            else "not prepared"
        print(f"{name:14s}{known.what}")
        print(f"{'':14s}{state}")
        if configs:
            print(f"{'':14s}configs: {', '.join(configs)}")
        print(f"{'':14s}select by: {', '.join(known.labels) or '(one voice: use take=N)'}; "
              f"e.g. {known.example}")
        example = known.example[len("tfds:"):].partition("?")[0]
        print(f"{'':14s}prepare: {known.prepare.format(name=example)}\n")
    print("Also: a folder, a text file listing audio files, a quoted glob or one audio file.")


def run_info(args):
    from tfstyle.datasets import TFDS

    for spec in args.specs:
        print(_tfds_info(spec, args) if spec.startswith(TFDS) else _files_info(spec))


def _files_info(spec):
    import soundfile as sf

    from tfstyle.domains import list_files

    files = list_files(spec)
    seconds, rates, bad = 0.0, {}, []
    for path in files:
        try:
            info = sf.info(path)
        except Exception as e:   # libsndfile's errors vary by format and version
            bad.append((path, str(e).split(":")[-1].strip() or "unreadable"))
            continue
        seconds += info.frames / info.samplerate
        rates[info.samplerate] = rates.get(info.samplerate, 0) + 1
    lines = [f"{spec}: {len(files) - len(bad)} audio files, {_duration(seconds)}"
             + (f" ({_rates(rates)})" if rates else "")
             + (f"; {len(bad)} unreadable" if bad else "")]
    lines += [f"  unreadable {path}: {why}" for path, why in bad[:10]]
    if len(bad) > 10:
        lines.append(f"  ... and {len(bad) - 10} more unreadable")
    return "\n".join(lines)


def _tfds_info(spec, args):
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    from tfstyle import datasets

    opened = datasets.open_tfds(spec, args.data_dir)
    summary = datasets.summarize(opened, progress=not args.quiet)
    of = f" of {summary.of}" if summary.of is not None else ""
    selection = ", ".join(f"{k}={','.join(map(str, v))}" for k, v in
                          _readable(opened).items()) or "all"
    lines = [f"{spec}: {opened.name} split {opened.split}, {selection}: "
             f"{summary.examples}{of} examples, {_duration(summary.seconds)}"
             + (f" ({_rates(summary.rates)})" if summary.rates else "")]
    for path, counts in summary.labels.items():
        top = sorted(counts.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{name} {n}" for name, n in top[:12])
        more = f", ... ({len(top)} values)" if len(top) > 12 else ""
        lines.append(f"  {path}: {shown}{more}")
    if not summary.examples:
        lines.append("  (nothing selected: 'tfstyle fit' would stop with no usable audio)")
    return "\n".join(lines)


def _readable(opened):
    """The selection with class indices shown as names again."""
    out = {}
    for path, values in opened.wanted.items():
        feature = opened.labels.get(path)
        out[path] = [feature.int2str(int(v)) if feature else
                     (v.decode() if isinstance(v, bytes) else v) for v in values]
    return out


def _duration(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def _rates(rates):
    return ", ".join(f"{n} at {rate} Hz" for rate, n in sorted(rates.items()))


def run_build(args):
    import sys

    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    from tfstyle import datasets

    builder = datasets.build(args.name, args.manual_dir, args.data_dir, args.rebuild)
    splits = ", ".join(f"{name} {split.num_examples}"
                       for name, split in builder.info.splits.items())
    print(f"{args.name}: prepared in {builder.data_dir} ({splits} examples)")
    skipped = (builder.info.metadata or {}).get("skipped") if builder.info.metadata else None
    for domain, reasons in (skipped or {}).items():
        for reason in reasons:
            print(f"  skipped in {domain}: {reason}", file=sys.stderr)
