"""Convert a long audio file on a device with a TFLite model written by `tfstyle export`,
without TensorFlow: either family, told apart by the model's .json.

    python export/tflite_runner.py phone/tfstyle_generator_int8.tflite in.wav out.wav
    python export/tflite_runner.py phone/tfstyle_generator_none.tflite in.wav out.wav \
        --vocoder phone/tfstyle_vocoder_none.tflite
    python export/tflite_runner.py phone/violin_harmonic_none.tflite in.wav out.wav
    python export/tflite_runner.py phone/tfstyle_prior_none.tflite in.wav out.wav --style cello.wav

Needs numpy, soundfile, soxr, librosa and ai-edge-litert (the LiteRT interpreter), and
tfstyle's NumPy modules (`audio`, `chunking`, `harmonic.controls`, `harmonic.dynamics`,
`harmonic.performance`),
none of which imports TensorFlow.

MelGAN-VC (`*_generator_*.tflite`): the front end is the one recorded in the .json: normalised
HTK mel on a centred, reflect-padded STFT. The audio is read in blocks (--block-seconds,
crossfaded), each block's mel goes through the generator one slice at a time with half-slice
hops and a Hann crossfade, and Griffin-Lim recovers the phase; or, with `--vocoder` (the
`*_vocoder_*.tflite` of `tfstyle export RUN --vocoder VOCODER_RUN`), the WaveNet vocoder turns
the mel into sound, called on fixed blocks of frames that carry its receptive field of context
on each side (silence, -1, beyond the ends), and, for a vocoder over a phase vocoder's prior,
each block's summed phase on to the next (`carry`).

Harmonic (`*_harmonic_*.tflite`, and the timbre prior's `*_prior_*.tflite`, which needs
`--style CLIP`: its `embed` signature gives the instrument's embedding, and the clip's own
pitch and loudness its range): the file is read twice in blocks. First the model's `analyse`
signature measures pitch and loudness window by window; then the performance on the
instrument is worked out from those few numbers per frame, and the `render` signature
synthesises it block by block, carrying the decoder state, the oscillator phase and the reverb
tail, straight into the output file. A model with a learned loudness mapping maps the loudness
with its `dynamics` signature, a block at a time.

Memory stays at one block whatever the file's length.
"""
import argparse
import json
import sys

import numpy as np

from tfstyle import audio
from tfstyle.chunking import crossfade_blocks


def load_meta(model_path):
    with open(model_path + ".json") as f:
        return json.load(f)


class Dynamics:
    """The model's `dynamics` signature as `harmonic.dynamics.apply` calls it; the timbre
    prior's also takes the instrument's embedding (`timbre`, set with the style)."""

    def __init__(self, signature, receptive_field):
        self.signature, self.receptive_field = signature, receptive_field
        self.timbre = None

    def __call__(self, features):
        timbre = {} if self.timbre is None else {"timbre": self.timbre}
        return self.signature(features=features, **timbre)["loudness"]


