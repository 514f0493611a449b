"""Convert a WAV file through TF Serving's REST API (signature serving_default).

    docker run -p 8501:8501 -v "$PWD/export_out/tfstyle:/models/tfstyle" \\
        -e MODEL_NAME=tfstyle tensorflow/serving
    python export/rest_client.py in.wav out.wav --url http://localhost:8501/v1/models/tfstyle:predict

The WAV travels as base64 ({"b64": ...}), 4/3 of its size, instead of a JSON list of floats
(about 11x). Long files are cut client-side into --chunk-seconds pieces, each converted and
crossfaded back (--overlap-seconds), so no request or response grows with the file.

The timbre prior's SavedModel (`tfstyle export --prior`) takes a style clip beside the
content: `--style cello.wav` sends it with every piece (keep it short: a few seconds carry the
timbre).
"""
import argparse
import base64
import io
import json
import urllib.request

import soundfile as sf

from tfstyle.chunking import crossfade_map


def payload(wav_bytes, style_bytes=None):
    """The JSON body of a predict request for one WAV (and the style WAV the timbre prior's
    model takes beside it: then each instance names its inputs)."""
    def b64(data):
        return {"b64": base64.b64encode(data).decode("ascii")}

    instance = b64(wav_bytes) if style_bytes is None else {"wav_bytes": b64(wav_bytes),
                                                           "style_bytes": b64(style_bytes)}
    return {"signature_name": "serving_default", "instances": [instance]}


def parse(response):
    """WAV bytes from a predict response (outputs named *_bytes come back base64-encoded)."""
    prediction = response["predictions"][0]
    return base64.b64decode(prediction["b64"] if isinstance(prediction, dict) else prediction)


def post(url, body, timeout=600):
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.load(reply)


def wav_bytes(y, sr):
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def convert(y, sr, send, chunk_seconds=30.0, overlap_seconds=1.0):
    """Converts waveform y by `send(wav_bytes) -> wav_bytes` in crossfaded chunks."""
    def one(piece):
        return sf.read(io.BytesIO(send(wav_bytes(piece, sr))), dtype="float32")[0]

    return crossfade_map(y, int(chunk_seconds * sr), int(overlap_seconds * sr), one)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--url", default="http://localhost:8501/v1/models/tfstyle:predict")
    parser.add_argument("--chunk-seconds", type=float, default=30.0)
    parser.add_argument("--style", default=None, metavar="WAV",
                        help="for the timbre prior's model: the style clip sent with every "
                             "piece")
    args = parser.parse_args()
    y, sr = sf.read(args.input, dtype="float32", always_2d=True)
    style = None
    if args.style:
        s, style_sr = sf.read(args.style, dtype="float32", always_2d=True)
        style = wav_bytes(s.mean(axis=1), style_sr)
    out = convert(y.mean(axis=1), sr, lambda data: parse(post(args.url, payload(data, style))),
                  args.chunk_seconds)
    sf.write(args.output, out, sr, subtype="PCM_16")


if __name__ == "__main__":
    main()
