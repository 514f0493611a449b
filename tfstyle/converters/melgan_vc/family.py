"""MelGAN-VC as a converter family (see `tfstyle.converters.families`): A → B mel conversion
trained on two unpaired domains."""
from tfstyle.converters.melgan_vc.frontend import PRESETS, MelGANConfig, preset  # noqa: F401

NAME = "melgan-vc"
Config = MelGANConfig
DEFAULT_PRESET = "melgan-vc"
ROLES = ("a", "b")            # the domains it trains on: input side, target side
WEIGHTS = "generator.weights.h5"


def check_domains(domains, config, log):
    for role, domain in domains.items():
        if domain.seconds / config.sr < 300 and log:
            print(f"tfstyle: warning: domain {role.upper()} has only "
                  f"{domain.seconds / config.sr / 60:.1f} min of audio; MelGAN-VC usually needs "
                  "5 min or more per domain", file=log)


def prepare(domains, config, run, log=None, progress=False):
    """Nothing to compute before training: the mel pipeline caches as it goes."""
    return domains, {}


def build(config, record=None):
    """The compiled MelGANVC training model (call under the strategy's scope); it needs
    nothing of the run's record."""
    import keras

    from tfstyle.converters.melgan_vc.trainer import MelGANVC, build_networks

    model = MelGANVC(*build_networks(config), config)
    adam = lambda: keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1)
    model.compile(d_optimizer=adam(), g_optimizer=adam())
    return model


def pipeline(domains, config, rows, seed):
    from tfstyle.converters.melgan_vc.data import training_pipeline

    return training_pipeline(domains["a"], domains["b"], config, rows=rows, seed=seed)


class Converter:
    """A trained generator, ready to convert, package or export."""

    family = NAME

    def __init__(self, config, generator, source=None):
        self.config, self.generator, self.source = config, generator, source
        self.sr, self.min_samples = config.sr, config.n_fft

    @classmethod
    def from_run(cls, run, config, record):
        from tfstyle.converters.melgan_vc.trainer import build_networks

        generator, critic, siamese = build_networks(config)
        run.restore({"generator": generator, "critic": critic, "siamese": siamese})
        return cls(config, generator, run.path)

    @classmethod
    def from_folder(cls, path, config, record):
        """A shipped model's folder (written by `package`)."""
        import os

        from tfstyle.converters.melgan_vc.generator import Generator

        generator = Generator(config.n_mels, config.generator_filters, "none", name="generator")
        generator.load_weights(os.path.join(path, WEIGHTS))
        return cls(config, generator, path)

    def convert_blocks(self, blocks, inversion="griffin-lim", gl_iters=64,
                       optimize_steps=2000, vocoder=None, **_):
        from tfstyle.converters.melgan_vc.convert import convert_blocks

        return convert_blocks(self.generator, blocks, self.config, inversion, gl_iters,
                              optimize_steps, vocoder=vocoder)

    def frozen(self):
        from tfstyle.converters.melgan_vc.export import freeze_generator

        return freeze_generator(self.generator, self.config)

    def package(self, out):
        """Writes the weights of a shipped-model folder (spectral norm frozen on the way)."""
        from tfstyle.converters.serving import save_weights

        save_weights(self.frozen(), out, WEIGHTS)

    def export(self, out, fmt, quantize, name, version, gl_iters, log=None, vocoder=None):
        from tfstyle.converters.melgan_vc.export import export_generator

        return export_generator(self.frozen(), self.config, out, fmt, quantize, name, version,
                                gl_iters, self.source, log, vocoder)
