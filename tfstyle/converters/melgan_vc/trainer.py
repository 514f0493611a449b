"""MelGAN-VC training model: the Keras custom-`train_step` GAN idiom with three networks.

Each batch is (a, b): crops of 3 slices from domains A and B, [batch, joint_every, n_mels,
3·frames, 1]. Every `joint_every`-th batch updates generator + siamese (one optimizer, loss
L_GS) and the critic (its own optimizer, hinge loss); the other batches update the critic
alone. One `cycle` (and Keras' `train_step`) runs one such cycle on `joint_every` batches delivered
together as [batch, joint_every, ...]: the schedule is then plain Python, with no in-graph
branch around an optimizer (which `tf.distribute` strategies cannot synchronise). Under a
strategy every replica sees batch_size rows; gradients are summed over replicas, so each loss is
divided by their number, and BatchNorm statistics are synchronised across replicas (every term
is a batch mean, so the step equals one device's step on the global batch). Losses:

    L_D   = ½·[mean(relu(1 − D(b))) + mean(relu(1 + D(G(a))))]          hinge critic
    L_adv = −mean(D(G(a)))                                              generator
    L_id  = mean over slices of mean|b_i − G(b_i)|                      identity
    TraVeL: v = S(a1) − S(a3), w = S(G(a1)) − S(G(a3)):  mean((v − w)²) − mean(cos(v, w))
    margin: mean(relu(δ − ‖S(a1) − S(a3)‖)²)
    L_pitch = mean over slices of the pitch-class profile distance of a_i and G(a_i)  (pitch.py)
    L_GS  = L_adv + travel_weight·(TraVeL + margin) + identity_weight·L_id
            + pitch_weight·L_pitch                    (pitch_weight 0 in the reference recipe)
"""
import keras
import tensorflow as tf

from tfstyle.converters.melgan_vc.critic import Critic
from tfstyle.converters.melgan_vc.generator import Generator
from tfstyle.converters.melgan_vc.pitch import pitch_consistency
from tfstyle.converters.melgan_vc.siamese import Siamese

LOSSES = ("d_loss", "d_real", "d_fake", "g_adv", "identity", "travel", "margin", "pitch",
          "g_total")


def build_networks(config):
    keras.utils.set_random_seed(config.seed)
    generator = Generator(config.n_mels, config.generator_filters, config.spectral_norm,
                          name="generator")
    critic = Critic(config.n_mels, config.crop_frames, config.critic_filters,
                    config.spectral_norm, name="critic")
    siamese = Siamese(config.n_mels, config.frames, config.generator_filters, config.embedding,
                      name="siamese")
    return generator, critic, siamese


