"""Trains, measures and ships the vocoders: `--preset istft-16k` (the default) for MelGAN-VC's
reference mel (16 kHz, hop 192, 192 bands) and `--preset istft-22k` for the music-22k preset's
(22.05 kHz, n_fft 1024: the shipped piano-violin, and the transfer presets' mel at the default
--sr), each with its own run and data under runs/; `wavenet-16k` and `wavenet-22k` are the
first design (stages up to the sample rate), kept for comparison.

    python bench/train_vocoder.py data                    # training and held-out audio (kept)
    python bench/train_vocoder.py train --minutes 60      # resumable: run again to go on
    python bench/train_vocoder.py train --preset istft-22k --init-from runs/vocoder_istft
    python bench/train_vocoder.py measure [--preset P]    # resynthesis against Griffin-Lim
    python bench/train_vocoder.py package [--preset P]    # measure, then ship it (istft-*)
    python bench/train_vocoder.py memory --preset istft-22k   # piano-violin, 5 s to 20 min

Training audio: the timbre prior's renderings (bench/train_prior.py: 59 General MIDI programs,
two melody generators, the FluidR3 and MuseScore soundfonts; 4 s clips at 22.05 kHz),
resampled to the preset's rate; what is not there yet is rendered. Held out, never trained
on, 8 clips of 4 s per kind: "unseen instruments" (the prior's held-out programs: cello,
saxophone, French horn, oboe, marimba; FluidR3), "unseen soundfont" (training programs on
TimGM6mb) and "other generator" (training programs, bench/pairs.py's chord-tone melodies,
FluidR3).

`measure` vocodes each held-out clip's normalised mel and inverts it with MelGAN-VC's fast
Griffin-Lim at 32 and 200 iterations, and scores each against the clip: mel distance
(tfstyle.metrics) and multi-resolution STFT distance (Parallel WaveGAN's loss); speed is
seconds of audio per second on a 30 s clip, each method timed in this process. A last row,
the clip's own phase with the mel's magnitude (the pseudo-inverse Griffin-Lim starts from),
shows how near the truth any inversion that keeps that magnitude can come.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import table, write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRIOR_DATA = os.path.join(ROOT, "runs", "prior", "data")
SECONDS, HELD_CLIPS = 4.0, 8
# Each preset's run, data folder and rate: *-16k for MelGAN-VC's reference front end, *-22k
# for the music-22k one (the shipped piano-violin) and the transfer presets' mel at the
# default --sr.
PRESETS = {"wavenet-16k": ("vocoder", "vocoder_data", 16000),
           "wavenet-22k": ("vocoder22k", "vocoder_data_22k", 22050),
           "istft-16k": ("vocoder_istft", "vocoder_data", 16000),
           "istft-22k": ("vocoder_istft22k", "vocoder_data_22k", 22050)}
PRESET = "istft-16k"
RUN, DATA, SR = None, None, None


def use(preset):
    global PRESET, RUN, DATA, SR
    run, data, SR = PRESETS[preset]
    PRESET, RUN, DATA = preset, os.path.join(ROOT, "runs", run), os.path.join(ROOT, "runs", data)


use(PRESET)
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
            clips = saved["clips"]
        if SR != train_prior.SR:
            clips = librosa.resample(clips, orig_sr=train_prior.SR, target_sr=SR)
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


def train(minutes, init_from=None, **changed):
    """`changed`: settings of the run to change (None: the run's own)."""
    from tfstyle.converters.api import fit

    settings = {name: value for name, value in changed.items() if value is not None}
    if init_from:
        settings["init_from"] = init_from
    from tfstyle.converters.run import Run

    before = Run(RUN).latest_step() if Run(RUN).exists() else 0
    start = time.time()
    try:
        fit(b=os.path.join(DATA, "train"), run_dir=RUN, model="vocoder", preset=PRESET,
            max_minutes=minutes, checkpoint_every=250, progress=True, log=sys.stderr,
            **settings)
    finally:
        # What each stretch did, for the model card; a stretch stopped by a signal too.
        reached = Run(RUN).latest_step()
        config, _ = Run(RUN).load_config()
        adversarial = (f"adversarial from step {config.adversarial_start}"
                       if config.adversarial_start < reached else "no adversarial losses")
        with open(os.path.join(RUN, "sessions.txt"), "a") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(start))} "
                    f"{(time.time() - start) / 60:.0f} min, steps {before} to {reached}, lr "
                    f"{config.learning_rate}, {adversarial}, mel weight {config.mel_weight}, "
                    f"log-mel weight {config.log_mel_weight}\n")
    return reached


