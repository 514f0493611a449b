"""Trains the timbre prior of one-shot harmonic transfer (`tfstyle.harmonic.prior`), in
resumable stretches, and packages it.

    python bench/train_prior.py --minutes 60            # data (once), then an hour of training
    python bench/train_prior.py --minutes 60            # again: resumes from the last checkpoint
    python bench/train_prior.py --no-train --package    # score the run, write the shipped prior
    python bench/train_prior.py --from-shipped --minutes 60  # a new run: from the shipped prior
    python bench/train_prior.py --from-shipped --freeze-encoder --minutes 60  # decoder only

1. renders the data once into RUN/data/: melodies of two generators (synth.random_melody and
   synth.varied_melody) on FluidR3_GM and MuseScore_General (the soundfonts the project
   trains on; TimGM6mb stays held out) for every TRAIN instrument, and the same for the
   HELD_OUT instruments, which training never sees;
2. analyses each clip's pitch and loudness (controls) and log-mel frames once, cached there;
3. trains with Adam on DDSP's multi-scale spectral loss: each row of a batch is a window of
   clip X of an instrument (one soundfont's), resynthesised from X's own controls and the
   embedding of a *different* clip of the same instrument and soundfont, cropped to 1-4 s,
   so the embedding must carry the timbre and cannot carry the melody. Checkpoints every few
   minutes and at the end (a killed run resumes from the last), TensorBoard scalars;
4. scores reconstruction from another clip's embedding on training and held-out instruments
   (mean mel distance to the clip, as a ratio to the embedding of the wrong instrument's);
5. --package writes tfstyle/pretrained/timbre_prior/ (weights, config.json, MODEL_CARD.md).
"""
import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

import pairs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SR, HOP, SECONDS = 22050, 256, 4.0
FONTS = {"fluidr3": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
         "musescore": "/usr/share/sounds/sf3/MuseScore_General.sf3"}
GENERATORS = ("random", "varied")
MELODIES = 5          # per instrument, soundfont and generator

# name: (General MIDI program, lowest and highest MIDI note played). Monophonic lines only;
# YIN reads 50 Hz-2 kHz, so no note below MIDI 32 or above 95.
TRAIN = {
    # bowed strings
    "violin": (40, 55, 88), "viola": (41, 48, 81), "contrabass": (43, 33, 55),
    "fiddle": (110, 55, 88), "tremolo strings": (44, 48, 84),
    # plucked strings
    "nylon guitar": (24, 40, 76), "steel guitar": (25, 40, 76), "jazz guitar": (26, 40, 76),
    "clean guitar": (27, 40, 76), "acoustic bass": (32, 33, 55), "fingered bass": (33, 33, 55),
    "pizzicato": (45, 36, 84), "harp": (46, 36, 91), "sitar": (104, 48, 77),
    "banjo": (105, 48, 79), "koto": (107, 48, 84),
    # woodwinds
    "piccolo": (72, 74, 95), "flute": (73, 60, 93), "recorder": (74, 60, 91),
    "shakuhachi": (77, 55, 84), "whistle": (78, 60, 91), "ocarina": (79, 60, 86),
    "english horn": (69, 52, 81), "bassoon": (70, 34, 72), "clarinet": (71, 50, 84),
    # reeds
    "soprano sax": (64, 56, 87), "tenor sax": (66, 44, 75), "baritone sax": (67, 36, 69),
    "harmonica": (22, 60, 84), "accordion": (21, 53, 89),
    # brass
    "trumpet": (56, 55, 82), "trombone": (57, 40, 72), "tuba": (58, 33, 58),
    "muted trumpet": (59, 55, 82),
    # voices
    "choir aahs": (52, 48, 79), "voice oohs": (53, 48, 79), "synth voice": (54, 48, 79),
    # mallets and bells
    "celesta": (8, 60, 95), "vibraphone": (11, 53, 89), "xylophone": (13, 65, 95),
    "tubular bells": (14, 60, 77),
    # synth leads and bass
    "square lead": (80, 48, 84), "sawtooth lead": (81, 48, 84), "calliope lead": (82, 48, 84),
    "chiff lead": (83, 48, 84), "charang lead": (84, 48, 84), "voice lead": (85, 48, 84),
    "synth bass": (38, 33, 60),
    # keyboards
    "piano": (0, 48, 84), "electric piano": (4, 48, 84), "harpsichord": (6, 48, 84),
    "clavinet": (7, 48, 84), "drawbar organ": (16, 48, 84), "church organ": (19, 48, 84),
}
# Never trained on: the unseen-instrument figures. Cello and saxophone are timbre_pairs
# instruments, so bench/compare_methods.py can pair them with any content.
HELD_OUT = {"cello": (42, 36, 67), "saxophone": (65, 49, 80), "french horn": (60, 41, 77),
            "oboe": (68, 58, 91), "marimba": (12, 45, 84)}

BATCH, WINDOW = 8, 128            # rows per step, frames per row (1.5 s)
STYLE_FRAMES = (86, 345)          # the embedded crop: 1-4 s
CHECKPOINT_MINUTES = 5


def _slug(name):
    return name.replace(" ", "_")


def render_all(folder, instruments, seed, melodies=MELODIES):
    """RUN/data/NAME.npz per instrument: clips [n, samples], and each clip's soundfont and
    generator (`melodies` per generator and soundfont; the first MELODIES are the same for
    any number); kept when already there."""
    from tfstyle import synth

    os.makedirs(folder, exist_ok=True)
    for name, (program, low, high) in instruments.items():
        path = os.path.join(folder, f"{_slug(name)}.npz")
        if os.path.exists(path):
            with np.load(path) as saved:
                held = len(saved["fonts"]) // (len(GENERATORS) * len(FONTS))
            if held != melodies:
                sys.exit(f"{folder} holds {held} melodies per instrument, generator and "
                         f"soundfont, not {melodies}: give another --run-dir")
            continue
        clips, fonts, generators = [], [], []
        for g, generator in enumerate(GENERATORS):
            make = {"random": synth.random_melody, "varied": synth.varied_melody}[generator]
            rng = np.random.default_rng([seed, program, g])
            tunes = [make(rng, SECONDS, low, high) for _ in range(melodies)]
            for font_name, font in FONTS.items():
                clips += synth.render(tunes, program, SR, SECONDS, soundfont=font)
                fonts += [font_name] * melodies
                generators += [generator] * melodies
        tmp = path + ".partial.npz"
        np.savez(tmp, clips=np.stack(clips).astype(np.float32), fonts=np.array(fonts),
                 generators=np.array(generators))
        os.replace(tmp, path)
        print(f"rendered {name}", file=sys.stderr, flush=True)


