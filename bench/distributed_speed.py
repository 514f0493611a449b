"""MelGAN-VC training throughput with one and two local workers (MultiWorkerMirroredStrategy).

Each configuration runs in its own processes with the real training pieces (`training.build`,
`distributed_input`, `cycle_function`) on the bundled piano (A) and violin (B) clips; after
warm-up cycles it times `--cycles` cycles. Rows:

  1 worker, all cores         the reference (default strategy)
  2 workers, sharing cores    two processes on this host, each with every core
  1 worker, 1 core            the per-machine reference for the next row
  2 workers, 1 core each      pinned to different cores: a stand-in for two one-core machines

Throughput is crops per second (global batch × batches per second); ratios are against the
first row, or, for the pinned rows, against the pinned single worker. A worker runs batch_size
rows per step, so two workers train on a global batch twice as large.

    python bench/distributed_speed.py [--cycles 10] [--batch-size 16]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(args):
    if args.cores:
        os.sched_setaffinity(0, [int(c) for c in args.cores.split(",")])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, HERE)
    from report import load_examples

    from tfstyle.converters import distribute, training
    from tfstyle.converters.melgan_vc import frontend
    from tfstyle.domains import Domain

    strategy_name = "multi-worker" if "TF_CONFIG" in os.environ else "default"
    cluster = distribute.cluster(strategy_name)
    if strategy_name == "multi-worker":
        distribute.wait_for_workers(cluster)
    strategy = distribute.make_strategy(strategy_name)
    import tensorflow as tf

    config = frontend.preset("melgan-vc", batch_size=args.batch_size)
    a = Domain("a", [load_examples("piano_melody", sr=config.sr)], ["piano"], [])
    b = Domain("b", [load_examples("violin_phrase", sr=config.sr)], ["violin"], [])
    from tfstyle.converters.melgan_vc import family

    model, _ = training.build(family, config, strategy)
    iterator = iter(training.distributed_input(strategy, family, config, {"a": a, "b": b}))
    cycle = training.cycle_function(strategy, model)
    stop = tf.constant(0.0)
    for _ in range(args.warmup):
        cycle(iterator, stop)[1].numpy()
    start = time.perf_counter()
    for _ in range(args.cycles):
        cycle(iterator, stop)[1].numpy()
    seconds = time.perf_counter() - start
    batches = args.cycles * config.joint_every
    result = {"batches_per_s": batches / seconds,
              "crops_per_s": batches * config.batch_size * strategy.num_replicas_in_sync
              / seconds}
    if cluster.chief:
        with open(args.out, "w") as f:
            json.dump(result, f)


def measure(args, workers, cores):
    """Runs `workers` processes (cores: one affinity string per worker, or None)."""
    out = tempfile.mktemp(suffix=".json")
    from tfstyle.converters.distribute import local_tf_configs

    configs = local_tf_configs(workers)
    procs = []
    for i in range(workers):
        env = dict(os.environ)
        if workers > 1:
            env["TF_CONFIG"] = configs[i]
        command = [sys.executable, os.path.abspath(__file__), "--worker", "--out", out,
                   "--cycles", str(args.cycles), "--warmup", str(args.warmup),
                   "--batch-size", str(args.batch_size)]
        if cores:
            command += ["--cores", cores[i]]
        procs.append(subprocess.Popen(command, env=env))
    if any(p.wait() for p in procs):
        sys.exit("a benchmark worker failed")
    with open(out) as f:
        result = json.load(f)
    os.remove(out)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=10, help="timed cycles (default: 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed cycles (default: 2)")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="rows per worker and batch (default: 16, the preset's)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cores", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    from report import table, write_section

    cpus = sorted(os.sched_getaffinity(0))
    runs = [("1 worker, all cores", 1, None), ("2 workers, sharing all cores", 2, None)]
    if len(cpus) >= 2:
        runs += [("1 worker, 1 core", 1, [str(cpus[0])]),
                 ("2 workers, 1 core each", 2, [str(cpus[0]), str(cpus[1])])]
    results = [(label, workers, measure(args, workers, cores)) for label, workers, cores in runs]
    rows = []
    for k, (label, workers, r) in enumerate(results):
        reference = results[2 if k >= 2 else 0][2]
        rows.append([label, workers * args.batch_size, f"{r['batches_per_s']:.2f}",
                     f"{r['crops_per_s']:.1f}",
                     f"{r['crops_per_s'] / reference['crops_per_s']:.2f}"])
    body = (f"melgan-vc preset, full-size networks, {args.batch_size} rows per worker and "
            f"batch, {args.cycles} timed cycles of 3 batches after {args.warmup} warm-up "
            "cycles, `--shard data`, ring all-reduce over 127.0.0.1. Ratio = crops/s against "
            "the single worker with the same cores per worker.\n\n")
    body += table(["configuration", "global batch", "batches/s", "crops/s", "ratio"], rows)
    write_section("distributed_speed", "Distributed training throughput (1 vs 2 local workers)",
                  body)


if __name__ == "__main__":
    main()