class HarmonicRunner:
    def __init__(self, model_path, threads=2, seed=0):
        from ai_edge_litert.interpreter import Interpreter

        self.meta = load_meta(model_path)
        interpreter = Interpreter(model_path=model_path, num_threads=threads)
        self.analyse_model = interpreter.get_signature_runner("analyse")
        self.render_model = interpreter.get_signature_runner("render")
        self.sr, self.hop = self.meta["sr"], self.meta["hop_length"]
        self.block = self.meta["tflite"]["block_frames"]
        self.window = self.analyse_model.get_input_details()["window"]["shape"][-1]
        self.rng = np.random.default_rng(seed)
        self.dynamics = None
        if "dynamics" in self.meta["tflite"]["signatures"]:
            self.dynamics = Dynamics(interpreter.get_signature_runner("dynamics"),
                                     self.meta["dynamics_receptive_field"])
        self.profile, self.timbre = None, None
        if "embed" in self.meta["tflite"]["signatures"]:   # the timbre prior: needs a style
            self.embed_model = interpreter.get_signature_runner("embed")
            self.embed_samples = self.embed_model.get_input_details()["clip"]["shape"][-1]
        elif self.meta["profile"] is not None:
            from tfstyle.harmonic.controls import Profile

            self.profile = Profile(**self.meta["profile"])

    def set_style(self, clip):
        """The timbre prior's instrument: the embedding of the style clip's first
        `embed_seconds` and the pitch and loudness profile of all of it (float32 at sr)."""
        from tfstyle.harmonic import controls as ctl
        from tfstyle.harmonic.performance import check_pitched

        controls = self.analyse([clip])
        check_pitched(controls, "style", len(clip) / self.sr,
                      "the timbre prior learns the instrument of a melodic clip")
        self.profile = ctl.Profile.of(controls, self.hop / self.sr)
        padded = np.zeros((1, self.embed_samples), np.float32)
        head = clip[:self.embed_samples]
        padded[0, :len(head)] = head
        self.timbre = self.embed_model(clip=padded)["timbre"]
        if self.dynamics is not None:
            self.dynamics.timbre = self.timbre

    def measure(self, window):
        """`controls.measure_window` through the model: a window padded to its fixed size."""
        from tfstyle.harmonic.controls import FRAME_LENGTH

        frames = 1 + (len(window) - FRAME_LENGTH) // self.hop
        padded = np.zeros((1, self.window), np.float32)
        padded[0, :len(window)] = window
        out = self.analyse_model(window=padded)
        return tuple(out[k][0, :frames] for k in ("f0", "periodicity", "loudness"))

    def analyse(self, blocks):
        from tfstyle.harmonic import controls as ctl

        frames = 1 + (self.window - ctl.FRAME_LENGTH) // self.hop
        return ctl.analyse(blocks, self.sr, self.hop, block_frames=frames,
                           measure=self.measure)

    def render_blocks(self, controls, samples, transpose=None):
        from tfstyle.errors import TfstyleError
        from tfstyle.harmonic.performance import perform

        m = self.meta
        if self.profile is None:
            raise TfstyleError("this model is the timbre prior: give --style CLIP, the "
                               "instrument to play")
        played, gates, _ = perform(controls, self.profile, self.hop / self.sr,
                                   m["transpose"] if transpose is None else transpose,
                                   m.get("loudness", "quantile"), self.dynamics)
        arrays = [played.f0, played.loudness, played.voiced.astype(np.float32), gates]
        frames, block = len(played.f0), self.block
        state = np.zeros((1, m["gru_units"]), np.float32)
        phase = np.zeros(1, np.float32)
        tail, done = np.zeros(0, np.float32), 0
        for start in range(0, frames, block):
            # One frame ahead for the last hop's ramp; past the end the last frame holds.
            index = np.minimum(np.arange(start, start + block + 1), frames - 1)
            inputs = [a[index][None].astype(np.float32) for a in arrays]
            if start + block >= frames:   # silence after the last frame
                inputs[3][0, frames - start:] = 0.0
            noise = self.rng.uniform(-1, 1, (1, block * self.hop)).astype(np.float32)
            timbre = {} if self.timbre is None else {"timbre": self.timbre}
            out = self.render_model(f0=inputs[0], loudness=inputs[1], voiced=inputs[2],
                                    gate=inputs[3], state=state, phase=phase, noise=noise,
                                    **timbre)
            state, phase, wet = out["state"], out["phase"], out["audio"][0]
            wet[:len(tail)] += tail
            take = min(block * self.hop, samples - done)
            if take > 0:
                yield wet[:take]
                done += take
            tail = wet[block * self.hop:]