# The loudness mapping's data (--dynamics): the same melodies on several instruments, which the
# prior's own data (its melodies drawn per instrument) cannot give, so that how each
# instrument shapes another's notes can be learned. Many melodies, each played by a few
# instruments drawn for it: 16 melodies played by every instrument taught the mapping those
# melodies (3.2 dB from the truth's contour on them, 5.0 dB on held-out targets, and further
# than the content's own contour on every held-out kind of bench/compare_methods.py).
# Per generator, in DYNAMICS_RANGE, each instrument's copy moved by whole octaves into its
# range; a seed no other set uses.
DYNAMICS_MELODIES, DYNAMICS_RANGE, DYNAMICS_SEED = 160, (55, 79), 11
DYNAMICS_PLAYERS = 8       # instruments drawn per melody, training and held-out alike
DYNAMICS_CONTENTS = 6      # content instruments drawn per (target, melody, soundfont)
# The shipped mapping's fit (31.5 min on 2 cores), so that `--dynamics` alone remakes it: 32
# channels for 16,000 steps gave 0.680x identity on the development set, these 0.661x.
DYNAMICS_STEPS = 24000
DYNAMICS_WIDTH = 64        # channels of DynamicsModel's layers


def dynamics_players(instruments, melodies=DYNAMICS_MELODIES):
    """{instrument: [melody indices it plays]}: DYNAMICS_PLAYERS instruments per melody
    (`melodies` per generator)."""
    rng = np.random.default_rng([DYNAMICS_SEED, 1])
    names = list(instruments)
    played = {name: [] for name in names}
    for m in range(2 * melodies):
        for i in rng.choice(len(names), DYNAMICS_PLAYERS, replace=False):
            played[names[i]].append(m)
    return played


