"""Convert a long audio file on a device with the exported TFLite generator, without TensorFlow.

    python export/tflite_runner.py phone/tfstyle_generator_int8.tflite in.wav out.wav

Needs numpy, soundfile, librosa and ai-edge-litert (the LiteRT interpreter). The front end is the
one recorded in the model's .json (written by `tfstyle export`): normalised HTK mel on a centred,
reflect-padded STFT. The audio is read in blocks (--block-seconds, crossfaded), each block's mel
goes through the generator one slice at a time with half-slice hops and a Hann crossfade, and
Griffin-Lim recovers the phase. Memory stays at one block whatever the file's length.
"""
import argparse
import json

import numpy as np
import soundfile as sf

from tfstyle.audio import PEAK
from tfstyle.chunking import crossfade_map


class Runner:
    def __init__(self, model_path, threads=2):
        from ai_edge_litert.interpreter import Interpreter

        with open(model_path + ".json") as f:
            self.meta = json.load(f)
        self.generator = Interpreter(model_path=model_path,
                                     num_threads=threads).get_signature_runner()
        m = self.meta
        import librosa

        self.fb = librosa.filters.mel(sr=m["sr"], n_fft=m["n_fft"], n_mels=m["n_mels"],
                                      fmin=m["fmin"], fmax=m["fmax"], htk=True, norm=None)
        self.energy = float(np.sum(np.hanning(m["n_fft"] + 1)[:-1] ** 2))
        self.pinv = np.linalg.pinv(self.fb.T)

    def mel(self, y):
        """Normalised mel [frames, n_mels] (the exporter's recipe)."""
        import librosa

        m = self.meta
        power = np.abs(librosa.stft(y, n_fft=m["n_fft"], hop_length=m["hop_length"],
                                    pad_mode="reflect")) ** 2 / self.energy
        db = librosa.power_to_db(self.fb @ power, top_db=80.0) - m["ref_level_db"]
        return np.clip(2 * (db - m["min_level_db"]) / -m["min_level_db"] - 1, -1, 1).T

    def convert_mel(self, mel):
        width, hop = self.meta["chunk_frames"], self.meta["chunk_hop_frames"]
        frames = len(mel)
        total = -(-(frames + 2 * hop - width) // hop) * hop + width
        padded = np.concatenate([np.repeat(mel[:1], hop, 0), mel,
                                 np.repeat(mel[-1:], total - frames - hop, 0)])
        window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(width) / width))[:, None]
        out = np.zeros_like(padded)
        weight = np.zeros((len(padded), 1), np.float32)
        for start in range(0, total - width + 1, hop):
            piece = padded[start:start + width].T[None, ..., None].astype(np.float32)
            converted = self.generator(mel=piece)["mel"][0, ..., 0].T
            out[start:start + width] += window * converted
            weight[start:start + width] += window
        return (out / np.maximum(weight, 1e-3))[hop:hop + frames]

    def to_audio(self, mel, length, n_iter=64):
        import librosa

        m = self.meta
        db = (np.clip(mel, -1, 1) + 1) / 2 * -m["min_level_db"] + m["min_level_db"] + \
            m["ref_level_db"]
        mel_power = librosa.db_to_power(db)                      # [frames, n_mels]
        # Non-negative mel inversion as tfstyle does it: pseudo-inverse, then multiplicative
        # updates (a few matmuls; librosa's NNLS is exact but far slower on long blocks).
        fb = self.fb.T                                            # [bins, n_mels]
        x = np.maximum(mel_power @ self.pinv, 0)
        x += 1e-3 * x.mean(axis=1, keepdims=True) + 1e-12
        numerator, gram = mel_power @ fb.T, fb @ fb.T
        for _ in range(32):
            x *= numerator / (x @ gram + 1e-12)
        magnitude = np.sqrt(x * self.energy).T
        return librosa.griffinlim(magnitude, n_iter=n_iter, hop_length=m["hop_length"],
                                  n_fft=m["n_fft"], length=length, random_state=0)

    def convert(self, y, block_seconds=30.0, n_iter=64):
        sr = self.meta["sr"]

        def one(piece):
            padded = np.pad(piece, (0, max(0, self.meta["n_fft"] - len(piece))))
            return self.to_audio(self.convert_mel(self.mel(padded)), len(padded), n_iter)

        return crossfade_map(y, int(block_seconds * sr), sr, one)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a .tflite written by 'tfstyle export' (with its .json)")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--block-seconds", type=float, default=30.0)
    parser.add_argument("--gl-iters", type=int, default=64)
    args = parser.parse_args()
    runner = Runner(args.model, args.threads)
    y, sr = sf.read(args.input, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != runner.meta["sr"]:
        import soxr
        y = soxr.resample(y, sr, runner.meta["sr"])
    out = runner.convert(y, args.block_seconds, args.gl_iters)
    peak = np.max(np.abs(out)) + 1e-9
    sf.write(args.output, out * min(1.0, PEAK / peak), runner.meta["sr"], subtype="PCM_16")


if __name__ == "__main__":
    main()
