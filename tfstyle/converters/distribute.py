"""Which `tf.distribute` strategy trains a run, and where this process sits in the cluster.

    default       one device (TensorFlow's default strategy)
    mirrored      every local GPU, one replica each (MirroredStrategy; the CPU when none)
    multi-worker  several processes or machines described by TF_CONFIG
                  (MultiWorkerMirroredStrategy, synchronous all-reduce)
    tpu           a Cloud TPU (TPUStrategy), found by TPUClusterResolver

`batch_size` is per replica: the global batch of a step is batch_size × replicas. TF_CONFIG is
read and checked here before TensorFlow loads, so a malformed cluster fails in a fraction of a
second with one line. Keras 3's `fit` cannot run under MultiWorkerMirroredStrategy
(keras-team/keras#20585), which is why `training` drives every strategy with its own loop.
"""
import dataclasses
import json
import os
import socket
import time

from tfstyle.errors import TfstyleError

STRATEGIES = ("default", "mirrored", "multi-worker", "tpu")
SHARDING = ("data", "files")


@dataclasses.dataclass(frozen=True)
class Cluster:
    """This process's place among the workers (one worker outside multi-worker training)."""

    workers: int = 1
    index: int = 0          # among the workers, the chief first
    chief: bool = True
    task: str = "worker 0"  # as TF_CONFIG names it
    address: str = ""       # this task's host:port in TF_CONFIG
    peers: tuple = ()       # (name, host:port) of every other task

    @property
    def label(self):
        return f"{self.task}{' (chief)' if self.chief else ''} of {self.workers} workers"


def cluster(strategy_name, environ=None):
    """The Cluster that `strategy_name` will run in, from TF_CONFIG for multi-worker."""
    if strategy_name not in STRATEGIES:
        raise TfstyleError(f"unknown strategy {strategy_name!r}; choose one of "
                           f"{', '.join(STRATEGIES)}")
    if strategy_name != "multi-worker":
        return Cluster()
    raw = (os.environ if environ is None else environ).get("TF_CONFIG")
    if not raw:
        raise TfstyleError("--strategy multi-worker needs TF_CONFIG describing the cluster, e.g. "
                           "TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", "
                           "\"host2:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}' "
                           "(see docs/distributed.md)")
    try:
        spec = json.loads(raw)
        jobs, task = spec["cluster"], spec["task"]
        kind, index = task["type"], int(task["index"])
        if not isinstance(jobs, dict) or not all(isinstance(v, list) for v in jobs.values()):
            raise TypeError("cluster must map job names to lists of host:port")
    except (ValueError, KeyError, TypeError) as e:
        raise TfstyleError(f"TF_CONFIG is not a valid cluster description ({e!s}); it needs "
                           "\"cluster\" and \"task\": {\"type\", \"index\"}") from None
    unknown = set(jobs) - {"chief", "worker"}
    if unknown:
        raise TfstyleError(f"TF_CONFIG: multi-worker training uses only 'chief' and 'worker' "
                           f"jobs, not {', '.join(sorted(unknown))}")
    if kind not in jobs or not 0 <= index < len(jobs[kind]):
        raise TfstyleError(f"TF_CONFIG: task {kind}:{index} is not in the cluster "
                           f"({', '.join(f'{k}: {len(v)}' for k, v in jobs.items())})")
    if len(jobs.get("chief", [])) > 1:
        raise TfstyleError("TF_CONFIG: a cluster has at most one chief")
    chiefs = len(jobs.get("chief", []))
    workers = chiefs + len(jobs.get("worker", []))
    # Without a 'chief' job, worker 0 is the chief (TensorFlow's convention).
    position = index if kind == "chief" else chiefs + index
    tasks = [(f"{job} {i}", address) for job in ("chief", "worker")
             for i, address in enumerate(jobs.get(job, []))]
    me = f"{kind} {index}"
    return Cluster(workers=workers, index=position, chief=position == 0, task=me,
                   address=jobs[kind][index],
                   peers=tuple((name, address) for name, address in tasks if name != me))


def make_strategy(strategy_name, tpu=None):
    """The tf.distribute strategy; one-line errors where it cannot start."""
    import tensorflow as tf

    if strategy_name == "default":
        return tf.distribute.get_strategy()
    if strategy_name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy_name == "multi-worker":
        cluster(strategy_name)
        # RING works on any device; AUTO lets TensorFlow pick NCCL on GPUs. Packing gradients
        # into 32 MiB all-reduces is 17 % faster than one per variable on two CPU workers
        # (bench/distributed_speed.py).
        gpus = tf.config.list_physical_devices("GPU")
        implementation = tf.distribute.experimental.CommunicationImplementation
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=implementation.AUTO if gpus else implementation.RING,
            bytes_per_pack=32 * 2 ** 20)
        try:
            return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        except (ValueError, RuntimeError, tf.errors.OpError) as e:
            raise TfstyleError(f"cannot start multi-worker training: {first_line(e)}") \
                from None
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise TfstyleError(f"no TPU found{f' at {tpu}' if tpu else ''} ({first_line(e)}); "
                           "--strategy tpu runs on a Cloud TPU VM, or give --tpu NAME") from None
    return tf.distribute.TPUStrategy(resolver)


def wait_for_workers(cluster_, log=None, every=30.0):
    """Returns once every other worker of `cluster_` accepts a TCP connection.

    TensorFlow's own wait for the cluster blocks inside C++ code holding the GIL, where neither
    Ctrl-C nor SIGTERM can stop it and nothing says which worker is missing. This wait happens
    first, in Python: each worker listens on its own port and dials the others until all have
    answered (their listener or, once they are past this point, their TensorFlow server).
    """
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("", int(cluster_.address.rsplit(":", 1)[1])))
        listener.listen(len(cluster_.peers) + 1)
    except (OSError, ValueError) as e:
        listener.close()
        raise TfstyleError(f"TF_CONFIG: cannot listen on {cluster_.address} "
                           f"({getattr(e, 'strerror', None) or e}); is another process using "
                           "the port?") from None
    missing = list(cluster_.peers)
    started = last = time.time()
    try:
        while missing:
            missing = [peer for peer in missing if not _answers(peer[1])]
            if missing and log and time.time() - last >= every:
                last = time.time()
                print(f"still waiting ({time.time() - started:.0f} s) for " + ", ".join(
                    f"{name} at {address}" for name, address in missing), file=log, flush=True)
            if missing:
                time.sleep(0.5)
    finally:
        listener.close()


def local_tf_configs(workers):
    """TF_CONFIG values for `workers` processes on 127.0.0.1, on ports free right now (for
    trying multi-worker training, its tests and its benchmark on one machine)."""
    sockets = [socket.socket() for _ in range(workers)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    addresses = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return [json.dumps({"cluster": {"worker": addresses},
                        "task": {"type": "worker", "index": i}}) for i in range(workers)]


def _answers(address):
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=2.0):
            return True
    except (OSError, ValueError):
        return False


def first_line(error):
    """The line of a (TensorFlow) error that says what went wrong, without node and stack."""
    text = getattr(error, "message", None) or str(error)
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("Graph execution error", "Detected at node", "File ",
                                         "[[", "Additional GRPC", "in user code")):
            return line[:300]
    return type(error).__name__