def render_dynamics(folder, instruments, melodies=DYNAMICS_MELODIES):
    """{instrument: {(soundfont index, melody index): Controls}} of the `melodies` melodies
    of each generator that `dynamics_players` gives each instrument, on each soundfont,
    rendered and analysed once into RUN/data/dynamics/."""
    import dataclasses

    from tfstyle import synth
    from tfstyle.converters.harmonic.data import FIELDS
    from tfstyle.harmonic import controls as ctl

    folder = os.path.join(folder, "dynamics")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(DYNAMICS_SEED)
    players = dynamics_players({**TRAIN, **HELD_OUT}, melodies)
    melodies = [make(rng, SECONDS, *DYNAMICS_RANGE) for make in (synth.random_melody,
                                                                 synth.varied_melody)
                for _ in range(melodies)]
    out = {}
    for name, (program, low, high) in instruments.items():
        path = os.path.join(folder, f"{_slug(name)}.{len(melodies)}-melodies."
                                    f"analysis-v{ctl.ANALYSIS_VERSION}.npz")
        if not os.path.exists(path):
            shift = 12 * round(((low + high) - sum(DYNAMICS_RANGE)) / 24)
            moved = [[dataclasses.replace(n, pitch=n.pitch + shift) for n in melodies[m]]
                     for m in players[name]]
            analysed = [ctl.analyse(clip, SR, HOP) for font in FONTS.values()
                        for clip in synth.render(moved, program, SR, SECONDS, soundfont=font)]
            tmp = path + ".partial.npz"
            np.savez(tmp, melodies=np.array(players[name]),
                     **{field: np.stack([getattr(c, field) for c in analysed])
                        for field in FIELDS})
            os.replace(tmp, path)
            print(f"rendered {name} for the loudness mapping", file=sys.stderr, flush=True)
        with np.load(path) as saved:
            # Each read of an NpzFile's member loads the whole array again, and a row of it
            # keeps the whole alive: read each once, keep copies of the rows.
            ids = list(saved["melodies"])
            fields = [saved[field] for field in FIELDS]
        out[name] = {(i // len(ids), int(ids[i % len(ids)])):
                     ctl.Controls(*(f[i].copy() for f in fields))
                     for i in range(len(fields[0]))}
    return out


def dynamics_triples(controls, embeddings, targets, contents, seed):
    """(content Controls, target Controls, an embedding of the target) of the same melody and
    soundfont: for each target and each (soundfont, melody) it plays, up to
    DYNAMICS_CONTENTS of the `contents` instruments that play it too, and one of the
    target's clip embeddings (`embeddings`: {"name/font": [embedding]}) of that soundfont."""
    rng = np.random.default_rng(seed)
    fonts = list(FONTS)
    out = []
    for target in targets:
        for key, truth in sorted(controls[target].items()):
            others = [c for c in contents if c != target and key in controls[c]]
            pool = embeddings[f"{target}/{fonts[key[0]]}"]
            for content in rng.permutation(others)[:DYNAMICS_CONTENTS]:
                out.append((controls[content][key], truth, pool[int(rng.integers(len(pool)))]))
    return out


def clip_embeddings(prior, data):
    """{"name/font": [embedding of each of its clips]} by the prior's encoder."""
    out = {}
    for i, name in enumerate(data.names):
        out.setdefault(name, []).append(data.embedding(prior, i))
    return out


def dynamics_data(prior, folder, melodies=DYNAMICS_MELODIES):
    """The loudness mapping's (content, truth, embedding) triples: training instruments'
    (targets and contents), and held-out targets' with training contents."""
    controls = render_dynamics(folder, {**TRAIN, **HELD_OUT}, melodies)
    embeddings = {**clip_embeddings(prior, Data(folder, TRAIN)),
                  **clip_embeddings(prior, Data(folder, HELD_OUT))}
    return (dynamics_triples(controls, embeddings, list(TRAIN), list(TRAIN), 0),
            dynamics_triples(controls, embeddings, list(HELD_OUT), list(TRAIN), 1))


def refined_dynamics(prior, record, folder, steps, checkpoints=None,
                     melodies=DYNAMICS_MELODIES):
    """The prior's loudness mapping trained on through its decoder on the mel distance
    (`dynamics_fit.refine`), on the data `fit_dynamics` fitted it on; and the mapping's
    `record` with the refinement's added ("refined")."""
    from tfstyle.converters.harmonic import dynamics_fit

    if prior.dynamics is None:
        sys.exit("this prior has no loudness mapping to refine: fit one with --dynamics")
    train, held = dynamics_data(prior, folder, melodies)
    start = time.monotonic()
    model, refined = dynamics_fit.refine(prior.dynamics, prior.decoder, prior.synth, train,
                                         steps, held=held, log=sys.stderr,
                                         checkpoint_dir=checkpoints)
    refined["minutes"] = round((time.monotonic() - start) / 60, 1)
    for title, triples in (("training", train[::10]), ("held out", held)):
        refined[title + " contour"] = 20 * dynamics_fit.mapping_loss(model, triples)
    print(f"loudness mapping through the decoder: {refined}", file=sys.stderr)
    return model, {**record, "refined": refined}


def fit_dynamics(prior, folder, steps=DYNAMICS_STEPS, checkpoints=None, width=DYNAMICS_WIDTH,
                 melodies=DYNAMICS_MELODIES):
    """The prior's loudness mapping, conditioned on its embedding, fitted on TRAIN
    instruments' pairs (resuming from the `checkpoints` folder when a fit there was cut
    short); and its record: losses on training and on held-out targets against the content's
    own contour (`--loudness offset`)."""
    from tfstyle.converters.harmonic import dynamics_fit

    train, held = dynamics_data(prior, folder, melodies)
    start = time.monotonic()
    model, first, last = dynamics_fit.fit(train, steps=steps, log=sys.stderr, width=width,
                                          timbre_dims=prior.config.timbre_dims,
                                          checkpoint_dir=checkpoints)
    record = {"steps": steps, "width": width, "melodies": 2 * melodies, "pairs": len(train),
              "first_loss": first, "last_loss": last,
              "minutes": round((time.monotonic() - start) / 60, 1)}
    for title, triples in (("training", train[::10]), ("held out", held)):
        record[title] = {"mapping_db": 20 * dynamics_fit.mapping_loss(model, triples),
                         "offset_db": 20 * dynamics_fit.offset_loss(triples)}
        print(f"loudness mapping, {title} targets: {record[title]}", file=sys.stderr)
    return model, record


class Data:
    """Every clip's controls and log-mel frames (analysed once, cached in the data folder),
    grouped by instrument and soundfont: the groups a style clip is drawn from."""

    def __init__(self, folder, instruments):
        from types import SimpleNamespace

        from tfstyle.converters.harmonic.data import FIELDS, Windows
        from tfstyle.harmonic import controls as ctl
        from tfstyle.harmonic.timbre import log_mel

        self.names, self.groups, ordered, mels, weights = [], [], [], [], []
        for name in instruments:
            path = os.path.join(folder, f"{_slug(name)}.npz")
            cache = os.path.join(folder, f"{_slug(name)}.analysis-v{ctl.ANALYSIS_VERSION}.npz")
            with np.load(path) as saved:
                clips, fonts = saved["clips"], saved["fonts"]
            if os.path.exists(cache):
                with np.load(cache, allow_pickle=False) as saved:
                    parts = [ctl.Controls(*(saved[field][i] for field in FIELDS))
                             for i in range(len(clips))]
                    db, weight = saved["db"], saved["weight"]
            else:
                parts = [ctl.analyse(c, SR, HOP) for c in clips]
                db, weight = (t.numpy() for t in log_mel(clips, SR, HOP))
                tmp = cache + ".partial.npz"
                np.savez(tmp, db=db, weight=weight, **{
                    field: np.stack([getattr(p, field) for p in parts]) for field in FIELDS})
                os.replace(tmp, cache)
            for font in sorted(set(fonts)):
                self.groups.append([])
                for i in np.flatnonzero(fonts == font):
                    ordered.append((clips[i], parts[i]))
                    mels.append(db[i])
                    weights.append(weight[i])
                    self.groups[-1].append(len(self.names))
                    self.names.append(f"{name}/{font}")
        # The converters' training windows, over every clip end to end; each clip's frames
        # and window starts are found from the clips' lengths.
        self.windows = Windows(
            SimpleNamespace(clips=[c for c, _ in ordered], controls=[p for _, p in ordered],
                            spec=folder), SimpleNamespace(hop_length=HOP, window_frames=WINDOW))
        ends = np.cumsum([len(p) for _, p in ordered])
        self.clip_frames = list(zip(ends - [len(p) for _, p in ordered], ends))
        owner = np.searchsorted(ends, self.windows.starts, side="right")
        self.clip_starts = [self.windows.starts[owner == i] for i in range(len(ordered))]
        self.audio = self.windows.audio
        self.mels, self.weights = np.stack(mels), np.stack(weights)
        self.group_of = np.zeros(len(self.names), int)
        for g, members in enumerate(self.groups):
            self.group_of[members] = g

    def clip(self, i):
        start, stop = self.clip_frames[i]
        return self.audio[start * HOP:stop * HOP]

    def embedding(self, prior, i):
        return prior.encoder({"log_mel": self.mels[i:i + 1], "weight": self.weights[i:i + 1]},
                             training=False).numpy()[0]

    def batch(self, rng, rows=BATCH):
        """Windows of `rows` clips from distinct groups, with a crop of another clip of each
        clip's group for the encoder."""
        groups = rng.choice(len(self.groups), size=rows, replace=len(self.groups) < rows)
        starts, log_mels, masks = [], [], []
        for g in groups:
            members = self.groups[g]
            clip = int(rng.choice(members))
            other = int(rng.choice([m for m in members if m != clip]))
            starts.append(int(rng.choice(self.clip_starts[clip])))
            length = int(rng.integers(*STYLE_FRAMES))
            total = self.mels.shape[1]
            start = int(rng.integers(0, max(1, total - length)))
            mask = np.zeros(total, np.float32)
            mask[start:start + length] = 1.0
            log_mels.append(self.mels[other])
            masks.append(self.weights[other] * mask)
        return {**self.windows.batch(starts), "log_mel": np.stack(log_mels),
                "weight": np.stack(masks)}


def train(run_dir, data, minutes, learning_rate, seed, from_shipped=False,
          freeze_encoder=False):
    import keras
    import tensorflow as tf
    from tqdm.auto import tqdm

    from tfstyle.harmonic.prior import Prior, PriorConfig

    keras.utils.set_random_seed(seed)
    prior = Prior(PriorConfig(seed=seed))
    # A fixed encoder keeps every embedding, and so the loudness mapping told by them, valid.
    prior.encoder.trainable = not freeze_encoder
    optimizer = keras.optimizers.Adam(learning_rate)
    step_fn = prior.step_function(optimizer)
    step_var = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint = tf.train.Checkpoint(encoder=prior.encoder, decoder=prior.decoder,
                                     synth=prior.synth, optimizer=optimizer, step=step_var)
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(run_dir, "checkpoints"), 3)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        print(f"resumed at step {int(step_var.numpy())}", file=sys.stderr)
    elif from_shipped:
        # A run folder can be lost (a new machine) while the shipped prior holds its last
        # weights: training goes on from those, with Adam's moments started afresh.
        shipped = Prior.load()
        for name in ("encoder", "decoder"):
            getattr(prior, name).set_weights(getattr(shipped, name).get_weights())
        prior.synth.impulse_response.assign(shipped.synth.impulse_response)
        step_var.assign(shipped.record["steps"])
        os.makedirs(run_dir, exist_ok=True)
        if freeze_encoder and shipped.dynamics is not None:
            store_dynamics(run_dir, shipped.dynamics, shipped.record["dynamics"])
        with open(os.path.join(run_dir, "sessions.txt"), "a") as f:
            f.writelines(line + "\n" for line in shipped.record["sessions"])
        print(f"started from the shipped prior at step {shipped.record['steps']}",
              file=sys.stderr)
    optimizer.learning_rate.assign(learning_rate)
    writer = tf.summary.create_file_writer(os.path.join(run_dir, "tensorboard"))
    start = time.monotonic()
    last_save, losses = start, []
    rng = np.random.default_rng([seed, int(step_var.numpy())])
    bar = tqdm(total=int(minutes * 60), unit="s", desc="training the prior",
               mininterval=10, bar_format="{l_bar}{bar}| {n:.0f}/{total} s {postfix}")
    while time.monotonic() - start < minutes * 60:
        batch = data.batch(rng)
        loss = float(step_fn({k: tf.constant(v) for k, v in batch.items()}))
        losses.append(loss)
        step_var.assign_add(1)
        step = int(step_var.numpy())
        if step % 50 == 0:
            with writer.as_default():
                tf.summary.scalar("spectral", float(np.mean(losses[-50:])), step=step)
            bar.set_postfix_str(f"step {step} loss {np.mean(losses[-50:]):.3f}")
        bar.n = min(bar.total, time.monotonic() - start)
        bar.refresh() if step % 50 == 0 else None
        if time.monotonic() - last_save > CHECKPOINT_MINUTES * 60:
            manager.save()
            last_save = time.monotonic()
    manager.save()
    bar.close()
    with open(os.path.join(run_dir, "sessions.txt"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M')} {minutes:g} min, to step "
                f"{int(step_var.numpy())}, lr {learning_rate:g}, "
                f"{'decoder and reverb only (encoder fixed), ' if freeze_encoder else ''}"
                f"last 200 steps' loss "
                f"{np.mean(losses[-200:]):.4f}\n")
    return prior, int(step_var.numpy())


def store_dynamics(run_dir, model, record):
    """RUN/dynamics/: a loudness mapping for this run's embeddings and its record."""
    import json

    out = os.path.join(run_dir, "dynamics")
    os.makedirs(out, exist_ok=True)
    model.save_weights(os.path.join(out, "dynamics.weights.h5"))
    with open(os.path.join(out, "record.json"), "w") as f:
        json.dump({"model": model.get_config(), **record}, f, indent=1)


def stored_dynamics(run_dir):
    """(the mapping in RUN/dynamics/, its record), or (None, None) where there is none."""
    import json

    from tfstyle.harmonic.dynamics_model import DynamicsModel

    folder = os.path.join(run_dir, "dynamics")
    if not os.path.exists(os.path.join(folder, "record.json")):
        return None, None
    with open(os.path.join(folder, "record.json")) as f:
        record = json.load(f)
    model = DynamicsModel.from_config(record.pop("model"))
    model.load_weights(os.path.join(folder, "dynamics.weights.h5"))
    return model, record


def restore(run_dir, seed=0):
    """The run's last checkpoint, with the loudness mapping stored for it (`stored_dynamics`:
    fitted by --dynamics on its embeddings, or the shipped one kept by --freeze-encoder) and
    that mapping's record in `prior.record["dynamics"]`."""
    import tensorflow as tf

    from tfstyle.harmonic.prior import Prior, PriorConfig

    prior = Prior(PriorConfig(seed=seed))
    step = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint = tf.train.Checkpoint(encoder=prior.encoder, decoder=prior.decoder,
                                     synth=prior.synth, step=step)
    latest = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    if not latest:
        sys.exit(f"{run_dir}: no checkpoint to score")
    checkpoint.restore(latest).expect_partial()
    prior.dynamics, dynamics = stored_dynamics(run_dir)
    if dynamics is not None:
        prior.record["dynamics"] = dynamics
    return prior, int(step.numpy())


def reconstruction_scores(prior, data, clips_per_group=2):
    """Per instrument group: the mean mel distance of each clip resynthesised from its own
    controls with the embedding of another clip of its group (`own`), and with the
    embedding of a clip of another instrument (`wrong`): own / wrong < 1 means the
    embedding carries the timbre."""
    from tfstyle import metrics
    from tfstyle.harmonic import controls as ctl
    from tfstyle.harmonic.performance import gate, render_blocks

    rng = np.random.default_rng(5)
    rows = {}
    for g, members in enumerate(data.groups):
        name = data.names[members[0]]
        own, wrong = [], []
        for clip in members[:clips_per_group]:
            other = [m for m in members if m != clip][0]
            stranger = int(rng.choice([m for m in range(len(data.names))
                                       if data.group_of[m] != g]))
            audio = data.clip(clip)
            controls = ctl.analyse(audio, SR, HOP)
            for source, into in ((other, own), (stranger, wrong)):
                timbre = data.embedding(prior, source)
                out = np.concatenate(list(render_blocks(prior.decoder, prior.synth, controls,
                                                        gate(controls), len(audio), timbre)))
                into.append(metrics.mel_distance(out, audio, SR))
        rows[name] = (float(np.mean(own)), float(np.mean(wrong)))
    return rows


# Decisions (adaptation steps, whether a run ships) are taken on the development set
# (pairs.development_pairs: varied melodies with a seed no other set uses, FluidR3_GM), never
# on the held-out kinds. Cello and saxophone are targets the prior never trained on.
DEV_PAIRS = (("piano", "violin"), ("guitar", "flute"), ("clarinet", "trumpet"),
             ("piano", "cello"), ("flute", "saxophone"))


def development(prior, variants, clips=3, cache=None):
    """{variant: {pair: (mean mel distance / identity's, chroma)}} of one-shot transfer on
    the development set: content = melody i on the source, style = melody i+1 on the target,
    truth = melody i on the target. `variants`: name -> TransferConfig; "scratch" results are
    cached in `cache` (they do not depend on the prior)."""
    import json

    from tfstyle import dispatch, metrics

    stored = json.load(open(cache)) if cache and os.path.exists(cache) else {}
    out = {}
    for a, b in DEV_PAIRS:
        inputs, truths = pairs.development_pairs(a, b, clips, SR)
        identity = pairs.mean_mel_distance(inputs, truths, SR)
        for name, settings in variants.items():
            key = f"{name}|{a}-{b}|{clips}"
            if name.startswith("scratch") and key in stored:
                out.setdefault(name, {})[f"{a}->{b}"] = stored[key]
                continue
            distances, chroma = [], []
            for i in range(clips):
                style = truths[(i + 1) % clips]
                result = dispatch.run(inputs[i], style, config=settings, prior=prior)
                distances.append(metrics.mel_distance(result.audio, truths[i], SR))
                chroma.append(metrics.chroma_correlation(result.audio, inputs[i], SR))
            value = (float(np.mean(distances)) / identity, float(np.mean(chroma)))
            out.setdefault(name, {})[f"{a}->{b}"] = value
            stored[key] = value
            print(f"{name} {a}->{b}: {value[0]:.3f}x identity, chroma {value[1]:.3f}",
                  file=sys.stderr, flush=True)
    if cache:
        with open(cache, "w") as f:
            json.dump(stored, f, indent=1)
    return out


def describe_data(data, instruments):
    minutes = len(data.audio) / SR / 60
    return (f"{len(instruments)} General MIDI programs ({', '.join(instruments)}), "
            f"{len(data.names) // (len(GENERATORS) * len(FONTS) * len(instruments))} "
            f"melodies of {SECONDS:g} s from "
            f"each of two generators "
            f"({', '.join(GENERATORS)}) on each of two soundfonts (FluidR3_GM, "
            f"MuseScore_General): {len(data.names)} clips, {minutes:.0f} min")


def held_out_table():
    """The held-out rows of the shipped preset (`harmonic`), of it with the content's own
    loudness contour (`harmonic-offset`) and of `harmonic-scratch` from
    docs/compare_methods.json (bench/compare_methods.py --held-out): mean ratio to identity's
    over the pairs scored, chroma beside the true rendering's, per kind of data."""
    import json

    from report import DOC, table

    store = os.path.join(os.path.dirname(DOC), "compare_methods.json")
    grid = json.load(open(store)).get("held_out", {}) if os.path.exists(store) else {}
    rows = []
    for kind in pairs.KINDS:
        for name in ("harmonic", "harmonic-offset", "harmonic-scratch"):
            ratios, chroma, truth = [], [], []
            for a, b in pairs.PAIRS:
                found = grid.get(f"{name}|{a}-{b}|{kind}")
                if not found:
                    continue
                like = f"#{found['clips']}"
                identity = grid.get(f"identity|{a}-{b}|{kind}{like}")
                reference = grid.get(f"truth|{a}-{b}|{kind}{like}")
                if identity and reference:
                    ratios.append(found["mel_distance"] / identity["mel_distance"])
                    chroma.append(found["chroma_correlation"])
                    truth.append(reference["chroma_correlation"])
            if ratios:
                rows.append([kind, name, f"{np.mean(ratios):.2f}×", len(ratios),
                             f"{np.mean(chroma):.2f}", f"{np.mean(truth):.2f}"])
    return table(["data", "preset", "mel distance / identity's", "pairs", "chroma",
                  "true rendering's chroma"], rows) if rows else "(not scored yet)"


def package(run_dir, data, reconstruction, dev, out=None):
    """Writes the shipped prior (weights, config.json, MODEL_CARD.md) and a section of
    docs/benchmarks.md from the run's latest checkpoint and its scores."""
    from report import table, write_section

    out = out or os.path.join(ROOT, "tfstyle", "pretrained", "timbre_prior")
    prior, step = restore(run_dir)
    sessions = open(os.path.join(run_dir, "sessions.txt")).read().strip().splitlines()
    minutes = sum(float(line.split()[2]) for line in sessions)
    record = {"steps": step, "train_minutes": minutes, "sessions": sessions,
              "data": describe_data(data, TRAIN), "held_out_instruments": list(HELD_OUT),
              "reconstruction": reconstruction, "development": dev,
              "made": time.strftime("%Y-%m-%d")}
    # Fitted by --dynamics on this run's embedding (a later checkpoint needs it anew), or
    # the shipped one that --freeze-encoder keeps.
    if "dynamics" in prior.record:
        record["dynamics"] = prior.record["dynamics"]
    prior.save(out, **record)
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)
               if f.endswith((".h5", ".npz")))
    params = sum(int(np.prod(v.shape)) for v in prior.variables())
    mapping = (f" (and {sum(int(np.prod(v.shape)) for v in prior.dynamics.weights):,} in the "
               "loudness mapping)" if prior.dynamics is not None else "")
    plural = "s" if len(sessions) > 1 else ""
    rec_rows = [[title, f"{r['own']:.2f}", f"{r['wrong']:.2f}", f"{r['ratio']:.3f}"]
                for title, r in reconstruction.items()]
    scores = ("Reconstruction (each clip resynthesised from its own pitch and loudness with "
              "the embedding of *another* clip of its instrument and soundfont, against the "
              "embedding of another instrument's clip; mel distance in dB):\n\n"
              + table(["instruments", "own instrument's embedding", "another's", "ratio"],
                      rec_rows)
              + "\n\nOne-shot transfer on the development set (mean mel distance to the true "
              "rendering as a ratio to identity's / chroma with the content; `prior` is "
              "the harmonic preset when the prior was packaged; `scratch` is `--preset "
              "harmonic-scratch`; cello and saxophone are held out of training):\n\n"
              + dev_table(dev))
    card = f"""# timbre prior: one-shot harmonic-plus-noise timbre transfer

A harmonic-plus-noise decoder conditioned on a {prior.config.timbre_dims}-number timbre
embedding, and the encoder that gives that embedding from a few seconds of an instrument
(`tfstyle.harmonic.prior`). `tfstyle transfer --method harmonic --start prior` (and the
automatic choice) embeds the style clip(s), then adapts its output layers and reverb for a
bounded number of steps; the loudness mapping conditioned on the same embedding gives the
content's notes the contour that instrument would give them (`--loudness learned`, the
preset's); `tfstyle export --style CLIP` stores one embedding in an exported converter.

- **Architecture**: encoder {prior.config.encoder_units}-unit frame MLP on {64}-band log-mel,
  weighted mean and spread over the clip; decoder {prior.config.units}-unit MLPs, a
  {prior.config.gru_units}-unit GRU, {prior.config.harmonics} harmonics, {prior.config.noise_bands}
  noise bands, a shared {prior.config.reverb_seconds:g} s reverb. {params:,} parameters{mapping},
  {size / 1e6:.1f} MB of weights in the package.
- **Data**: {record['data']}. Reverb and chorus off. Held out of training entirely:
  {', '.join(HELD_OUT)}; TimGM6mb (the held-out soundfont) is never used.
- **Training**: each row of a batch of {BATCH} is a {WINDOW}-frame window (1.5 s) of clip X,
  resynthesised from X's own controls with the embedding of a different clip of the same
  instrument and soundfont, cropped to 1-4 s; Adam, multi-scale spectral loss, gradients
  clipped at 5. {step} steps in {minutes:.0f} min on 2 CPU cores ({len(sessions)} session{plural}):
{chr(10).join('  - ' + line for line in sessions)}
- **Retrain**: `python bench/train_prior.py --minutes M` (resumes), then
  `python bench/train_prior.py --no-train --package`.

## Scores

{scores}

Held out (`python bench/compare_methods.py --held-out --clips 4 --methods harmonic`,
`harmonic-offset` and `harmonic-scratch`; pairs
{', '.join(f'{a}→{b}' for a, b in pairs.PAIRS)}; per pair and more measures:
docs/benchmarks.md, `compare_heldout`):

{held_out_table()}

{dynamics_card(record["dynamics"]) if "dynamics" in record else ""}
## Limits

- Monophonic, pitched instruments only; the embedding carries the spectrum around the notes,
  not articulation (bowing noise, tonguing) beyond what the decoder learned from pitch and
  loudness.
- Rendered General MIDI instruments only: real recordings (room, microphones) were never seen.
"""
    with open(os.path.join(out, "MODEL_CARD.md"), "w") as f:
        f.write(card)
    write_section("timbre_prior", "The timbre prior (one-shot harmonic transfer)",
                  f"{step} steps, {minutes:.0f} min of training; {record['data']}.\n\n"
                  + scores, command="python bench/train_prior.py --no-train --package")
    print(f"wrote {out} ({size / 1e6:.1f} MB of weights)", file=sys.stderr)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-dir", default=os.path.join(ROOT, "runs", "prior"))
    p.add_argument("--minutes", type=float, default=30.0, help="training time this session")
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--melodies", type=int, default=MELODIES,
                   help="melodies per instrument, generator and soundfont in the run's data "
                        "(default %(default)s; a run folder keeps the number it was rendered "
                        "with)")
    p.add_argument("--no-train", action="store_true", help="score the run as it is")
    p.add_argument("--from-shipped", action="store_true",
                   help="a run with no checkpoint starts from the shipped prior's weights "
                        "(and its training record) instead of random ones")
    p.add_argument("--freeze-encoder", action="store_true",
                   help="train the decoder and reverb only: every embedding stays as the "
                        "encoder gives it (with --from-shipped, the shipped loudness mapping "
                        "stays valid)")
    p.add_argument("--score", action="store_true",
                   help="reconstruction scores of training and held-out instruments")
    p.add_argument("--dev", nargs="*", default=None, metavar="VARIANT",
                   help="one-shot figures on the development set; variants scratch, "
                        "prior (the harmonic preset's settings) or prior:KEY=VALUE,... "
                        "(the harmonic preset with TransferConfig fields changed, e.g. "
                        "prior:steps=15,adapt=decoder)")
    p.add_argument("--shipped", action="store_true",
                   help="--dev and --dynamics work on the shipped prior instead of the run's "
                        "last checkpoint")
    p.add_argument("--dynamics-steps", type=int, default=DYNAMICS_STEPS,
                   help="Adam steps of --dynamics (default %(default)s)")
    p.add_argument("--dynamics-width", type=int, default=DYNAMICS_WIDTH,
                   help="channels of the loudness mapping's layers (default %(default)s)")
    p.add_argument("--dynamics-melodies", type=int, default=DYNAMICS_MELODIES,
                   help="melodies per generator that --dynamics renders and fits on "
                        "(default %(default)s)")
    p.add_argument("--dynamics", action="store_true",
                   help="fit the prior's loudness mapping on paired renderings (each "
                        "melody played by DYNAMICS_PLAYERS instruments drawn for it) and "
                        "store it with the prior: in the "
                        "shipped package with --shipped, else in the run folder for "
                        "--package; checkpointed in RUN/dynamics_fit/, so a killed fit "
                        "resumes when run again")
    p.add_argument("--dynamics-refine", type=int, default=0, metavar="STEPS",
                   help="train the loudness mapping on for STEPS steps through the frozen "
                        "decoder, on the log-mel distance of the decoder's playing (of a "
                        "fresh fit with --dynamics, else of the stored mapping, if that is "
                        "not refined already: the shipped one is); stored as --dynamics "
                        "stores, checkpointed in RUN/dynamics_refine/ (default 0: none)")
    p.add_argument("--package", action="store_true",
                   help="reconstruction and development scores, then the shipped prior")
    args = p.parse_args(argv)
    if args.melodies < 1:
        p.error(f"--melodies must be 1 or more, got {args.melodies}")

    folder = os.path.join(args.run_dir, "data")
    render_all(folder, {**TRAIN, **HELD_OUT}, args.seed, args.melodies)
    data = Data(folder, TRAIN)
    print(f"{len(TRAIN)} instruments, {len(data.groups)} groups, {len(data.names)} clips, "
          f"{len(data.audio) / SR / 60:.1f} min", file=sys.stderr)
    if not args.no_train:
        train(args.run_dir, data, args.minutes, args.learning_rate, args.seed,
              args.from_shipped, args.freeze_encoder)
    reconstruction = None
    if args.score or args.package:
        prior, step = restore(args.run_dir, args.seed)
        reconstruction = {}
        for title, instruments in (("training", TRAIN), ("held out", HELD_OUT)):
            rows = reconstruction_scores(prior, data if instruments is TRAIN
                                         else Data(folder, instruments), 1)
            reconstruction[title] = {
                "own": float(np.mean([r[0] for r in rows.values()])),
                "wrong": float(np.mean([r[1] for r in rows.values()])),
                "ratio": float(np.mean([r[0] / r[1] for r in rows.values()]))}
            print(f"step {step}, {title} instruments: {reconstruction[title]}", file=sys.stderr)
    if args.dynamics or args.dynamics_refine:
        fitted_dynamics(args, folder)
    dev = None
    if args.dev is not None or args.package:
        if args.shipped and not args.package:
            from tfstyle.harmonic.prior import Prior

            prior = Prior.load()
        else:
            prior, _ = restore(args.run_dir, args.seed)
        dev = development(prior, variants(args.dev or DEV_VARIANTS),
                          cache=os.path.join(args.run_dir, "development.json"))
    if args.package:
        package(args.run_dir, data, reconstruction, dev)
    elif args.shipped and dev:
        shipped_dev_report(dev)


