"""Training data for MelGAN-VC: validated clips (`tfstyle.domains.load_domain`) → a tf.data
pipeline of crops.

The normalised mel of each clip is computed on-graph and cached. Every epoch each clip starts
at a random offset and is cut into critic crops of 3 slices, one slice apart, so long clips
give proportionally more crops.
"""


def crops(domain, config, seed=0):
    """Endless tf.data pipeline of critic crops [n_mels, 3·frames, 1] from one domain."""
    import tensorflow as tf

    from tfstyle.converters.melgan_vc.frontend import normalized_mel

    crop = config.crop_frames
    clips = domain.clips
    ds = tf.data.Dataset.from_generator(lambda: iter(clips),
                                        output_signature=tf.TensorSpec([None], tf.float32))
    ds = ds.map(lambda y: normalized_mel(y, config), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.cache().shuffle(len(clips), seed=seed, reshuffle_each_iteration=True).repeat()

    def cut(mel, index):
        # A fresh random offset per clip and epoch, then crops one slice apart.
        offset = tf.random.stateless_uniform([], [seed, index], 0, config.frames, tf.int64)
        pieces = tf.signal.frame(mel[offset:], crop, config.frames, axis=0)
        return tf.data.Dataset.from_tensor_slices(tf.transpose(pieces, [0, 2, 1])[..., None])

    ds = ds.enumerate().flat_map(lambda i, mel: cut(mel, i))
    return ds.shuffle(2048, seed=seed)


def training_pipeline(domain_a, domain_b, config, rows=None, seed=None):
    """Zipped (a, b) batches [rows, joint_every, n_mels, 3·frames, 1] (rows: batch_size).

    Each row holds the joint_every crops that one schedule cycle uses in turn, so a batch can be
    split by rows among replicas (or workers) and the union of their step k is exactly the
    single-device step k of the same global batch.
    """
    import tensorflow as tf

    seed = config.seed if seed is None else seed
    pairs = tf.data.Dataset.zip((crops(domain_a, config, seed), crops(domain_b, config, seed + 1)))
    return pairs.batch(config.joint_every, drop_remainder=True).batch(
        rows or config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
