"""What the web page runs: transfer, convert and evaluate on uploaded files, each job in a
folder of its own, every failure as a TfstyleError whose message a person can read.

Nothing here imports Gradio, so the jobs are tested without a browser or a server.
"""
import dataclasses
import os
import shutil
import tempfile
import threading
import time
import uuid

from tfstyle.errors import TfstyleError

# What the page shows for each role, in messages about the file a person uploaded.
ROLES = {"content": "content clip", "style": "style clip", "output": "output clip",
         "reference": "reference clip", "input": "input file"}


class Workspace:
    """A private temporary folder for one server: one sub-folder per job, removed an hour after
    it was made (results stay downloadable meanwhile) and all at `close`."""

    def __init__(self, keep_seconds=3600):
        self.root = tempfile.mkdtemp(prefix="tfstyle-ui-")
        self.keep_seconds = keep_seconds
        self._lock = threading.Lock()

    def job(self):
        self.prune()
        path = os.path.join(self.root, "jobs", uuid.uuid4().hex)
        os.makedirs(path)
        return path

    def prune(self, now=None):
        now = time.time() if now is None else now
        folder = os.path.join(self.root, "jobs")
        with self._lock:
            for name in os.listdir(folder) if os.path.isdir(folder) else ():
                path = os.path.join(folder, name)
                if now - os.path.getmtime(path) > self.keep_seconds:
                    shutil.rmtree(path, ignore_errors=True)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _upload(path, role):
    if not path:
        raise TfstyleError(f"no {ROLES[role]}: upload or record one first")
    return path


def _readable(error, paths, role):
    """The error with temporary upload paths replaced by the names people gave their files."""
    message = str(error)
    for path in paths:
        if path:
            message = message.replace(path, f"the {ROLES[role]} ({os.path.basename(path)})")
    return message


def _load(path, role, sr, min_samples=1):
    from tfstyle import audio

    try:
        return audio.load(_upload(path, role), sr, min_samples=min_samples)
    except TfstyleError as e:
        raise TfstyleError(_readable(e, [path], role)) from None


# The transfer settings the page offers (the others keep the method's values).
SETTINGS = ("steps", "style_weight", "content_weight", "transpose", "seed")


def transfer_settings():
    """{name: help text} of the settings the page offers."""
    from tfstyle.transfer_config import TransferConfig

    fields = {f.name: f for f in dataclasses.fields(TransferConfig)}
    return {name: fields[name].metadata["help"] for name in (*SETTINGS, "vocoder")}


def preset_values(name):
    """{setting: value} of a method's recipe, for the page's fields."""
    from tfstyle import presets

    config = presets.config(name)
    return {setting: getattr(config, setting) for setting in SETTINGS}


def methods():
    """(label, preset name) of every recipe, the default first."""
    from tfstyle.presets import PRESETS

    order = ["default", *[name for name in PRESETS if name != "default"]]
    return [(f"{name}: {PRESETS[name].summary}", name) for name in order]


def transfer(content, style, preset="default", workspace=None, progress=False, **settings):
    """Runs `tfstyle transfer` on two uploaded files; returns (output WAV, picture PNG,
    summary text)."""
    from tfstyle import audio, dispatch, plotting, presets

    config = presets.config(preset, **{k: v for k, v in settings.items() if v is not None})
    config = config.validate()
    content_audio = _load(content, "content", config.sr, config.min_samples())
    style_audio = _load(style, "style", config.sr, config.min_samples())
    dispatch.check_files(config)
    folder = workspace.job()
    # The default preset chooses harmonic or optimisation transfer; the summary's first
    # warning line says which and why.
    result = dispatch.run(content_audio, style_audio, config=config, progress=progress)
    name = os.path.splitext(os.path.basename(content))[0]
    out = os.path.join(folder, f"{name}_{preset}.wav")
    audio.save(out, result.audio, result.sr)
    picture = os.path.join(folder, f"{name}_{preset}.png")
    plotting.save_spectrograms(picture, [("content", content_audio), ("style", style_audio),
                                         ("output", result.audio)], config.sr)
    summary = (f"{preset}: {result.steps} of at most {result.max_steps} steps "
               f"({result.stop_reason}), {result.seconds:.1f} s" + result.moved())
    return out, picture, "\n".join([summary, *result.warnings])