def held_out():
    """{kind: [clips at SR]}: the three held-out kinds, and speech (the bundled example, the
    only speech at hand: the vocoder heard none)."""
    from tfstyle import audio

    folder = os.path.join(DATA, "held_out")
    kinds = {kind.replace("_", " "): [sf.read(os.path.join(folder, kind, f), dtype="float32")[0]
                                      for f in sorted(os.listdir(os.path.join(folder, kind)))]
             for kind in sorted(os.listdir(folder))}
    kinds["speech (examples/speech.wav)"] = [audio.load(os.path.join(ROOT, "examples",
                                                                     "speech.wav"), SR)]
    return kinds


def measure(run=None):
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    from tfstyle import metrics
    from tfstyle.converters.api import load_converter
    from tfstyle.converters.melgan_vc import frontend
    from tfstyle.dsp.spectral_loss import multi_resolution_stft_loss

    vocoder = load_converter(run or RUN)
    config = vocoder.config
    methods = {"Griffin-Lim, 32 iterations": lambda mel, n: frontend.mel_to_audio(
                   mel, config, n, n_iter=32).numpy(),
               "Griffin-Lim, 200 iterations": lambda mel, n: frontend.mel_to_audio(
                   mel, config, n, n_iter=200).numpy(),
               "WaveNet vocoder": lambda mel, n: vocoder.vocode(mel.numpy(), n)}
    if getattr(vocoder.generator, "correction", 0):
        # The same network without the correction onto the mel (--correction 0; the waveform
        # head has none).
        import dataclasses

        from tfstyle.converters.vocoder import generator, synthesis

        raw = generator.build(dataclasses.replace(config, correction=0))
        raw.set_weights(vocoder.generator.get_weights())
        methods[UNCORRECTED] = lambda mel, n: synthesis.vocode(raw, mel.numpy(), n)
    oracle = ("the clip's own phase with the mel's magnitude (the best that Griffin-Lim or any "
              "inversion of that magnitude can reach)")
    rows = []
    for kind, clips in held_out().items():
        scores = {name: ([], []) for name in [*methods, oracle]}
        for y in clips:
            mel = frontend.normalized_mel(y, config)
            for name in scores:
                out = (own_phase(y, mel, config) if name == oracle else
                       np.asarray(methods[name](mel, len(y)), np.float32))
                scores[name][0].append(metrics.mel_distance(out, y, SR))
                scores[name][1].append(float(multi_resolution_stft_loss(y[None], out[None])[0]))
        for name, (mel_d, stft_d) in scores.items():
            rows.append([kind, name, f"{np.mean(mel_d):.2f}", f"{np.mean(stft_d):.3f}"])
            SCORES.setdefault(kind, {})[name] = (float(np.mean(mel_d)), float(np.mean(stft_d)))
    long = np.concatenate([y for kind, clips in held_out().items() for y in clips
                           if not kind.startswith("speech")])[:30 * SR]
    mel = frontend.normalized_mel(long, config)
    speed = []
    for name, method in methods.items():
        method(mel[:50], 49 * config.hop_length)          # traced outside the timing
        start = time.perf_counter()
        method(mel, len(long))
        speed.append([name, f"{len(long) / SR / (time.perf_counter() - start):.1f}x"])
    return rows, speed, vocoder


# {held-out kind: {inversion: (mel distance, MR-STFT distance)}} of the last `measure`.
SCORES = {}
VOCODER, GL200 = "WaveNet vocoder", "Griffin-Lim, 200 iterations"
UNCORRECTED = "WaveNet vocoder without its correction onto the mel (--correction 0)"
# The shipped vocoder each preset trains (tfstyle.pretrained.MODELS).
SHIPPED = {"istft-16k": "vocoder-16k", "istft-22k": "vocoder-22k"}