def fitted_dynamics(args, folder):
    """--dynamics and --dynamics-refine: fits the loudness mapping of the prior being worked
    on, or refines the one it has, or both, and stores it (the shipped package, with its
    model card's section, or RUN/dynamics/)."""
    from tfstyle.harmonic.prior import HERE, Prior

    if args.shipped:
        prior, which = Prior.load(), "shipped"
    else:
        prior, step = restore(args.run_dir, args.seed)
        which = f"step-{step}"
    record = prior.record.get("dynamics")
    # Checkpoints per prior fitted for: a killed fit resumes where it was.
    # Named for the data and the model too: a fit of another is never resumed from.
    data = f"{which}-{2 * args.dynamics_melodies}x{DYNAMICS_PLAYERS}"
    if args.dynamics:
        checkpoints = os.path.join(args.run_dir, "dynamics_fit",
                                   f"{data}-width{args.dynamics_width}")
        prior.dynamics, record = fit_dynamics(prior, folder, args.dynamics_steps, checkpoints,
                                              args.dynamics_width, args.dynamics_melodies)
    if args.dynamics_refine and not args.dynamics and record and "refined" in record:
        # Its record, and the command the model card gives, would no longer say how it was
        # made.
        sys.exit("this prior's loudness mapping is refined already; add --dynamics to fit "
                 "one afresh and refine that")
    if args.dynamics_refine:
        # A refinement of a fresh fit is another run than one of the stored mapping.
        checkpoints = os.path.join(args.run_dir, "dynamics_refine",
                                   data + ("-fitted" if args.dynamics else "-stored"))
        prior.dynamics, record = refined_dynamics(prior, record, folder, args.dynamics_refine,
                                                  checkpoints, args.dynamics_melodies)
    if args.shipped:
        kept = {k: v for k, v in prior.record.items() if k not in ("config", "dynamics_model")}
        prior.save(HERE, **{**kept, "dynamics": record})
        replace_card_section(DYNAMICS_HEADING, dynamics_card(record))
    else:
        store_dynamics(args.run_dir, prior.dynamics, record)


