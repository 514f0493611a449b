"""Named settings: tfstyle's default and each published system's recipe, one flag away.

A preset is a partial TransferConfig; options given with it override its values. The research
presets follow `shared` notes on each system (layer choices, weights, optimiser, start point,
Griffin-Lim); what our front end cannot reproduce exactly is said in the description.
"""
import dataclasses

from tfstyle.errors import TfstyleError
from tfstyle.transfer_config import TransferConfig


@dataclasses.dataclass(frozen=True)
class Preset:
    summary: str
    description: str
    source: str
    settings: dict


# From the timbre prior: the style's embedding, then at most 15 steps of adaptation at 1e-3
# of the decoder's output layers and reverb. Chosen on the development set (bench/
# train_prior.py --dev, 5 pairs x 3 melodies, mean ratio to identity's mel distance): 30 steps
# at 1e-3 gave 0.75x on four pairs against 0.77x for the embedding alone and 0.76x at 3e-4;
# offset loudness beat quantile by 0.04-0.16x on every pair; moving the output layers only
# (adapt head) is 0.005x behind moving the embedding too and 0.5 s faster; 15 steps cost
# 0.008x against 30 and save 0.8 s of the 5 s examples' 9 s. Loudness: the prior's learned
# mapping, fitted on 320 melodies each played by 8 of the 59 instruments, gives 0.661x
# against offset's 0.788x (every pair nearer; bench/train_prior.py --dev; 0.680x at half its
# 64 channels). Its first fit, on 16 melodies played by every instrument, had learned those
# melodies: 0.75x there, but further than offset on every held-out kind.
HARMONIC = dict(method="harmonic", hop_length=256, start="prior", steps=15,
                learning_rate=1e-3, tol=2e-3, tol_window=10, loudness="learned",
                adapt="head")
# The harmonic method fitted from scratch on the style alone, as it was before the timbre
# prior: the comparison for the prior's figures.
HARMONIC_SCRATCH = dict(method="harmonic", hop_length=256, start="scratch", steps=600,
                        learning_rate=3e-3, tol=2e-3, tol_window=50, loudness="quantile")

