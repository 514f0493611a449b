"""Where the 16 kHz vocoder's remaining mel distance lies, and what does not remove it: the
log-mel error (tfstyle.metrics' 64 bands, level offset removed) below and above 370 Hz of the
phase-vocoder prior's parts swapped for the clip's own, and of variants of it.

    python bench/vocoder_phase.py [--kinds unseen_instruments,other_generator]
    python bench/vocoder_phase.py --relations 15     # the experiment below, 15 min of training

Needs `python bench/train_vocoder.py data` (the held-out clips) and the run
`runs/vocoder_istft` (or `--run`). The prior's variants are computed here in NumPy, outside
the network, from the same layers (`MelMagnitudePrior`, `MelPeakFrequency`) and the same
locking rule as `ISTFTHead`; the "prior, rebuilt here" row checks that against the network's
own output with its trained layers zeroed ("prior only, the network's").

`--relations MINUTES` tries one answer: a layer that sees, over 3 frames, how each bin's summed
and locked phase stands to its neighbour's (cos and sin of the difference of the frame-centred
phases) beside the network's last features, and adds a phase correction (zero at the start).
It is trained for MINUTES with the vocoder's own spectral losses (MR-STFT + mel weight × mel
L1, no discriminator), the trained network frozen, then scored beside the vocoder on whole
held-out clips of all three kinds.
"""
import argparse
import os
import sys

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import table, write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HELD_OUT = os.path.join(ROOT, "runs", "vocoder_data", "held_out")
LOW_HZ = 370.0


def hann_lobe(offset):
    """A periodic Hann window's spectrum at `offset` bins from a sinusoid (1 at 0)."""
    return np.sinc(offset) + 0.5 * np.sinc(offset - 1) + 0.5 * np.sinc(offset + 1)