DEV_HEADING = "## The shipped prior's settings on the development set"


def dev_table(dev):
    from report import table

    header = list(next(iter(dev.values())))
    rows = [[name, *(f"{rows[p][0]:.3f}× / {rows[p][1]:.2f}" for p in header),
             f"{np.mean([v[0] for v in rows.values()]):.3f}×"] for name, rows in dev.items()]
    return table(["variant", *(p.replace("->", "→") for p in header), "mean"], rows)


def replace_card_section(heading, section):
    """The shipped model card with its `heading` section (up to the next heading, or the
    end) replaced by `section` (which starts with the heading), or `section` added at the
    end where it has none."""
    from tfstyle.harmonic.prior import HERE

    card = os.path.join(HERE, "MODEL_CARD.md")
    with open(card) as f:
        before, _, after = f.read().partition(heading)
    rest = after.split("\n## ", 1)[1] if "\n## " in after else ""
    with open(card + ".partial", "w") as f:
        f.write(before.rstrip() + f"\n\n{section.strip()}\n" + (f"\n## {rest}" if rest else ""))
    os.replace(card + ".partial", card)


def shipped_dev_report(dev):
    """--shipped --dev: the variants' table in the shipped model card (replacing the last
    one) and in docs/benchmarks.md."""
    from report import write_section

    text = ("One-shot transfer with the shipped prior on the development set (mean mel "
            "distance to the true rendering as a ratio to identity's / chroma with the "
            "content; `prior` is today's harmonic preset, `prior:KEY=VALUE` the preset with "
            "that setting changed, `scratch` is `--preset harmonic-scratch`; cello and "
            "saxophone are held out of training):\n\n" + dev_table(dev) + "\n")
    replace_card_section(DEV_HEADING, f"{DEV_HEADING}\n\n{text}")
    write_section("timbre_prior_dev", "The shipped timbre prior's settings on the development "
                  "set", text, command="python bench/train_prior.py --no-train --shipped --dev "
                  + " ".join(dev))