class MelGANVC(keras.Model):
    """Holds G, D and S; `compile(d_optimizer, g_optimizer)`; `fit` on zipped (a, b) batches."""

    def __init__(self, generator, critic, siamese, config, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.critic, self.siamese, self.config = \
            generator, critic, siamese, config
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOSSES}
        # Its three networks are built functional models and it has no weights of its own;
        # saying so spares `fit` a symbolic call on a training batch, which is not G's input.
        self.built = True

    # Loss terms on the progress bar (all of them go to TensorBoard).
    shown = ("d_loss", "g_adv", "identity", "travel")

    @property
    def steps_per_cycle(self):
        return self.config.joint_every

    def checkpoint_objects(self):
        return dict(generator=self.generator, critic=self.critic, siamese=self.siamese,
                    d_optimizer=self.d_optimizer, g_optimizer=self.g_optimizer)

    def preview(self, clip):
        """A clip converted as `tfstyle convert` would (32 Griffin-Lim iterations)."""
        from tfstyle.converters.melgan_vc import convert, frontend

        # A preview must not move the power-iteration vectors, or the chief's next training
        # step would differ from the other workers' (and from a run without previews).
        state = [v.numpy() for v in self.generator.non_trainable_variables]
        mel = convert.convert_mel(self.generator, frontend.normalized_mel(clip, self.config),
                                  self.config)
        audio = frontend.mel_to_audio(mel, self.config, len(clip), n_iter=32)
        for variable, value in zip(self.generator.non_trainable_variables, state):
            variable.assign(value)
        return audio

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_optimizer.build(self.critic.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables
                               + self.siamese.trainable_variables)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _slices(self, x):
        f = self.config.frames
        return [x[:, :, i * f:(i + 1) * f] for i in range(3)]

    def _convert(self, pieces):
        # The reference runs G on each slice separately (BatchNorm statistics per slice).
        return [self.generator(p, training=True) for p in pieces]

    def _critic_losses(self, b, fake):
        real = tf.reduce_mean(tf.nn.relu(1.0 - self.critic(b, training=True)))
        fake = tf.reduce_mean(tf.nn.relu(1.0 + self.critic(fake, training=True)))
        return 0.5 * (real + fake), real, fake

    def _scale(self):
        # Gradients are summed over replicas when a strategy applies them.
        return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync

    def _joint_step(self, a, b):
        cfg = self.config
        a_slices, b_slices = self._slices(a), self._slices(b)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_slices = self._convert(a_slices)
            fake = tf.concat(fake_slices, axis=2)
            identity = tf.add_n([tf.reduce_mean(tf.abs(bi - gi))
                                 for bi, gi in zip(b_slices, self._convert(b_slices))]) / 3.0
            sa1, sa3 = self.siamese(a_slices[0], training=True), \
                self.siamese(a_slices[2], training=True)
            sab1, sab3 = self.siamese(fake_slices[0], training=True), \
                self.siamese(fake_slices[2], training=True)
            v, w = sa1 - sa3, sab1 - sab3
            cos = tf.reduce_sum(tf.math.l2_normalize(v, -1) * tf.math.l2_normalize(w, -1), -1)
            travel = tf.reduce_mean(tf.square(v - w)) - tf.reduce_mean(cos)
            margin = tf.reduce_mean(tf.square(tf.nn.relu(
                cfg.delta - tf.sqrt(tf.reduce_sum(tf.square(v), -1) + 1e-12))))
            # Logged at any weight: how far the output's pitch classes wander is worth watching.
            pitch = tf.add_n([pitch_consistency(ai, gi, cfg)
                              for ai, gi in zip(a_slices, fake_slices)]) / 3.0
            adv = -tf.reduce_mean(self.critic(fake, training=True))
            g_total = adv + cfg.travel_weight * (travel + margin) + cfg.identity_weight * identity
            if cfg.pitch_weight:
                g_total += cfg.pitch_weight * pitch
            d_loss, d_real, d_fake = self._critic_losses(b, fake)
            g_scaled, d_scaled = g_total * self._scale(), d_loss * self._scale()
        g_vars = self.generator.trainable_variables + self.siamese.trainable_variables
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
        d_vars = self.critic.trainable_variables
        self.d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
        return dict(d_loss=d_loss, d_real=d_real, d_fake=d_fake, g_adv=adv, identity=identity,
                    travel=travel, margin=margin, pitch=pitch, g_total=g_total)

    def _critic_step(self, a, b):
        fake = tf.concat(self._convert(self._slices(a)), axis=2)
        with tf.GradientTape() as tape:
            d_loss, d_real, d_fake = self._critic_losses(b, fake)
            scaled = d_loss * self._scale()
        d_vars = self.critic.trainable_variables
        self.d_optimizer.apply(tape.gradient(scaled, d_vars), d_vars)
        return dict(d_loss=d_loss, d_real=d_real, d_fake=d_fake)

    def cycle(self, data):
        """One schedule cycle on a batch (a, b) of [batch, joint_every, ...]: a joint step on
        the first crop of every row, critic steps on the others. Returns each loss term
        averaged over the cycle's steps (the generator's terms come from the joint step)."""
        a, b = data
        losses = self._joint_step(a[:, 0], b[:, 0])
        critic = [self._critic_step(a[:, k], b[:, k]) for k in range(1, self.config.joint_every)]
        return {name: tf.add_n([value] + [c[name] for c in critic if name in c])
                / (1 + sum(name in c for c in critic)) for name, value in losses.items()}

    def train_step(self, data):
        # Keras' `fit` idiom; tfstyle's own loop (training.py) calls `cycle` under any strategy.
        for name, value in self.cycle(data).items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
