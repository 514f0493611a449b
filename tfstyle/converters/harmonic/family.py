"""Trained harmonic converters as a converter family (see `tfstyle.converters.families`): the
target domain alone, pitch kept by construction."""
import dataclasses
import os
import warnings

from tfstyle.converters.harmonic.config import PRESETS, HarmonicConfig, preset  # noqa: F401
from tfstyle.errors import TfstyleError

NAME = "harmonic"
Config = HarmonicConfig
DEFAULT_PRESET = "harmonic"
ROLES = ("b",)                 # the target's recordings only
# The synthesiser is a layer (its one weight: the reverb's impulse response), kept as .npz.
# The dynamics model (`--loudness learned`) is optional: fitted on paired renderings
# (`dynamics_fit`), which a run on one instrument's recordings does not have.
WEIGHTS = {"decoder": "decoder.weights.h5", "synth": "synth.weights.npz",
           "dynamics": "dynamics.weights.h5"}


def check_domains(domains, config, log):
    minutes = domains["b"].seconds / config.sr / 60
    if minutes < 5 and log:
        print(f"tfstyle: warning: domain B has only {minutes:.1f} min of audio; a harmonic "
              "converter learns an instrument's range best from 10-20 min", file=log)


def prepare(domains, config, run, log=None, progress=False):
    """Analyses the target's pitch and loudness (or reads the run's cache); returns the
    domains and what the run records of them (the target's profile, used at conversion; for
    a run that starts from the timbre prior, the prior's architecture and the embedding of
    the target's clips)."""
    from tfstyle.converters.harmonic import data

    target = data.analyse(domains["b"], config, run.cache_dir, progress)
    learned = {"profile": dataclasses.asdict(data.profile(target, config))}
    if config.start == "prior":
        learned["prior"] = prior_start(domains["b"].clips, config, run)
    return {"b": target}, learned


def prior_start(clips, config, run):
    """What a run started from the shipped timbre prior records: the prior's architecture and
    the embedding of the target's clips (a resumed run keeps the one it started with)."""
    from tfstyle.harmonic.prior import Prior

    if run.exists():
        saved = run.load_config()[1].get("prior")
        if saved:
            return saved
    prior = Prior.load()
    p = prior.config
    mismatched = [f"{name}={getattr(config, name)} (the prior's: {getattr(p, name)})"
                  for name in ("sr", "hop_length", "harmonics", "noise_bands", "units",
                               "reverb_seconds") if getattr(config, name) != getattr(p, name)]
    if mismatched:
        raise TfstyleError("start=prior takes the prior's architecture; leave out "
                           + ", ".join(mismatched))
    return {"config": dataclasses.asdict(p), "steps": prior.record.get("steps"),
            "timbre": [float(v) for v in prior.embed(clips)]}


def build(config, record=None):
    """The training model; one that starts from the prior (`record["prior"]`) has its
    weights, which a resumed run's checkpoint then replaces."""
    from tfstyle.converters.harmonic.trainer import HarmonicTrainer, build_networks, load_prior

    decoder, synth = build_networks(config, record)
    if config.start == "prior":
        load_prior(decoder, synth)
    return HarmonicTrainer(decoder, synth, config)


def pipeline(domains, config, rows, seed):
    from tfstyle.converters.harmonic import data

    return data.pipeline(domains["b"], config, rows, seed)