DYNAMICS_HEADING = "## Loudness mapping"


def dynamics_card(record):
    """The model card's section on the loudness mapping (`fit_dynamics`'s record)."""
    rows = [[title, f"{record[title]['mapping_db']:.2f}", f"{record[title]['offset_db']:.2f}"]
            for title in ("training", "held out")]
    from report import table

    return (f"{DYNAMICS_HEADING}\n\n"
            "`--loudness learned`: the contour the style's instrument would give the content's "
            "notes, from a dilated-convolution model (`DynamicsModel`, "
            f"{record['width']} channels, receptive field 127 frames either side) told "
            "the instrument by the same timbre embedding. Fitted by `python "
            "bench/train_prior.py --no-train --shipped --dynamics` "
            f"({record['steps']} steps, {record['pairs']} pairs"
            + (f", {record['minutes']:g} min on 2 CPU cores" if "minutes" in record else "")
            + f") on {record.get('melodies', 2 * DYNAMICS_MELODIES)} "
            f"melodies (two generators, a seed of their own), each rendered by "
            f"{DYNAMICS_PLAYERS} instruments drawn for it on FluidR3_GM and MuseScore_General, "
            "each content paired with the "
            "same melody on the target instrument; the embedding is that of another clip of "
            "the target. Mean absolute error of relative loudness (dB) against the truth's "
            "contour, beside the content's own contour at the target's level (`--loudness "
            "offset`):\n\n"
            + table(["targets", "learned mapping", "content's own contour"], rows)
            + refined_card(record.get("refined"))
            + "\n\nThe harmonic preset plays through it (`--loudness learned`); "
            "`--loudness offset` keeps the content's own contour at the style's level "
            "(`harmonic-offset` in the held-out table above).\n")