def beats_griffin_lim():
    """{held-out kind of music: whether the vocoder is below Griffin-Lim-200 on both
    distances} (speech is reported, not judged: the vocoder heard none)."""
    return {kind: all(v < g for v, g in zip(methods[VOCODER], methods[GL200]))
            for kind, methods in SCORES.items() if not kind.startswith("speech")}


# What the network's magnitude and phase are added to (VocoderConfig.prior), for the card.
PRIORS = {"mel": "the mel's pseudo-inverse and each bin's centre-frequency turn",
          "phase-vocoder": "a phase vocoder's from the mel (its non-negative least-squares "
                           "magnitude; each of the mel's partials at its own frequency, "
                           "summed over frames, its bins' phases locked together)"}


def package(rows, speed, vocoder):
    """Writes the shipped vocoder of this preset (float16 weights, config.json with the scores
    and whether it is the default, MODEL_CARD.md) from the run's latest checkpoint."""
    from tfstyle import pretrained
    from tfstyle.converters.melgan_vc import frontend
    from tfstyle.converters.run import Run

    name = SHIPPED[PRESET]
    out = os.path.join(pretrained.HERE, pretrained.MODELS[name])
    verdict = beats_griffin_lim()
    default = all(verdict.values())
    step = Run(RUN).latest_step()
    sessions = open(os.path.join(RUN, "sessions.txt")).read().strip().splitlines()
    minutes = sum(float(line.split()[2]) for line in sessions)
    pretrained.package(vocoder, out, default=default, steps=step, train_minutes=minutes,
                       sessions=sessions, scores=SCORES, speed=dict(speed),
                       made=time.strftime("%Y-%m-%d"))
    # The float16 weights against the run's own, on a held-out clip.
    shipped = pretrained.load(name)
    y = next(iter(held_out().values()))[0]
    mel = frontend.normalized_mel(y, vocoder.config).numpy()
    a, b = vocoder.vocode(mel), shipped.vocode(mel)
    error = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))
    assert error < 1e-3, f"float16 weights moved the output by {error:.2g} of its peak"
    net, config = vocoder.generator, vocoder.config
    size = os.path.getsize(os.path.join(out, "vocoder.weights.npz"))
    judged = ", ".join(f"{kind}: {'below' if ok else 'not below'}"
                       for kind, ok in verdict.items())
    front = ("MelGAN-VC's reference front end (16 kHz, n_fft 1152, hop 192, 192 bands to "
             "8 kHz)" if config.sr == 16000 else "the music-22k front end (22.05 kHz, n_fft "
             "1024, hop 192, 192 bands to 11.025 kHz: the shipped piano-violin's, and the "
             "transfer presets' at the default --sr)")
    if config.init_from in pretrained.MODELS:
        # `prepare` keeps a shipped vocoder's WaveNet layers alone when its istft head differs
        # (--prior, --overlap): the shipped vocoder-16k the istft-16k run started from had the
        # "mel" prior.
        started = (f" The WaveNet layers started from the shipped {config.init_from}'s of the "
                   "time (the magnitude and phase layers from zero).")
    else:
        started = (f" Generator and discriminator started from the run "
                   f"`{config.init_from}`'s." if config.init_from else "")
    metric = ("\n  the benchmarks' log-mel distance (`--log-mel-weight`: in the sessions that "
              "name its weight)," if config.log_mel_weight else "")
    card = f"""# {name}: a mel-conditioned WaveNet vocoder ({config.sr} Hz, {config.n_mels} bands)

Turns the normalised mel of {front}
back into sound, instead of Griffin-Lim: `tfstyle convert --vocoder wavenet` (the default where
it measured better than Griffin-Lim: {"yes" if default else "no"}), `tfstyle transfer --vocoder
wavenet --sr {config.sr}`, `tfstyle export --vocoder wavenet`.

- **Architecture** (preset `{PRESET}` of `tfstyle fit --model vocoder`): WaveNet's gated,
  dilated, non-causal residual layers with the mel as local condition ({config.channels}
  channels, dilations {config.dilations}, kernel 3) at the frame rate, ending in per-frame STFT
  log-magnitude and phase, added to {PRIORS[config.prior]}, and an inverse STFT of n_fft
  {config.overlap * config.hop_length}; then {config.correction} passes that bring the output's
  band levels back onto the mel, keeping its phase (`--correction`, no weights):
  {net.count_params():,} parameters, a receptive field of {net.receptive_field()} frames each
  side, {size / 1e6:.1f} MB of float16 weights (output within {error:.1g} of the float32 run's
  peak).
- **Data**: the timbre prior's renderings (bench/train_prior.py: 54 General MIDI programs, two
  melody generators, FluidR3_GM and MuseScore_General; 1080 clips of 4 s, 72 min) at
  {config.sr} Hz. No speech.
- **Training**: multi-resolution STFT and mel L1 losses,{metric} the multi-scale discriminator's
  least-squares adversarial and feature-matching losses (from the step each session names);
  Adam; segments of {config.segment_frames} frames, batches of {config.batch_size}.{started}
  {step} steps in {minutes:.0f} min on 2 CPU cores:
{chr(10).join('  - ' + line for line in sessions)}
- **Retrain**: `python bench/train_vocoder.py train --preset {PRESET} --minutes M` (resumes),
  then `python bench/train_vocoder.py package --preset {PRESET}`.

## Scores

Held-out clips (never trained on) through their mel and back, against the clip (lower is
better): mel distance (dB, tfstyle.metrics) and the multi-resolution STFT distance.

{table(["held-out kind", "inversion", "mel distance", "MR-STFT distance"], rows)}

Below Griffin-Lim-200 on both distances: {judged}.

Speed on 30 s of held-out audio (2 CPU cores), seconds of audio per second:

{table(["inversion", "speed"], speed)}

{end_to_end() if config.sr == 22050 else ""}
## Limits

- Trained on rendered General MIDI instruments only: speech and real recordings were never
  heard (the speech row above is the bundled example).
- It inverts exactly its front end's mel; another rate, n_fft or band layout is refused.
"""
    with open(os.path.join(out, "MODEL_CARD.md"), "w") as f:
        f.write(card)
    print(f"wrote {out} ({size / 1e6:.1f} MB; default: {default})", file=sys.stderr)


