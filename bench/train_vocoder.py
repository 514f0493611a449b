"""Trains, measures and ships the WaveNet vocoder for MelGAN-VC's mel (16 kHz, hop 192,
192 bands: the `wavenet-16k` preset of `tfstyle fit --model vocoder`).

    python bench/train_vocoder.py data               # training and held-out audio (kept)
    python bench/train_vocoder.py train --minutes 60 # resumable: run again to go on
    python bench/train_vocoder.py measure            # resynthesis against Griffin-Lim

Training audio: the timbre prior's renderings (bench/train_prior.py: 59 General MIDI programs,
two melody generators, the FluidR3 and MuseScore soundfonts; 4 s clips), resampled to 16 kHz;
what is not there yet is rendered. Held out, never trained on, 8 clips of 4 s per kind:
"unseen instruments" (the prior's held-out programs: cello, saxophone, French horn, oboe,
marimba; FluidR3), "unseen soundfont" (training programs on TimGM6mb) and "other generator"
(training programs, bench/pairs.py's chord-tone melodies, FluidR3).

`measure` vocodes each held-out clip's normalised mel and inverts it with MelGAN-VC's fast
Griffin-Lim at 32 and 200 iterations, and scores each against the clip: mel distance
(tfstyle.metrics) and multi-resolution STFT distance (Parallel WaveGAN's loss); speed is
seconds of audio per second on a 30 s clip, each method timed in this process.
"""
import argparse
import os
import sys
import time

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import table, write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "runs", "vocoder")
DATA = os.path.join(ROOT, "runs", "vocoder_data")
PRIOR_DATA = os.path.join(ROOT, "runs", "prior", "data")
SR, SECONDS, HELD_CLIPS = 16000, 4.0, 8
HELDOUT_FONT = "/usr/share/sounds/sf2/TimGM6mb.sf2"
FLUID = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
# Training programs rendered for the "unseen soundfont" and "other generator" kinds.
KNOWN = ("violin", "flute", "trumpet", "nylon guitar", "clarinet", "piano", "tenor sax",
         "choir aahs")


def make_data(seed=5):
    import librosa
    import train_prior
    from pairs import other_melody

    from tfstyle import synth

    train = os.path.join(DATA, "train")
    os.makedirs(train, exist_ok=True)
    train_prior.render_all(PRIOR_DATA, train_prior.TRAIN, seed=0)
    for name in train_prior.TRAIN:
        slug = train_prior._slug(name)
        if os.path.exists(os.path.join(train, f"{slug}_0.wav")):
            continue
        with np.load(os.path.join(PRIOR_DATA, f"{slug}.npz")) as saved:
            clips = librosa.resample(saved["clips"], orig_sr=train_prior.SR, target_sr=SR)
        for i, clip in enumerate(clips):
            sf.write(os.path.join(train, f"{slug}_{i}.wav"), clip, SR, subtype="FLOAT")
    kinds = {"unseen instruments": [(name, FLUID, "varied")
                                    for name in train_prior.HELD_OUT],
             "unseen soundfont": [(name, HELDOUT_FONT, "varied") for name in KNOWN],
             "other generator": [(name, FLUID, "other") for name in KNOWN]}
    programs = {**train_prior.TRAIN, **train_prior.HELD_OUT}
    for kind, entries in kinds.items():
        folder = os.path.join(DATA, "held_out", kind.replace(" ", "_"))
        if os.path.isdir(folder) and len(os.listdir(folder)) >= HELD_CLIPS:
            continue
        os.makedirs(folder, exist_ok=True)
        rng = np.random.default_rng([seed, len(kind)])
        for i in range(HELD_CLIPS):
            name, font, generator = entries[i % len(entries)]
            program, low, high = programs[name]
            make = other_melody if generator == "other" else synth.varied_melody
            clip = synth.render([make(rng, SECONDS, low, high)], program, SR, SECONDS,
                                soundfont=font)[0]
            sf.write(os.path.join(folder, f"{i}_{train_prior._slug(name)}.wav"), clip, SR,
                     subtype="FLOAT")
    print(f"{len(os.listdir(train))} training clips in {train}", file=sys.stderr)