def refined_card(refined):
    """The loudness mapping section's paragraph on its refinement (`refined_dynamics`)."""
    from report import table

    if not refined:
        return ""
    rows = [[title, f"{refined[title + ' before']:.2f}", f"{refined[title + ' after']:.2f}",
             f"{refined[title + ' contour']:.2f}"] for title in REFINE_TITLES]
    return ("\n\nThen trained on through the prior's frozen decoder and synthesiser "
            "(`dynamics_fit.refine`; `python bench/train_prior.py --no-train --shipped "
            f"--dynamics --dynamics-refine {refined['steps']}`: {refined['steps']} steps of "
            f"{refined['batch_size']} whole clips"
            + (f", {refined['minutes']:g} min on 2 CPU cores" if "minutes" in refined else "")
            + "). Each content is played by the decoder twice at its own pitch, with the "
            "mapping's loudness and with the truth's, and the benchmarks' log-mel distance "
            "between the two is minimised: a note's end a few frames early costs the contour "
            "little and the sound much. That distance (dB) before and after, on up to 96 "
            "pairs of each, and the refined mapping's contour error (dB, as above):\n\n"
            + table(["targets", "log-mel distance, fitted", "refined",
                     "contour error, refined"], rows))


REFINE_TITLES = ("training", "held out")


# What --package scores on the development set: today's fit from scratch and the shipped
# one-shot settings (the harmonic preset's).
DEV_VARIANTS = ("scratch", "prior")


def variants(names):
    """The TransferConfig of each variant name (see --dev)."""
    import dataclasses

    from tfstyle import presets
    from tfstyle.transfer_config import TransferConfig

    out = {}
    for name in names:
        if name == "scratch":
            out[name] = presets.config("harmonic-scratch")
        elif name == "prior":
            out[name] = presets.config("harmonic", start="prior")
        else:
            _, settings = name.split(":", 1)
            given = dict(item.split("=", 1) for item in settings.split(","))
            kinds = {f.name: f.type for f in dataclasses.fields(TransferConfig)}
            out[name] = presets.config("harmonic", start="prior", **{
                key: kinds[key](value) for key, value in given.items()})
    return out


if __name__ == "__main__":
    main()
