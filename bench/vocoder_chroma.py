"""Where piano-violin's end-to-end chroma goes: over every frame, or over the frames where the
content sounds.

    python bench/vocoder_chroma.py [--clips 4]

On bench/pairs.py's held-out piano→violin clips (another generator's melodies; an unseen
soundfont), the chroma correlation with the content (tfstyle.metrics.chroma_correlation) of:

- the true violin;
- the true violin's music-22k mel (the shipped piano-violin's front end) brought back to sound
  with the violin's own STFT phase (the best any inversion of that mel can do), by the shipped
  vocoder-22k, and by Griffin-Lim at 64 iterations (piano-violin's);
- the shipped piano-violin through Griffin-Lim (its default) and through vocoder-22k.

Each is scored over every frame, as bench/compare_methods.py scores it, and over the frames
within 60 dB of the content's peak. librosa scales each frame's chroma to a peak of 1, so in
a rest the faint remains of a note count as much as a note. The normalised mel clips at 80 dB
below the clip's peak, and below that floor no inversion can know what the truth held.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pairs  # noqa: E402
from report import table, write_section  # noqa: E402

SR = 22050
ACTIVE_DB = 60.0
KINDS = ("generator", "soundfont")


def inversions():
    """{row: (content, style, truth) → audio}."""
    import compare_methods
    from train_vocoder import own_phase

    from tfstyle import pretrained
    from tfstyle.converters.api import load_vocoder
    from tfstyle.converters.melgan_vc import frontend
    from tfstyle.converters.vocoder.synthesis import vocode

    config = pretrained.load_config("piano-violin")[0]
    vocoder = load_vocoder("vocoder-22k").generator
    mel = lambda y: frontend.normalized_mel(y, config)   # noqa: E731
    converted = compare_methods.methods(SR, "vocoder-22k")
    return {
        "the true violin": lambda c, s, t: t,
        "its mel, with the violin's own phase": lambda c, s, t: own_phase(t, mel(t), config),
        "its mel, through vocoder-22k": lambda c, s, t: np.asarray(
            vocode(vocoder, mel(t).numpy(), len(t)), np.float32),
        "its mel, through Griffin-Lim (64 iterations)": lambda c, s, t: frontend.mel_to_audio(
            mel(t), config, len(t), n_iter=64).numpy(),
        "piano-violin, through Griffin-Lim (its default)":
            lambda c, s, t: converted["piano-violin"](c, s),
        "piano-violin, through vocoder-22k":
            lambda c, s, t: converted["piano-violin+vocoder"](c, s)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=4, help="melodies per kind")
    args = parser.parse_args()
    from tfstyle.cli.common import import_tensorflow

    import_tensorflow()
    from tfstyle import metrics

    methods = inversions()
    rows = {name: [] for name in methods}
    for kind in KINDS:
        triples = pairs.heldout_triples("piano", "violin", kind, count=args.clips, sr=SR)
        for name, method in methods.items():
            every, sounding = [], []
            for t in triples:
                out = method(t.content, t.style, t.reference)
                every.append(metrics.chroma_correlation(out, t.content, SR))
                sounding.append(metrics.chroma_correlation(out, t.content, SR,
                                                           active_db=ACTIVE_DB))
            rows[name] += [f"{np.mean(every):.2f}", f"{np.mean(sounding):.2f}"]
            print(kind, name, rows[name][-2:], file=sys.stderr, flush=True)
    header = ["audio"] + [f"{kind}: {frames}" for kind in KINDS
                          for frames in ("every frame", f"within {ACTIVE_DB:g} dB")]
    body = (f"Chroma correlation with the content on {args.clips} held-out piano→violin clips "
            "per kind (bench/pairs.py: `generator`, another generator's melodies on FluidR3_GM; "
            "`soundfont`, the test melodies on TimGM6mb), over every frame (as "
            f"bench/compare_methods.py scores it) and over the frames within {ACTIVE_DB:g} dB of "
            "the content's peak.\n\n" + table(header, [[n, *r] for n, r in rows.items()]))
    write_section("vocoder_chroma", "Where the end-to-end chroma goes: every frame or the "
                  "sounding ones", body)


if __name__ == "__main__":
    main()
