"""Training data for the vocoder: validated clips (`tfstyle.domains.load_domain`) → a tf.data
pipeline of aligned (mel, audio) segments.

Each clip's normalised mel is computed whole, on-graph, as conversion computes it for a
segment (its 80 dB floor is relative to the clip's peak), and cached with the clip. Every
epoch each clip starts at a random frame and is cut into segments of `segment_frames` frames
and the `segment_frames · hop` samples that start at the first frame's centre, so long clips
give proportionally more segments.
"""


def segments(domain, config, seed=0):
    """Endless tf.data pipeline of (mel [segment_frames, n_mels], audio [segment samples])."""
    import tensorflow as tf

    from tfstyle.converters.melgan_vc.frontend import normalized_mel

    frames, hop = config.segment_frames, config.hop_length
    clips = domain.clips
    ds = tf.data.Dataset.from_generator(lambda: iter(clips),
                                        output_signature=tf.TensorSpec([None], tf.float32))
    ds = ds.map(lambda y: (normalized_mel(y, config), y),
                num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.cache().shuffle(len(clips), seed=seed, reshuffle_each_iteration=True).repeat()

    def cut(index, mel, y):
        # Whole segments only: the audio of the last frames may be shorter than a segment.
        usable = tf.minimum(tf.shape(mel, tf.int64)[0], tf.size(y, tf.int64) // hop)
        offset = tf.random.stateless_uniform([], [seed, index], 0, frames, tf.int64)
        offset = tf.minimum(offset, tf.maximum(usable - frames, 0))
        count = (usable - offset) // frames
        mels = tf.reshape(mel[offset:offset + count * frames], [-1, frames, config.n_mels])
        audio = tf.reshape(y[offset * hop:(offset + count * frames) * hop],
                           [-1, frames * hop])
        return tf.data.Dataset.from_tensor_slices((mels, audio))

    ds = ds.enumerate().flat_map(lambda i, pair: cut(i, *pair))
    return ds.shuffle(1024, seed=seed)


def training_pipeline(domain, config, rows=None, seed=None):
    """Batches (mel [rows, segment_frames, n_mels], audio [rows, segment samples])."""
    import tensorflow as tf

    seed = config.seed if seed is None else seed
    return segments(domain, config, seed).batch(rows or config.batch_size,
                                                drop_remainder=True).prefetch(tf.data.AUTOTUNE)