class Converter:
    """A trained decoder and synthesiser with the target's profile: converts, packages,
    exports."""

    family = NAME

    def __init__(self, config, decoder, synth, profile, source=None, dynamics=None,
                 start=None):
        self.config, self.decoder, self.synth, self.source = config, decoder, synth, source
        # A converter trained from the timbre prior: its architecture and first embedding.
        self.profile, self.dynamics, self.start = profile, dynamics, start
        # Tracing waits for the first call; making the runner costs nothing. The prior's own
        # mapping (`of_prior`) is told the instrument only in the exported graph.
        self._dynamics_runner = None if dynamics is None or getattr(
            dynamics, "timbre_dims", 0) else dynamics.runner()
        self.sr = config.sr
        self.min_samples = 1

    @staticmethod
    def _profile(record):
        from tfstyle.harmonic.controls import Profile

        return Profile(**record["profile"])

    @classmethod
    def from_run(cls, run, config, record):
        from tfstyle.converters.harmonic.trainer import build_networks

        decoder, synth = build_networks(config, record)
        run.restore({"decoder": decoder, "synth": synth})
        return cls(config, decoder, synth, cls._profile(record), run.path,
                   start=record.get("prior"))

    @classmethod
    def from_folder(cls, path, config, record):
        from tfstyle.converters.harmonic.trainer import build_networks

        decoder, synth = build_networks(config, record)
        import numpy as np

        decoder.load_weights(os.path.join(path, WEIGHTS["decoder"]))
        with np.load(os.path.join(path, WEIGHTS["synth"])) as saved:
            synth.set_weights([saved[f"w{i}"] for i in range(len(saved.files))])
        dynamics = None
        if record.get("dynamics") is not None:
            from tfstyle.harmonic.dynamics_model import DynamicsModel

            dynamics = DynamicsModel.from_config(record["dynamics"])
            dynamics.load_weights(os.path.join(path, WEIGHTS["dynamics"]))
        return cls(config, decoder, synth, cls._profile(record), path, dynamics,
                   record.get("prior"))

    @staticmethod
    def _prior_config(prior, loudness="offset"):
        p = prior.config
        return HarmonicConfig(sr=p.sr, hop_length=p.hop_length, harmonics=p.harmonics,
                              noise_bands=p.noise_bands, units=p.units,
                              reverb_seconds=p.reverb_seconds, loudness=loudness)

    @classmethod
    def of_prior(cls, prior):
        """The prior's conditioned decoder as a converter with no instrument yet: what
        exporting the prior with its encoder renders through (the embedding and the profile
        come from the user's clip at run time), with its loudness mapping where it has one,
        as the harmonic preset plays."""
        from tfstyle import presets

        loudness = "offset" if prior.dynamics is None else presets.HARMONIC["loudness"]
        return cls(cls._prior_config(prior, loudness), prior.decoder, prior.synth, None,
                   dynamics=prior.dynamics)

    @classmethod
    def from_prior(cls, prior, clips, loudness="offset"):
        """A one-shot converter: the timbre prior (`harmonic.prior.Prior`) bound to the
        embedding of `clips` (float waveforms at its rate) of one instrument, playing into
        their pitch and loudness profile; with `loudness` "learned", through the prior's
        loudness mapping bound to the same embedding. Nothing is trained."""
        from tfstyle.harmonic.one_shot import NO_PRIOR_DYNAMICS
        from tfstyle.harmonic import controls as ctl
        from tfstyle.harmonic.performance import check_pitched

        p = prior.config
        config = cls._prior_config(prior, loudness)
        controls = ctl.Controls.concat([ctl.analyse(c, p.sr, p.hop_length) for c in clips])
        check_pitched(controls, "style", sum(map(len, clips)) / p.sr,
                      "a one-shot converter learns the timbre of a melodic instrument")
        profile = ctl.Profile.of(controls, p.hop_length / p.sr)
        timbre = prior.embed(clips)
        converter = cls(config, prior.bind(timbre), prior.synth, profile)
        if loudness != "learned":
            return converter
        if prior.dynamics is None:
            raise TfstyleError(NO_PRIOR_DYNAMICS)
        return converter.with_dynamics(prior.bind_dynamics(timbre))

    def with_dynamics(self, dynamics):
        """This converter with a fitted DynamicsModel, converting with it by default."""
        import dataclasses

        return Converter(dataclasses.replace(self.config, loudness="learned"), self.decoder,
                         self.synth, self.profile, self.source, dynamics, self.start)

    def perform(self, controls, transpose=None, loudness=None):
        """(played controls, gates, semitones) of an input's controls on the target."""
        from tfstyle.harmonic.performance import perform

        transpose = self.config.transpose if transpose is None else transpose
        loudness = self.config.loudness if loudness is None else loudness
        return perform(controls, self.profile, self.config.hop_length / self.sr, transpose,
                       loudness, self._dynamics_runner)

    def render_blocks(self, controls, n_samples, transpose=None, loudness=None):
        """Successive blocks of the input's controls played on the target (`perform`)."""
        from tfstyle.harmonic.performance import render_blocks

        played, gates, _ = self.perform(controls, transpose, loudness)
        return render_blocks(self.decoder, self.synth, played, gates, n_samples)

    def convert_blocks(self, blocks, transpose=None, loudness=None, **_):
        """Successive blocks of an input at `sr` → successive blocks of its conversion: the
        analysis reads every block first (its result is a few numbers per frame), then the
        rendering goes block by block."""
        from tfstyle.audio import Level
        from tfstyle.harmonic import controls as ctl
        from tfstyle.harmonic.performance import check_pitched, monophony_warning

        level = blocks if isinstance(blocks, Level) else Level(blocks)
        controls = ctl.analyse(level, self.sr, self.config.hop_length)
        check_pitched(controls, None, level.samples / self.sr,
                      "a harmonic converter plays melodies of pitched instruments")
        warning = monophony_warning(controls)
        if warning:
            warnings.warn(warning.replace("warning: ", ""), stacklevel=2)
        yield from self.render_blocks(controls, level.samples, transpose, loudness)

    def package(self, out):
        import numpy as np

        from tfstyle.converters.serving import save_weights

        save_weights(self.decoder, out, WEIGHTS["decoder"])
        tmp = os.path.join(out, ".partial." + WEIGHTS["synth"])
        np.savez(tmp, **{f"w{i}": w for i, w in enumerate(self.synth.get_weights())})
        os.replace(tmp, os.path.join(out, WEIGHTS["synth"]))
        if self.dynamics is not None:
            save_weights(self.dynamics, out, WEIGHTS["dynamics"])

    def record(self):
        return {"profile": dataclasses.asdict(self.profile),
                "dynamics": None if self.dynamics is None else self.dynamics.get_config(),
                **({} if self.start is None else {"prior": self.start})}

    def export(self, out, fmt, quantize, name, version, gl_iters=None, log=None):
        from tfstyle.converters.harmonic.export import export_converter

        return export_converter(self, out, fmt, quantize, name, version)