def end_to_end():
    """The model card's section on piano-violin through the vocoder, from the results of
    `bench/compare_methods.py --held-out --pairs piano-violin --vocoder vocoder-22k` (kept in
    docs/compare_methods.json), or nothing before that has run."""
    import json

    store = os.path.join(ROOT, "docs", "compare_methods.json")
    grid = json.load(open(store)).get("held_out", {}) if os.path.exists(store) else {}
    rows = []
    for kind in ("test", "generator", "soundfont"):
        cell = lambda name: grid.get(f"{name}|piano-violin|{kind}")
        found = [cell(n) for n in ("identity", "envelope", "piano-violin",
                                   "piano-violin+vocoder")]
        if all(found):
            identity = found[0]["mel_distance"]
            rows.append([kind, *(f"{r['mel_distance'] / identity:.2f}× / "
                                 f"{r['chroma_correlation']:.2f}" for r in found[1:]),
                         found[3]["clips"]])
    if not rows:
        return ""
    return ("\n## End to end: piano-violin through it\n\nThe shipped `piano-violin` on held-out "
            "piano melodies (bench/compare_methods.py's kinds), mel distance to the true violin "
            "as a ratio to leaving the piano alone / chroma with the content:\n\n"
            + table(["data", "envelope baseline", "Griffin-Lim (the default)",
                     "this vocoder", "clips"], rows) + "\n")


def own_phase(y, mel, config):
    """The mel's magnitude (as Griffin-Lim takes it: the non-negative pseudo-inverse) with the
    clip's own STFT phase."""
    import tensorflow as tf

    from tfstyle import spectral
    from tfstyle.converters.melgan_vc import frontend

    stft = spectral.stft(y, config.n_fft, config.hop_length)
    magnitude = tf.cast(frontend.linear_magnitude(mel, config), tf.complex64)
    rotation = tf.exp(tf.complex(0.0, tf.math.angle(stft)))
    return spectral.istft(magnitude * rotation, config.hop_length, n_fft=config.n_fft,
                          length=len(y)).numpy()


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
        body += (f"\n\nThe run's training so far (`{os.path.relpath(sessions, ROOT)}`):\n\n"
                 + "\n".join(f"- {line}"
                             for line in open(sessions).read().strip().splitlines()))
    write_section(f"vocoder_{PRESET}",
                  f"WaveNet vocoder ({PRESET}) against Griffin-Lim (resynthesis)", body)