def train(minutes, learning_rate=None, adversarial_start=None):
    from tfstyle.converters.api import fit

    settings = {} if learning_rate is None else {"learning_rate": learning_rate}
    if adversarial_start is not None:
        settings["adversarial_start"] = adversarial_start
    from tfstyle.converters.run import Run

    before = Run(RUN).latest_step() if Run(RUN).exists() else 0
    start = time.time()
    reached = fit(b=os.path.join(DATA, "train"), run_dir=RUN, model="vocoder",
                  preset="wavenet-16k", max_minutes=minutes, checkpoint_every=250,
                  progress=True, log=sys.stderr, **settings)
    # What each stretch did, for the model card.
    config, _ = Run(RUN).load_config()
    with open(os.path.join(RUN, "sessions.txt"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M')} {(time.time() - start) / 60:.0f} min, "
                f"steps {before} to {reached}, lr {config.learning_rate}, adversarial from "
                f"step {config.adversarial_start}, mel weight {config.mel_weight}\n")
    return reached


def held_out():
    folder = os.path.join(DATA, "held_out")
    return {kind.replace("_", " "): [sf.read(os.path.join(folder, kind, f), dtype="float32")[0]
                                     for f in sorted(os.listdir(os.path.join(folder, kind)))]
            for kind in sorted(os.listdir(folder))}


def measure(run=RUN):
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    from tfstyle import metrics
    from tfstyle.converters.api import load_converter
    from tfstyle.converters.melgan_vc import frontend
    from tfstyle.dsp.spectral_loss import multi_resolution_stft_loss

    vocoder = load_converter(run)
    config = vocoder.config
    methods = {"Griffin-Lim, 32 iterations": lambda mel, n: frontend.mel_to_audio(
                   mel, config, n, n_iter=32).numpy(),
               "Griffin-Lim, 200 iterations": lambda mel, n: frontend.mel_to_audio(
                   mel, config, n, n_iter=200).numpy(),
               "WaveNet vocoder": lambda mel, n: vocoder.vocode(mel.numpy(), n)}
    rows = []
    for kind, clips in held_out().items():
        scores = {name: ([], []) for name in methods}
        for y in clips:
            mel = frontend.normalized_mel(y, config)
            for name, method in methods.items():
                out = np.asarray(method(mel, len(y)), np.float32)
                scores[name][0].append(metrics.mel_distance(out, y, SR))
                scores[name][1].append(float(multi_resolution_stft_loss(y[None], out[None])[0]))
        for name, (mel_d, stft_d) in scores.items():
            rows.append([kind, name, f"{np.mean(mel_d):.2f}", f"{np.mean(stft_d):.3f}"])
    long = np.concatenate([y for clips in held_out().values() for y in clips])[:30 * SR]
    mel = frontend.normalized_mel(long, config)
    speed = []
    for name, method in methods.items():
        method(mel[:50], 49 * config.hop_length)          # traced outside the timing
        start = time.perf_counter()
        method(mel, len(long))
        speed.append([name, f"{len(long) / SR / (time.perf_counter() - start):.1f}x"])
    return rows, speed, vocoder


def report(rows, speed, vocoder):
    from tfstyle.converters.run import Run

    net = vocoder.generator
    step = Run(RUN).latest_step()
    body = (f"The run `{os.path.relpath(RUN, ROOT)}` at step {step}: "
            f"{net.count_params() / 1e6:.2f} M parameters, a receptive field of "
            f"{net.receptive_field()} frames each side. Each held-out clip's normalised mel "
            "(MelGAN-VC's front end) back to sound; distances to the clip (lower is "
            "better): mel distance (tfstyle.metrics) and the multi-resolution STFT distance "
            "(Parallel WaveGAN's loss).\n\n"
            + table(["held-out kind", "inversion", "mel distance", "MR-STFT distance"], rows)
            + "\n\nSpeed on 30 s of held-out audio, in seconds of audio per second:\n\n"
            + table(["inversion", "speed"], speed))
    sessions = os.path.join(RUN, "sessions.txt")
    if os.path.exists(sessions):
        body += "\n\nThe run's training so far (`runs/vocoder/sessions.txt`):\n\n" + "\n".join(
            f"- {line}" for line in open(sessions).read().strip().splitlines())
    write_section("vocoder", "WaveNet vocoder against Griffin-Lim (resynthesis)", body)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("data", "train", "measure"))
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--adversarial-start", type=int, default=None,
                        help="the step at which the discriminator joins (default: the run's)")
    args = parser.parse_args(argv)
    if args.stage == "data":
        make_data()
    elif args.stage == "train":
        make_data()
        train(args.minutes, args.learning_rate, args.adversarial_start)
    else:
        report(*measure())


if __name__ == "__main__":
    main()
