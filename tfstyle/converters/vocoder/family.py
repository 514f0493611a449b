"""The vocoder as a converter family (see `tfstyle.converters.families`): trained on one domain
of audio (--b), it learns to turn that audio's normalised mel back into the audio. As a
converter it resynthesises: audio → mel → vocoder, which is how its quality is heard and
measured; MelGAN-VC's conversion uses it in place of Griffin-Lim (`--vocoder`)."""
from tfstyle.converters.vocoder.config import PRESETS, VocoderConfig, preset  # noqa: F401
from tfstyle.errors import TfstyleError

NAME = "vocoder"
Config = VocoderConfig
DEFAULT_PRESET = "istft-16k"
ROLES = ("b",)                 # the audio whose mel it learns to invert
# Settings of the istft head alone: a run may start from a shipped vocoder that differs in them.
HEAD_SETTINGS = ("prior", "overlap")
# A shipped vocoder's weights: float16, half the package's bytes; as float32 again on loading
# they give the run's output to within 1e-3 of its peak (bench/train_vocoder.py checks).
WEIGHTS = "vocoder.weights.npz"


def check_domains(domains, config, log):
    minutes = domains["b"].seconds / config.sr / 60
    if minutes < 10 and log:
        print(f"tfstyle: warning: only {minutes:.1f} min of audio; a vocoder usually needs an "
              "hour or more of varied audio to serve sounds it did not hear", file=log)


def prepare(domains, config, run, log=None, progress=False):
    """The checkpoint of the run to start from (`config.init_from`: a vocoder run, or a
    shipped vocoder's name, whose generator alone is kept), for a run that has none of its
    own yet; the pipeline caches the mels as it goes."""
    if not config.init_from or run.latest():
        return domains, {}
    import os

    from tfstyle import pretrained
    from tfstyle.converters.api import vocoder_settings
    from tfstyle.converters.run import Run

    start = vocoder_settings(config.init_from)
    different = start.network_differences(config)
    if set(different) <= set(HEAD_SETTINGS) and config.init_from in pretrained.MODELS:
        # Its WaveNet layers alone (`build`): the magnitude and phase it adds were learned
        # over another prior or for another inverse STFT.
        different = []
    if different:
        raise TfstyleError(f"--init-from {config.init_from}: its network differs from this "
                           "run's (" + ", ".join(f"{n} {getattr(start, n)} against "
                                                 f"{getattr(config, n)}" for n in different)
                           + ")")
    if config.init_from in pretrained.MODELS:
        if log:
            print(f"starting from the shipped {config.init_from}'s generator", file=log)
        return domains, {"init_from_shipped": config.init_from}
    latest = Run(config.init_from).latest()
    if latest is None:
        raise TfstyleError(f"--init-from {config.init_from}: the run has no checkpoint yet")
    if log:
        print(f"starting from {latest}", file=log)
    return domains, {"init_from": os.path.abspath(latest)}


def build(config, record=None):
    """The compiled VocoderGAN training model (call under the strategy's scope)."""
    import keras

    from tfstyle.converters.vocoder import discriminator, generator
    from tfstyle.converters.vocoder.trainer import VocoderGAN

    keras.utils.set_random_seed(config.seed)
    model = VocoderGAN(generator.build(config),
                       discriminator.MultiScaleDiscriminator(config.scales, name="discriminator"),
                       config)
    if (record or {}).get("init_from"):
        # The networks of the run it starts from; a run with checkpoints of its own restores
        # over them.
        import tensorflow as tf

        model.discriminator(tf.zeros([1, config.min_samples()]))
        networks = tf.train.Checkpoint(generator=model.generator,
                                       discriminator=model.discriminator)
        networks.restore(record["init_from"]).expect_partial().assert_existing_objects_matched()
    elif (record or {}).get("init_from_shipped"):
        from tfstyle import pretrained

        shipped = pretrained.load(record["init_from_shipped"])
        names = {layer.name for layer in shipped.generator.layers}
        if shipped.config.network_differences(config):
            names -= {"log_magnitude", "phase"}
        for layer in model.generator.layers:
            if layer.name in names:
                layer.set_weights(shipped.generator.get_layer(layer.name).get_weights())
    adam = lambda: keras.optimizers.Adam(config.learning_rate, beta_1=0.8, beta_2=0.99)
    model.compile(g_optimizer=adam(), d_optimizer=adam())
    return model


def pipeline(domains, config, rows, seed):
    from tfstyle.converters.vocoder.data import training_pipeline

    return training_pipeline(domains["b"], config, rows=rows, seed=seed)


class Converter:
    """A trained vocoder: `vocode(mel)`, resynthesis of audio (`convert_blocks`), package."""

    family = NAME

    def __init__(self, config, generator, source=None):
        self.config, self.generator, self.source = config, generator, source
        self.sr, self.min_samples = config.sr, config.n_fft

    @classmethod
    def from_run(cls, run, config, record=None):
        from tfstyle.converters.vocoder import generator

        network = generator.build(config)
        run.restore({"generator": network})
        return cls(config, network, run.path)

    @classmethod
    def from_folder(cls, path, config, record=None):
        """A shipped vocoder's folder (written by `package`)."""
        import os

        from tfstyle.converters.vocoder import generator

        import numpy as np

        network = generator.build(config)
        with np.load(os.path.join(path, WEIGHTS)) as saved:
            network.set_weights([saved[f"w{i}"].astype(np.float32)
                                 for i in range(len(saved.files))])
        return cls(config, network, path)

    def vocode(self, mel, length=None):
        """Normalised mel [frames, n_mels] of this vocoder's front end → waveform."""
        from tfstyle.converters.vocoder.synthesis import vocode

        return vocode(self.generator, mel, length)

    def convert_blocks(self, blocks, **_):
        from tfstyle.converters.vocoder.synthesis import resynthesise_blocks

        return resynthesise_blocks(self.generator, blocks, self.config)

    def package(self, out):
        import os

        import numpy as np

        from tfstyle.audio import atomic_path

        os.makedirs(out, exist_ok=True)
        with atomic_path(os.path.join(out, WEIGHTS)) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{f"w{i}": w.astype(np.float16)
                               for i, w in enumerate(self.generator.get_weights())})

    def export(self, out, fmt, quantize, name, version, gl_iters=None, log=None):
        raise TfstyleError("a vocoder is not exported on its own; it goes inside the export of "
                           "the MelGAN-VC model whose mel it inverts")