PRESETS = {
    "harmonic": Preset(
        "harmonic-plus-noise synthesiser from the timbre prior, driven by the content's pitch",
        "harmonic-plus-noise synthesis after DDSP: YIN pitch and A-weighted loudness of the "
        "content (octave-shifted; its loudness contour the one the style's instrument would "
        "give the notes, by the prior's learned mapping) drive the timbre "
        "prior's GRU decoder, trained on 54 instruments and told which one by the style's "
        "embedding; its output layers and reverb are then adapted to the style for at most "
        "15 steps (Adam 1e-3 on 4 windows of 0.74 s, stopped at convergence): 60 harmonics, "
        "65 noise bands, 0.25 s reverb",
        "Engel et al. 2020 (DDSP), with a timbre prior trained by this project", HARMONIC),
    "harmonic-scratch": Preset(
        "the harmonic synthesiser fitted on the style alone, from scratch",
        "harmonic-plus-noise synthesis after DDSP with no prior: a 64-unit GRU decoder, 60 "
        "harmonics, 65 noise bands and a 0.1 s reverb fitted on the style clip(s) alone, "
        "Adam 3e-3 on 4 windows of 0.74 s per step for at most 600 steps, stopped at "
        "convergence",
        "Engel et al. 2020 (DDSP), written for tfstyle", HARMONIC_SCRATCH),
    "random-cnn": Preset(
        "optimisation transfer: random 1-D CNN on log1p STFT, pitch kept",
        "tfstyle's tuned optimisation transfer: random 1-D CNN (4096 filters, kernel 3) on "
        "log1p STFT, content + Gram style, Adam from the content, stopped at convergence",
        "this project (docs/benchmarks.md)", dict(method="random-cnn")),
    "default": Preset(
        "automatic: harmonic for single melodic lines, else random-cnn",
        "tfstyle's default: the harmonic preset where content and style are both single "
        "melodic lines (65 % or more of their sounding frames have one clear pitch), else the "
        "random-cnn preset (chords, drums, speech, noise); tfstyle.dispatch decides and says "
        "why", "this project (docs/benchmarks.md)", dict(method="auto")),
    "ulyanov2016": Preset(
        "Ulyanov & Lebedev: 4096-filter random Conv1D, L-BFGS",
        "Ulyanov & Lebedev: one random Conv1D (4096 filters, width 11, ReLU) on log1p STFT, "
        "alpha 1e-2 content + Gram (÷ frames) style as sums, L-BFGS 300 from small noise, "
        "Griffin-Lim 500 from random phase",
        "DmitryUlyanov/neural-style-audio-tf (2016)",
        dict(method="random-cnn", representation="log1p_stft", n_fft=2048, hop_length=512,
             filters="4096", kernel_size="11", activation="relu", gram_norm="frames",
             reduction="sum", content_weight=1e-2, style_weight=1.0, optimizer="lbfgs",
             steps=300, init="noise", gl_iters=500, gl_init="random")),
    "lin-cnn": Preset(
        "alishdipani / Lin: random Conv1D k3, style only, Adam",
        "one random Conv1D (4096 filters, kernel 3, no nonlinearity), style only with Gram "
        "÷ (frames·filters), weight 2500², Adam 0.03 for 2500 steps from the content, log1p "
        "magnitudes clamped to [0, 1], Griffin-Lim 500 from random phase",
        "alishdipani/Neural-Style-Transfer-Audio (2018); Kevin Lin's CS230 baseline",
        dict(method="random-cnn", representation="log1p_stft", filters="4096",
             kernel_size="3", activation="none", gram_norm="frames_channels", reduction="mean",
             content_weight=0.0, style_weight=2500.0 ** 2, optimizer="adam", learning_rate=0.03,
             steps=2500, init="content", clip_max=1.0, gl_iters=500, gl_init="random")),
    "mel-cnn2": Preset(
        "two-layer random Conv1D on mel dB",
        "two random Conv1D layers (512, 512; kernel 3, ReLU) on a 128-band mel spectrogram in "
        "dB, content on relu2 + Gram style on relu1 and relu2, Adam from content + noise",
        "two-layer variant of the random-CNN recipe (Lin; Mital's layer search)",
        dict(method="random-cnn", representation="mel_db", n_mels=128, filters="512,512",
             kernel_size="3", activation="relu", content_weight=1.0, style_weight=3e-4,
             optimizer="adam", learning_rate=0.3, steps=300, init="content+noise")),
    "cnn2d": Preset(
        "random 2-D CNN, (3, 1) kernels, LeakyReLU 0.2",
        "random 2-D CNN on the log1p STFT image, two layers of 64 (3, 1) kernels with "
        "LeakyReLU 0.2, content + Gram style, Adam from the content",
        "2-D variant compared in alishdipani's README",
        dict(method="cnn2d", representation="log1p_stft", filters="64,64", kernel_size="3",
             content_weight=1.0, style_weight=30.0, optimizer="adam", learning_rate=0.03,
             steps=300, init="content")),
    "vgg19": Preset(
        "Gatys layers of VGG19 on the mel dB image",
        "VGG19 (ImageNet) on the 128-band mel dB image, Gatys layers (content block4_conv2, "
        "style block1_conv1..block5_conv1), average pooling, Adam from the content",
        "Gatys et al. 2016 applied to spectrograms",
        dict(method="vgg19", representation="mel_db", pooling="avg", gram_norm="gatys",
             reduction="mean", content_weight=1.0, style_weight=1e-3, optimizer="adam",
             learning_rate=0.5, steps=200, init="content")),
    "resnet50": Preset(
        "ResNet50 stages on the mel dB image",
        "ResNet50 (ImageNet) on the 128-band mel dB image, style at the end of each stage, "
        "content conv4_block6_out, Adam from the content",
        "Gatys-style transfer with a residual backbone",
        dict(method="resnet50", representation="mel_db", gram_norm="gatys", reduction="mean",
             content_weight=1.0, style_weight=1e-3, optimizer="adam", learning_rate=0.5,
             steps=200, init="content")),
    "vit": Preset(
        "ViT-B/16 block tokens on 224-frame mel dB windows",
        "Vision Transformer (keras-hub ViT-B/16 preset) on the mel dB image in 224-frame "
        "windows, style Gram on every block's patch tokens, content on the last block",
        "Gatys-style transfer with a transformer backbone",
        dict(method="vit", representation="mel_db", gram_norm="frames", reduction="mean",
             content_weight=1.0, style_weight=10.0, optimizer="adam", learning_rate=0.5,
             steps=200, init="content")),
    "coleman2017": Preset(
        "padster: VGG19 on mel + row/column autocorrelation",
        "VGG19 (average pooling) on a 96-band mel 'MFCC' image, alpha 1e-3 content "
        "(block4_conv2), beta 2e5 Gatys style (conv1_1..conv5_1), row and column "
        "autocorrelation 1e-9 each, TV 1e-8, L-BFGS from noise, Griffin-Lim 20. Their 'MFCC' "
        "is a mel-filtered log spectrogram without DCT: here mel dB of the power spectrum",
        "padster/AudioStyle (Coleman, Penco, Porisky 2017)",
        dict(method="vgg19", representation="mel_db", n_mels=96, pooling="avg",
             gram_norm="gatys", reduction="sum",
             # Their content term is ½·Σ(F − P)² with alpha 1e-3.
             content_weight=1e-3 / 2, style_weight=2e5,
             autocorr_row_weight=1e-9, autocorr_col_weight=1e-9, tv_weight=1e-8,
             optimizer="lbfgs", steps=200, init="noise", gl_iters=20, gl_init="random")),
    "boemer2019": Preset(
        "NSynth WaveNet encoder on mu-law audio: ReLU-tap Gram style, final-block content",
        "NSynth WaveNet encoder (16 kHz mu-law, continuous companding) as the feature network: "
        "Gram style on ReLU A/B taps of blocks 1, 10, 20, 30, content on ReLU B of block 30, "
        "Adam 0.05 for 100 steps on the companded waveform from content + tiny noise; 2 s "
        "windows overlapping by the 6141-sample receptive field",
        "Boemer, Gong & Homma (Stanford CS230); magenta/models/nsynth",
        dict(method="nsynth", representation="waveform", content_weight=1.0,
             style_weight=1e3, optimizer="adam", learning_rate=0.05, steps=100,
             init="content+noise", init_noise=1e-3)),
    "mital2017": Preset(
        "Mital: NSynth encoder, residual outputs of blocks 2 and 6 for content and style",
        "NSynth encoder with content = style = residual stream after blocks 2 and 6, Gram "
        "÷ samples, alpha 1e-3 content as sums, Adam 1e-3 for 100 steps, from content + tiny "
        "noise (without the original's re-initialised weights and missing mu-law scaling)",
        "pkmital/time-domain-neural-audio-style-transfer (nsynth.py)",
        dict(method="nsynth", representation="waveform", content_layers="res_2,res_6",
             style_layers="res_2,res_6", gram_norm="frames", reduction="sum",
             content_weight=1e-3, style_weight=1.0, optimizer="adam", learning_rate=1e-3,
             steps=100, init="content+noise", init_noise=1e-3)),
}