class Runner:
    def __init__(self, model_path, threads=2):
        from ai_edge_litert.interpreter import Interpreter

        self.meta = load_meta(model_path)
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

    def set_vocoder(self, model_path, threads=2):
        from ai_edge_litert.interpreter import Interpreter

        meta = load_meta(model_path)
        if any(meta[k] != self.meta[k] for k in ("sr", "n_fft", "hop_length", "n_mels")):
            raise SystemExit(f"{model_path}: a vocoder of another mel than the generator's")
        self.vocoder = Interpreter(model_path=model_path,
                                   num_threads=threads).get_signature_runner()
        self.vocoder_frames = meta["tflite"]["input"][1]
        self.context = meta["tflite"]["context_frames"]
        # A vocoder with an integrated phase takes it at each block's first kept frame and
        # gives it at the next block's.
        self.carry = meta["tflite"].get("carry")

    def vocode(self, mel, length):
        """The vocoder over blocks of its fixed size: each keeps its middle, the context on
        each side covering the receptive field."""
        hop, frames, context = self.meta["hop_length"], len(mel), self.context
        keep = self.vocoder_frames - 2 * context
        padded = np.concatenate([np.full((context, mel.shape[1]), -1.0, np.float32), mel,
                                 np.full((keep + context, mel.shape[1]), -1.0, np.float32)])
        out = []
        carry = {} if not self.carry else {"carry": np.zeros(self.carry, np.float32)}
        for start in range(0, frames, keep):
            block = padded[start:start + self.vocoder_frames][None].astype(np.float32)
            result = self.vocoder(mel=block, **carry)
            if carry:   # only its turn matters: kept small, it keeps float32's precision
                carry["carry"] = np.mod(result["carry"], 2 * np.pi).astype(np.float32)
            out.append(result["waveform"][0][context * hop:(context + keep) * hop])
        out = np.concatenate(out)
        return np.pad(out, (0, max(0, length - len(out))))[:length]

    def convert_blocks(self, blocks, block_seconds=30.0, n_iter=64):
        """Successive blocks of audio at the model's rate → successive blocks of its
        conversion: pieces of `block_seconds` overlapping by 1 s, crossfaded."""
        sr = self.meta["sr"]

        def one(piece):
            padded = np.pad(piece, (0, max(0, self.meta["n_fft"] - len(piece))))
            mel = self.convert_mel(self.mel(padded))
            if getattr(self, "vocoder", None) is not None:
                return self.vocode(mel, len(padded))
            return self.to_audio(mel, len(padded), n_iter)

        return crossfade_blocks(blocks, int(block_seconds * sr), sr, one)

    def convert(self, y, block_seconds=30.0, n_iter=64):
        """The conversion of a whole waveform (`convert_blocks` of one block)."""
        return np.concatenate(list(self.convert_blocks([y], block_seconds, n_iter)))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a .tflite written by 'tfstyle export' (with its .json)")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--block-seconds", type=float, default=30.0)
    parser.add_argument("--gl-iters", type=int, default=64, help="MelGAN-VC only")
    parser.add_argument("--vocoder", default=None, metavar="VOCODER_TFLITE",
                        help="MelGAN-VC only: the *_vocoder_*.tflite of the same export, used "
                             "instead of Griffin-Lim")
    parser.add_argument("--transpose", default=None,
                        help="harmonic only: semitones, or auto (default: the model's)")
    parser.add_argument("--style", nargs="+", default=None, metavar="CLIP",
                        help="the timbre prior (tfstyle export --prior) only: audio of the "
                             "instrument to play; its first seconds give the embedding")
    args = parser.parse_args()
    if load_meta(args.model).get("family") == "harmonic":
        runner = HarmonicRunner(args.model, args.threads)
        if args.style:
            runner.set_style(np.concatenate([audio.load(p, runner.sr) for p in args.style]))
        blocks, samples = audio.stream(args.input, runner.sr)
        level = audio.Level(blocks())
        controls = runner.analyse(level)
        from tfstyle.harmonic.performance import check_pitched

        check_pitched(controls, args.input, samples / runner.sr,
                      "a harmonic model plays melodies of pitched instruments")
        audio.save_blocks(args.output, runner.render_blocks(controls, samples, args.transpose),
                          runner.sr, lambda: level.rms)
        return
    runner = Runner(args.model, args.threads)
    if args.vocoder:
        runner.set_vocoder(args.vocoder, args.threads)
    # Read, converted and written in blocks, at the input's level (as `tfstyle convert`).
    sr = runner.meta["sr"]
    blocks, _ = audio.stream(args.input, sr)
    level = audio.Level(blocks())
    audio.save_blocks(args.output, runner.convert_blocks(level, args.block_seconds,
                                                         args.gl_iters), sr,
                      lambda: level.rms)


if __name__ == "__main__":
    from tfstyle.errors import TfstyleError

    try:
        main()
    except TfstyleError as e:   # bad input: one line, as the tfstyle command reports it
        sys.exit(f"tflite_runner: error: {e}")