class Prior:
    """The phase-vocoder prior of a vocoder run at n_fft = ratio · hop, with its parts
    replaceable."""

    def __init__(self, vocoder):
        self.vocoder, self.config = vocoder, vocoder.config
        self.front_end = vocoder.generator.front_end
        self.hop = self.config.hop_length

    def parts(self, mel, ratio=4, reach=2.0):
        """(magnitude [frames, bins], the frequency each bin follows in bins, n_fft)."""
        from tfstyle.converters.vocoder.generator import MelMagnitudePrior, MelPeakFrequency

        n_fft = ratio * self.hop
        magnitude = np.exp(MelMagnitudePrior(self.front_end, n_fft // 4, 32)(mel[None])[0])
        frequency = MelPeakFrequency(self.front_end, n_fft // 4, reach=reach)(mel[None])[0]
        return magnitude, np.asarray(frequency), n_fft

    def phase(self, frequency, n_fft, follow=None, locked=True):
        """Each bin's frequency summed over frames; locked: the phase of the bin nearest to
        the partial it follows (`follow`, default `frequency`), less π per bin."""
        bins = frequency.shape[1]
        k = np.arange(bins)
        advance = 2 * np.pi * frequency * self.hop / n_fft
        summed = np.cumsum(advance, axis=0) - advance
        if not locked:
            return summed
        nearest = np.clip(np.round(frequency if follow is None else follow), 0,
                          bins - 1).astype(int)
        return np.take_along_axis(summed, nearest, axis=1) - np.pi * (k[None] - nearest)

    def peaks(self, mel, n_fft):
        """Per frame, the mel's partials in bins of n_fft (`MelPeakFrequency.partials`)."""
        from tfstyle.converters.vocoder.generator import MelPeakFrequency

        layer = MelPeakFrequency(self.front_end, n_fft // 4)
        return [p[p < layer.FAR] for p in np.asarray(layer.partials(mel[None])[0])]

    def lobes(self, mel, magnitude, phase, n_fft):
        """Each frame as the spectrum of stationary sinusoids at the mel's partials (a Hann
        main lobe each, amplitudes by non-negative least squares on the magnitude), which is
        consistent from frame to frame, where a partial's lobe reaches; the prior elsewhere."""
        bins = magnitude.shape[1]
        k = np.arange(bins)
        spectrum = magnitude * np.exp(1j * phase)
        for t, partials in enumerate(self.peaks(mel, n_fft)):
            partials = partials[partials < bins - 2]
            if not len(partials):
                continue
            offset = k[:, None] - partials[None, :]
            lobe = np.where(np.abs(offset) < 2, hann_lobe(offset), 0.0)
            power, target = lobe ** 2, magnitude[t] ** 2
            nearest = np.round(partials).astype(int)
            amplitude = target[nearest].copy()
            for _ in range(30):
                amplitude *= (power.T @ target) / (power.T @ (power @ amplitude) + 1e-20)
            turn = phase[t, nearest] + np.pi * nearest
            sum_ = (lobe * (np.sqrt(amplitude) * np.exp(1j * turn))[None]).sum(1)
            spectrum[t] = np.where(lobe.max(1) > 0, sum_ * np.exp(-1j * np.pi * k), spectrum[t])
        return spectrum

    def sound(self, spectrum, n_fft, length):
        from tfstyle import spectral

        return spectral.istft(spectrum.astype(np.complex64), hop_length=self.hop, n_fft=n_fft,
                              length=length).numpy()


def variants(prior, y, mel):
    """{name: waveform} for one clip."""
    import scipy.ndimage
    import tensorflow as tf

    from tfstyle import phase as phase_
    from tfstyle import spectral
    from tfstyle.converters.melgan_vc import frontend

    n, cfg, generator = len(y), prior.config, prior.vocoder.generator
    magnitude, frequency, n_fft = prior.parts(mel)
    clip = spectral.stft(tf.constant(y[None]), n_fft, prior.hop)[0].numpy()[:len(mel)]
    locked = prior.phase(frequency, n_fft)
    # The clip's instantaneous frequency per bin, from its phase difference to the next frame.
    k = np.arange(frequency.shape[1])
    turn = np.angle(clip[1:]) - np.angle(clip[:-1]) - 2 * np.pi * k * prior.hop / n_fft
    instantaneous = k + ((turn + np.pi) % (2 * np.pi) - np.pi) * n_fft / (2 * np.pi * prior.hop)
    instantaneous = np.concatenate([instantaneous, instantaneous[-1:]])
    layers = [generator.get_layer(name) for name in ("log_magnitude", "phase")]
    trained = [layer.get_weights() for layer in layers]
    for layer, weights in zip(layers, trained):
        layer.set_weights([np.zeros_like(w) for w in weights])
    try:
        untrained = prior.vocoder.vocode(mel, n)
    finally:
        for layer, weights in zip(layers, trained):
            layer.set_weights(weights)
    vocoded = np.asarray(prior.vocoder.vocode(mel, n), np.float32)
    outputs = {
        "Griffin-Lim, 200 iterations": frontend.mel_to_audio(mel, cfg, n, n_iter=200).numpy(),
        "the trained vocoder (vocoder-16k)": vocoded,
        "prior only, the network's (trained layers zeroed)": untrained,
        "prior, rebuilt here": prior.sound(magnitude * np.exp(1j * locked), n_fft, n),
        "the clip's magnitude, the prior's phase": prior.sound(
            np.abs(clip) * np.exp(1j * locked), n_fft, n),
        "the prior's magnitude, the clip's phase": prior.sound(
            magnitude * np.exp(1j * np.angle(clip)), n_fft, n),
    }
    for reach in (4.0, 10.0):
        m, f, size = prior.parts(mel, reach=reach)
        outputs[f"bins follow partials up to {reach:g} bins away (2)"] = prior.sound(
            m * np.exp(1j * prior.phase(f, size)), size, n)
    for ratio in (6, 8):
        m, f, size = prior.parts(mel, ratio=ratio)
        outputs[f"n_fft {size} (768)"] = prior.sound(m * np.exp(1j * prior.phase(f, size)),
                                                     size, n)
    smoothed = scipy.ndimage.median_filter(frequency, size=(5, 1), mode="nearest")
    outputs["frequencies median-filtered over 5 frames"] = prior.sound(
        magnitude * np.exp(1j * prior.phase(smoothed, n_fft)), n_fft, n)
    outputs["the clip's instantaneous frequencies, locked to the mel's partials"] = prior.sound(
        magnitude * np.exp(1j * prior.phase(instantaneous, n_fft, follow=frequency)), n_fft, n)
    outputs["sinusoids' main lobes summed (a consistent spectrum)"] = prior.sound(
        prior.lobes(mel, magnitude, locked, n_fft), n_fft, n)
    start = tf.math.angle(spectral.stft(tf.constant(vocoded[None]), cfg.n_fft,
                                        prior.hop)[0])
    target = frontend.linear_magnitude(mel, cfg)
    frames = min(int(start.shape[0]), int(target.shape[0]))
    outputs["the vocoder, then Griffin-Lim 32 towards the mel's magnitude"] = \
        phase_.griffin_lim(target[:frames], n_iter=32, hop_length=prior.hop, n_fft=cfg.n_fft,
                           length=n, init=start[:frames]).numpy()
    return outputs


def relations(vocoder, minutes):
    """The --relations experiment: {kind: {name: (mel distance, below LOW_HZ, MR-STFT)}}."""
    import time

    import keras
    import librosa
    import tensorflow as tf
    from keras import ops

    from tfstyle import metrics
    from tfstyle.converters.melgan_vc.frontend import normalized_mel
    from tfstyle.converters.vocoder.data import training_pipeline
    from tfstyle.domains import load_domain
    from tfstyle.dsp.spectral_loss import multi_resolution_stft_loss

    cfg, generator = vocoder.config, vocoder.generator
    head, bins = generator.get_layer("waveform"), generator.bins
    parts = keras.Model(generator.input, [generator.get_layer("post_act").output,
                                          generator.get_layer("magnitude").output,
                                          generator.get_layer("phase").output,
                                          generator._frequency])
    parts.trainable = False

    def locked_and_relations(frequency):
        locked = head.lock(frequency, head.integrated_phase(frequency))
        t = ops.arange(ops.shape(locked)[1])[:, None]
        k = ops.arange(bins)[None, :]
        centred = locked + ops.cast(ops.mod(t * k, 4), "float32") * (np.pi / 2) \
            + np.pi * ops.cast(k, "float32")
        step = centred[..., 1:] - centred[..., :-1]
        return locked, ops.concatenate([ops.cos(step), ops.sin(step)], -1)

    mel = keras.Input((None, cfg.n_mels))
    features, magnitude, phase, frequency = parts(mel)
    locked, related = keras.layers.Lambda(lambda f: locked_and_relations(f))(frequency)
    h = keras.layers.Conv1D(256, 3, padding="same", name="relations_in")(
        keras.layers.Concatenate()([features, related]))
    correction = keras.layers.Conv1D(bins, 1, kernel_initializer="zeros",
                                     name="relations_out")(keras.layers.LeakyReLU(0.2)(h))
    audio = keras.layers.Lambda(lambda a: head.synthesise(a[0], a[1] + a[2] + a[3]))(
        [magnitude, phase, correction, locked])
    model = keras.Model(mel, audio)
    variables = [w for w in model.trainable_variables if "relations_" in w.path]
    batches = iter(training_pipeline(load_domain(os.path.join(ROOT, "runs", "vocoder_data",
                                                              "train"), cfg), cfg, seed=3))
    optimizer = keras.optimizers.Adam(5e-4, beta_1=0.8, beta_2=0.99)

    @tf.function
    def step(m, a):
        with tf.GradientTape() as tape:
            fake = model(m, training=True)
            stft = multi_resolution_stft_loss(a, fake)[0]
            loss = stft + cfg.mel_weight * tf.reduce_mean(
                tf.abs(normalized_mel(a, cfg) - normalized_mel(fake, cfg)))
        optimizer.apply(tape.gradient(loss, variables), variables)
        return stft

    start, steps = time.time(), 0
    while time.time() - start < minutes * 60:
        step(*next(batches))
        steps += 1
    sr = cfg.sr
    low = librosa.mel_frequencies(metrics.N_MELS + 2, fmax=sr / 2)[1:-1] < LOW_HZ
    scores = {}
    for kind in sorted(os.listdir(HELD_OUT)):
        for name in sorted(os.listdir(os.path.join(HELD_OUT, kind))):
            y = sf.read(os.path.join(HELD_OUT, kind, name), dtype="float32")[0]
            m = normalized_mel(y, cfg)[None]
            for label, net in (("the trained vocoder", generator),
                               (f"with the phase relations ({steps} steps)", model)):
                out = np.asarray(net(m)[0], np.float32)[:len(y)]
                ref = y[:len(out)]
                diff = metrics.log_mel(out, sr) - metrics.log_mel(ref, sr)
                diff -= diff.mean()
                scores.setdefault(kind, {}).setdefault(label, []).append(
                    (np.sqrt(np.mean(diff ** 2)), np.sqrt(np.mean(diff[low] ** 2)),
                     float(multi_resolution_stft_loss(ref[None], out[None])[0])))
    return scores, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="unseen_instruments,other_generator")
    parser.add_argument("--run", default=os.path.join(ROOT, "runs", "vocoder_istft"))
    parser.add_argument("--relations", type=float, metavar="MINUTES",
                        help="the phase-relations experiment instead (see above)")
    args = parser.parse_args()
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    import librosa

    from tfstyle import metrics
    from tfstyle.converters.api import load_converter
    from tfstyle.converters.melgan_vc import frontend

    vocoder = load_converter(args.run)
    if args.relations:
        scores, steps = relations(vocoder, args.relations)
        rows = [[kind.replace("_", " "), label] + [f"{v:.3f}" if i == 2 else f"{v:.2f}"
                                                    for i, v in enumerate(np.mean(r, axis=0))]
                for kind, by_label in scores.items() for label, r in by_label.items()]
        body = (f"A layer that sees the summed phase's relations between neighbouring bins "
                f"(see the script's help), trained {args.relations:g} min ({steps} steps of "
                f"8 segments) on the frozen vocoder-16k with its spectral losses; whole "
                f"held-out clips (8 per kind), dB and MR-STFT distance as in the vocoder's "
                f"sections.\n\n")
        body += table(["held-out kind", "vocoder", "mel distance", f"below {LOW_HZ:g} Hz",
                       "MR-STFT"], rows)
        write_section("vocoder_phase_relations", "The vocoder's phase corrected from its "
                      "neighbours' (an experiment)", body)
        return
    prior = Prior(vocoder)
    sr = vocoder.config.sr
    centres = librosa.mel_frequencies(metrics.N_MELS + 2, fmax=sr / 2)[1:-1]
    low = centres < LOW_HZ
    kinds = args.kinds.split(",")
    scores = {}
    for kind in kinds:
        folder = os.path.join(HELD_OUT, kind)
        for name in sorted(os.listdir(folder)):
            y = sf.read(os.path.join(folder, name), dtype="float32")[0]
            mel = frontend.normalized_mel(y, vocoder.config).numpy()
            reference = metrics.log_mel(y, sr)
            for variant, out in variants(prior, y, mel).items():
                diff = metrics.log_mel(np.asarray(out, np.float32)[:len(y)], sr) - reference
                diff -= diff.mean()
                rms = [np.sqrt(np.mean(np.square(d))) for d in (diff, diff[low], diff[~low])]
                scores.setdefault(variant, {}).setdefault(kind, []).append(rms)
            print(kind, name, flush=True)
    rows = [[variant] + [" / ".join(f"{v:.2f}" for v in np.mean(by_kind[kind], axis=0))
                         for kind in kinds] for variant, by_kind in scores.items()]
    body = (f"The vocoder's mel (16 kHz, 192 bands) of each held-out clip, back to sound by the "
            f"variant named; the log-mel error against the clip, in dB: all bands / the "
            f"{int(low.sum())} bands below {LOW_HZ:g} Hz / the {int((~low).sum())} above "
            f"(RMS, the level offset removed, mean over the clips; 8 clips per kind). The "
            f"prior's variants are untrained: compare them with \"prior, rebuilt here\". A "
            f"number in brackets is the default it replaces.\n\n")
    body += table(["variant"] + [k.replace("_", " ") for k in kinds], rows)
    write_section("vocoder_phase", "The vocoder below 370 Hz: magnitude or phase", body)


if __name__ == "__main__":
    main()