# The recipe a bare `--method X` starts from, so each network gets settings that suit it.
METHOD_DEFAULTS = {"harmonic": "harmonic", "random-cnn": "random-cnn", "cnn2d": "cnn2d", "vgg19": "vgg19",
                   "resnet50": "resnet50", "vit": "vit", "nsynth": "boemer2019"}


def config(name="default", **overrides):
    """The TransferConfig of a preset, with `overrides` applied on top.

    With the default preset, a `method` override starts from that method's own recipe
    (METHOD_DEFAULTS): `config(method="nsynth")` is boemer2019's settings.
    """
    if name not in PRESETS:
        raise TfstyleError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)} "
                           "(see 'tfstyle presets')")
    if name == "default" and overrides.get("method") in METHOD_DEFAULTS:
        name = METHOD_DEFAULTS[overrides["method"]]
    return _without_prior(dataclasses.replace(TransferConfig(), **{**PRESETS[name].settings,
                                                                   **overrides}), overrides)


def _without_prior(settings, by_hand):
    """`--start scratch` leaves the timbre prior out, its learned loudness mapping too: a
    recipe's "learned" becomes "offset" (the content's own contour) unless `by_hand` (the
    settings given by hand) chose it."""
    if (settings.start == "scratch" and settings.loudness == "learned"
            and "loudness" not in by_hand):
        return dataclasses.replace(settings, loudness="offset")
    return settings


def with_method(settings, method):
    """The TransferConfig `settings` made into `method`'s recipe (for the method "auto" once it
    is resolved): the fields still at the default preset's values take the method's preset
    values, the ones set by hand are kept."""
    default, recipe = config("default"), config("default", method=method)
    changes = {f.name: getattr(recipe, f.name) for f in dataclasses.fields(TransferConfig)
               if getattr(settings, f.name) == getattr(default, f.name)}
    by_hand = {f.name for f in dataclasses.fields(TransferConfig)} - set(changes)
    return _without_prior(dataclasses.replace(settings, **{**changes, "method": method}),
                          by_hand).validate()
