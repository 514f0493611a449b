"""Convert audio through TF Serving's gRPC API (signature `waveform`, float32 samples).

    python export/grpc_client.py in.wav out.wav --server localhost:8500 --sr 16000

The audio is resampled to the model's rate (--sr, see `tfstyle info`), sent in --chunk-seconds
pieces that are crossfaded back, and the client raises its receive limit: gRPC refuses replies
over 4 MiB by default, about 65 s of float32 audio at 16 kHz.
"""
import argparse

import numpy as np
import soundfile as sf

from tfstyle.chunking import crossfade_map

MAX_MESSAGE = 256 * 1024 * 1024


def request(samples, model="tfstyle"):
    """A PredictRequest for the `waveform` signature."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    req = predict_pb2.PredictRequest()
    req.model_spec.name = model
    req.model_spec.signature_name = "waveform"
    req.inputs["waveform"].CopyFrom(tf.make_tensor_proto(
        np.asarray(samples, np.float32)[None]))
    return req


def response_samples(response):
    import tensorflow as tf

    return tf.make_ndarray(response.outputs["waveform"])[0]


def stub(server):
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    options = [("grpc.max_receive_message_length", MAX_MESSAGE),
               ("grpc.max_send_message_length", MAX_MESSAGE)]
    channel = grpc.insecure_channel(server, options=options)
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def convert(y, predict, sr, chunk_seconds=30.0, overlap_seconds=1.0):
    """Converts y (at the model's rate) by `predict(PredictRequest) -> PredictResponse`."""
    return crossfade_map(y, int(chunk_seconds * sr), int(overlap_seconds * sr),
                         lambda piece: response_samples(predict(request(piece))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--server", default="localhost:8500")
    parser.add_argument("--sr", type=int, required=True, help="the model's sample rate")
    parser.add_argument("--chunk-seconds", type=float, default=30.0)
    args = parser.parse_args()
    y, sr = sf.read(args.input, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != args.sr:
        import soxr
        y = soxr.resample(y, sr, args.sr)
    service = stub(args.server)
    out = convert(y, lambda req: service.Predict(req, timeout=600), args.sr, args.chunk_seconds)
    sf.write(args.output, out, args.sr, subtype="PCM_16")


if __name__ == "__main__":
    main()
