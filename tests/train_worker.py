"""One training process for the distributed tests: trains a tiny converter of either family on
synthetic domains under the given strategy (TF_CONFIG from the environment) and saves the final
weights of all its networks as one .npy, so the test can compare workers with each other and
with a single-device run.

    python tests/train_worker.py STRATEGY BATCH_SIZE STEPS RUN_DIR WEIGHTS.npy [FAMILY]

FAMILY is melgan-vc (default: generator, critic and siamese on domains a and b), harmonic
(decoder and reverb on domain b) or vocoder (generator and discriminator on domain b).

STRATEGY is one of tfstyle's, or "mirrored-2cpu": MirroredStrategy over two logical CPUs, which
exercises two replicas inside one worker without a GPU.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def synthetic_domain(name, harmonics, seed, sr=16000, seconds=3.0):
    import numpy as np

    from tfstyle.domains import Domain

    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    clips = [0.3 * sum(w * np.sin(2 * np.pi * f * (k + 1) * t) for k, w in enumerate(harmonics))
             .astype(np.float32) for f in rng.uniform(200, 600, 4)]
    return Domain(name, clips, [f"{name}{i}" for i in range(len(clips))], [])


def tiny(family_name, rows):
    """(family module, config, domains, networks to save) of a tiny run of the family."""
    if family_name == "harmonic":
        from tfstyle.converters.harmonic import config, family

        settings = config.preset("harmonic", units=8, window_frames=16, harmonics=8,
                                 noise_bands=9, reverb_seconds=0.02, batch_size=rows, sr=16000)
        return (family, settings, {"b": synthetic_domain("b", (0.3, 1.0, 0.6), 1)},
                lambda model: (model.decoder, model.synth))
    if family_name == "vocoder":
        from tfstyle.converters.vocoder import config, family

        # The discriminator joins at step 2, so the strategies run both phases.
        settings = config.preset("wavenet-16k", n_fft=192, hop_length=64, n_mels=32,
                                 upsample="4,4,4", channels="8,8,4", dilations="1,3",
                                 segment_frames=16, scales=2, adversarial_start=2,
                                 batch_size=rows)
        return (family, settings, {"b": synthetic_domain("b", (0.3, 1.0, 0.6), 1)},
                lambda model: (model.generator, model.discriminator))
    from tfstyle.converters.melgan_vc import family, frontend

    settings = frontend.preset("melgan-vc", n_mels=16, generator_filters=8, critic_filters=8,
                               embedding=4, batch_size=rows)
    return (family, settings, {"a": synthetic_domain("a", (1.0, 0.1), 0),
                               "b": synthetic_domain("b", (0.3, 1.0, 0.6), 1)},
            lambda model: (model.generator, model.critic, model.siamese))


def main(strategy_name, batch_size, steps, run_dir, out, family_name="melgan-vc"):
    import numpy as np

    from tfstyle.converters import distribute, training
    from tfstyle.converters.run import Run

    if strategy_name == "mirrored-2cpu":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategy, cluster = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), None
    else:
        cluster = distribute.cluster(strategy_name)
        strategy = distribute.make_strategy(strategy_name)
    family, config, domains, networks = tiny(family_name, int(batch_size))
    domains, _ = family.prepare(domains, config, Run(run_dir))
    step, model = training.train(Run(run_dir), family, config, domains,
                                 total_steps=int(steps),
                                 checkpoint_every=int(steps), log_every=3, strategy=strategy,
                                 cluster=cluster)
    weights = [v.numpy().ravel() for net in networks(model) for v in net.weights]
    np.save(out, np.concatenate(weights))
    print(f"{(cluster or distribute.Cluster()).label}: step {step}", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