def converters():
    """The shipped converters a person can pick: (label, name)."""
    from tfstyle import pretrained

    return [(f"{name} ({'MelGAN-VC' if '-' in name else 'harmonic'})", name)
            for name in pretrained.available()]


def convert(files, model=None, run_dir=None, workspace=None, progress=False, vocoder=None):
    """Converts uploaded files with a shipped model or a run folder (a MelGAN-VC one through
    `vocoder`: as `tfstyle convert --vocoder`); returns (outputs, picture of the first, summary text).
    Files that cannot be converted are named in the summary; when none can, the error says
    why."""
    import io

    from tfstyle import audio, plotting
    from tfstyle.converters import api

    files = [f for f in files or [] if f]
    if not files:
        raise TfstyleError("no input files: upload one or more audio files to convert")
    run_dir = (run_dir or "").strip() or None
    if run_dir and not os.path.isdir(run_dir):
        raise TfstyleError(f"no run folder at {run_dir} (the --run-dir of a 'tfstyle fit')")
    if run_dir is None and not model:
        raise TfstyleError("pick a shipped converter or give a run folder")
    family, config, _ = api.check_converter(run_dir, None if run_dir else model)
    # As `tfstyle convert --vocoder`: empty is the default (the shipped vocoder of the
    # model's mel where it measured better than Griffin-Lim).
    vocoder = api.choose_vocoder((vocoder or "").strip() or None, family, config)
    folder = workspace.job()
    label = os.path.basename(os.path.normpath(run_dir)) if run_dir else model
    jobs = [(path, os.path.join(folder, f"{os.path.splitext(os.path.basename(path))[0]}_"
                                        f"{label}.wav")) for path in files]
    log = io.StringIO()
    readable = lambda text: _readable(text, files, "input")
    try:
        written = api.convert(run_dir, jobs=jobs, model=None if run_dir else model,
                              progress=progress, log=log, vocoder=vocoder)
    except TfstyleError as e:
        raise TfstyleError(readable(e)) from None
    problems = [readable(line.removeprefix("tfstyle: skipped "))
                for line in log.getvalue().splitlines() if line.startswith("tfstyle: skipped")]
    first = next(src for src, dst in jobs if dst in written)
    sr = 22050
    picture = os.path.join(folder, "first.png")
    plotting.save_spectrograms(picture, [("input", audio.load(first, sr, max_seconds=30)),
                                         ("output", audio.load(written[0], sr,
                                                               max_seconds=30))], sr)
    summary = [f"converted {len(written)} of {len(files)} files with {label}", *problems]
    return written, picture, "\n".join(summary)


def evaluate(output, content, style=None, reference=None, sr=22050):
    """`tfstyle evaluate` with the baselines (when a style is given): (header, rows)."""
    from tfstyle import baselines, metrics

    paths = {"output": output, "content": content, "style": style, "reference": reference}
    # Output and content are required; style and reference are optional.
    given = {role: _load(path, role, sr, metrics.N_FFT)
             for role, path in paths.items() if path or role in ("output", "content")}
    others = {k: v for k, v in given.items() if k != "output"}
    columns = {"output": metrics.evaluate(given["output"], sr, **others)}
    if "style" in given:
        columns.update({f"{name} (baseline)": measures for name, measures in baselines.scores(
            sr, **others).items()})
    header = ["measure", *columns, "unit", "better", "compared with", "what it says"]
    rows = []
    for name in columns["output"]:
        m = metrics.MEASURES[name]
        rows.append([name, *(round(float(c[name]), 3) for c in columns.values()), m.unit,
                     m.better, m.against, m.what])
    return header, rows