def memory(minutes=(1.0, 20.0)):
    """Peak RSS of conversions through the vocoder as the input grows: `tfstyle convert
    --model piano-violin --vocoder RUN` (Griffin-Lim beside it up to 1 min) and the LiteRT
    runner with the exported generator slice and vocoder, each a new process."""
    import tempfile

    from memory_vs_length import RUNNER, cases, measure

    if SR != 22050:
        raise SystemExit("memory converts with piano-violin (the music-22k front end): give "
                         "a 22.05 kHz --preset")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tflite = os.path.join(tmp, "tflite")
        subprocess.run([sys.executable, "-m", "tfstyle", "export", "--model", "piano-violin",
                        "--vocoder", RUN, "--format", "tflite", "--out", tflite, "--name",
                        "p2v"], check=True, cwd=ROOT)
        inputs = cases(tmp, minutes)
        out = os.path.join(tmp, "out.wav")
        commands = {
            "convert --model piano-violin --vocoder RUN": lambda src: [
                "-m", "tfstyle", "convert", "--model", "piano-violin", src, "-o", out,
                "--vocoder", RUN, "-q"],
            "convert --model piano-violin (Griffin-Lim)": lambda src: [
                "-m", "tfstyle", "convert", "--model", "piano-violin", src, "-o", out, "-q"],
            "tflite_runner.py --vocoder (export --model piano-violin --vocoder RUN)":
                lambda src: [RUNNER, os.path.join(tflite, "p2v_generator_none.tflite"), src, out,
                             "--vocoder", os.path.join(tflite, "p2v_vocoder_none.tflite")],
        }
        for command, make in commands.items():
            reference = None
            for name, path in inputs:
                if "Griffin-Lim" in command and sf.info(path).duration > 61:
                    continue      # its flat peak is in the memory_vs_length section already
                peak, _ = measure(make(path))
                reference = reference or peak
                rows.append([command, name, f"{peak:.2f}", f"{peak / reference:.2f}"])
                print(rows[-1], flush=True)
    body = ("The bundled piano melody repeated to each length; each command a new process, "
            f"with the vocoder run `{os.path.relpath(RUN, ROOT)}` (the runner: the float32 "
            "TFLite files of `tfstyle export --model piano-violin --vocoder RUN --format "
            "tflite`). Peak memory is the process's maximum resident set size.\n\n"
            + table(["command", "content", "peak RSS (GB)", "ratio to the 5 s run"], rows))
    write_section("vocoder_memory", "Memory of conversions through the vocoder", body)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=("data", "train", "measure", "package", "memory"))
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--adversarial-start", type=int, default=None,
                        help="the step at which the discriminator joins (default: the run's)")
    parser.add_argument("--preset", choices=list(PRESETS), default=PRESET,
                        help="which vocoder: its run, data and rate (default: %(default)s)")
    parser.add_argument("--mel-weight", type=float, default=None,
                        help="weight of the mel L1 loss (default: the run's)")
    parser.add_argument("--log-mel-weight", type=float, default=None,
                        help="weight of the benchmarks' log-mel distance as a loss (default: "
                             "the run's; runs from before it existed: 0)")
    parser.add_argument("--init-from", default=None, metavar="RUN",
                        help="a new run starts from this vocoder run's networks")
    args = parser.parse_args(argv)
    use(args.preset)
    if args.stage == "data":
        make_data()
    elif args.stage == "train":
        make_data()
        train(args.minutes, args.init_from, learning_rate=args.learning_rate,
              adversarial_start=args.adversarial_start, mel_weight=args.mel_weight,
              log_mel_weight=args.log_mel_weight)
    elif args.stage == "memory":
        memory()
    else:
        results = measure()
        report(*results)
        if args.stage == "package":
            package(*results)


if __name__ == "__main__":
    main()
