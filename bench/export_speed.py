"""Real-time factor of exported models: TFLite generator (float32/float16/int8, 1 and 2 threads)
and the SavedModel `waveform` signature, on the melgan-vc preset with full-size networks.

TFLite figures are the generator alone over the half-overlapping slices of 10 s of audio (what a
device runs per block, mel and phase excluded); the SavedModel figure is the whole signature
(mel, generator, 64 Griffin-Lim iterations). The reference is the Keras generator over the same
slices in the same run. Random weights: speed does not depend on them.
"""
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from report import load_examples, table, write_section
from tfstyle.converters.melgan_vc import export, frontend
from tfstyle.converters.melgan_vc.trainer import build_networks


def main():
    from ai_edge_litert.interpreter import Interpreter

    config = frontend.preset("melgan-vc")
    generator = export.freeze_generator(build_networks(config)[0], config)
    seconds = 10.0
    y = load_examples("speech", "piano_melody", sr=config.sr)[: int(seconds * config.sr)]
    mel = frontend.normalized_mel(y, config).numpy()
    hop = config.frames // 2
    slices = [mel[s:s + config.frames].T[None, ..., None].astype(np.float32)
              for s in range(0, len(mel) - config.frames + 1, hop)]
    batch = np.concatenate(slices)
    keras_fn = tf.function(lambda x: generator(x, training=False))
    keras_fn(batch)
    start = time.perf_counter()
    keras_fn(batch).numpy()
    reference = time.perf_counter() - start
    rows = [["Keras generator (reference, batched)", "-", f"{reference:.3f}",
             f"{reference / seconds:.4f}", "1.00"]]
    with tempfile.TemporaryDirectory() as tmp:
        for q in export.QUANTIZE:
            path, _ = export.export_tflite(generator, config, os.path.join(tmp, f"{q}.tflite"), q)
            for threads in (1, 2):
                run = Interpreter(model_path=path, num_threads=threads).get_signature_runner()
                run(mel=slices[0])
                start = time.perf_counter()
                for s in slices:
                    run(mel=s)
                took = time.perf_counter() - start
                rows.append([f"TFLite {q}", threads, f"{took:.3f}", f"{took / seconds:.4f}",
                             f"{took / reference:.2f}"])
        music = frontend.preset("music-22k")
        music_gen = export.freeze_generator(build_networks(music)[0], music)
        samples = export.waveform_block(music)
        for q in ("none", "int8"):
            path, _ = export.export_tflite(music_gen, music, os.path.join(tmp, f"w{q}.tflite"),
                                           q, waveform_samples=samples)
            run = Interpreter(model_path=path, num_threads=2).get_signature_runner()
            x = np.zeros((1, samples), np.float32)
            run(waveform=x)
            start = time.perf_counter()
            run(waveform=x)
            took = time.perf_counter() - start
            block = samples / music.sr
            rows.append([f"TFLite waveform model {q} (music-22k, {block:.2f} s blocks, "
                         f"{export.WAVEFORM_GL_ITERS} GL iterations)", 2, f"{took:.3f}",
                         f"{took / block:.4f}", "-"])
        saved = export.export_saved_model(generator, config, tmp, gl_iters=64)
        signature = tf.saved_model.load(saved).signatures["waveform"]
        signature(waveform=tf.constant(y[None]))
        start = time.perf_counter()
        signature(waveform=tf.constant(y[None]))["waveform"].numpy()
        took = time.perf_counter() - start
        rows.append(["SavedModel waveform signature (whole pipeline)", "2", f"{took:.3f}",
                     f"{took / seconds:.4f}", f"{took / reference:.2f}"])
    body = (f"{seconds:.0f} s of audio at 16 kHz, {len(slices)} slices of {config.frames} "
            "frames. RTF = seconds of compute per second of audio (below 1 is faster than "
            "real time); ratio = time / the Keras generator's time in this run.\n\n")
    body += table(["model", "threads", "seconds", "RTF", "ratio"], rows)
    write_section("export_speed", "Exported models: real-time factor", body)


if __name__ == "__main__":
    main()
