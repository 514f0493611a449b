"""Every preset on one bundled pair (piano melody → violin timbre): pitch kept, timbre moved, time.

Backbones run with --random-weights (no pretrained files here), so their rows show the recipe
running end to end, not what ImageNet features would give.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from report import load_examples, table, write_section
from tfstyle import dispatch, metrics, presets


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--content", default="piano_melody")
    parser.add_argument("--style", default="violin_phrase")
    args = parser.parse_args()
    sr = 22050
    content, style = load_examples(args.content, sr=sr), load_examples(args.style, sr=sr)
    baseline = metrics.longterm_mel_distance(content, style, sr)
    rows = []
    for name, preset in presets.PRESETS.items():
        config = presets.config(name, random_weights=True)
        start = time.perf_counter()
        out = dispatch.transfer(content, style, config=config)
        seconds = time.perf_counter() - start
        rows.append([name, f"{metrics.chroma_correlation(out, content, sr):.3f}",
                     f"{metrics.longterm_mel_distance(out, style, sr):.2f}",
                     f"{seconds:.0f}", f"{config.optimizer} × {config.steps}"])
    body = (f"`{args.content}` → `{args.style}`, each preset as published (steps included), "
            f"random weights for the backbones. Content → style distance before transfer: "
            f"{baseline:.2f} dB. Chroma correlation with the content: higher keeps more pitch; "
            f"output → style distance: lower is closer to the style's timbre.\n\n")
    body += table(["preset", "chroma corr", "output→style dB", "seconds", "optimiser"], rows)
    write_section("presets_quality", "Presets on the bundled examples", body)


if __name__ == "__main__":
    main()
