"""The vocoder's training model: the Keras custom-`train_step` GAN idiom, G and D each with
their own optimizer. A batch is (mel [batch, segment_frames, n_mels], audio [batch,
segment_frames · hop]). Losses (least-squares GAN, as HiFi-GAN; feature matching, as MelGAN):

    L_stft = multi-resolution STFT loss (spectral convergence + log magnitude, 3 resolutions)
    L_mel  = mean|mel(x) − mel(G(m))|, on the normalised mel of the vocoder's front end
    L_dB   = the benchmarks' log-mel distance (`spectral_loss.log_mel_distance`: 64 bands of
             2048-point frames, in dB, gain removed; at a hop of 256 samples)
    L_adv  = mean over scales of mean((D(G(m)) − 1)²)
    L_fm   = mean over scales and feature maps of mean|D_i(x) − D_i(G(m))|
    L_G    = L_stft + mel_weight · L_mel + log_mel_weight · L_dB
             + on · (adversarial_weight · L_adv
             + feature_weight · L_fm)
    L_D    = mean over scales of mean((D(x) − 1)²) + mean(D(G(m))²)

`on` is 0 for the first `adversarial_start` steps (the spectral loss alone, as Parallel WaveGAN
starts) and 1 after. The mel term is HiFi-GAN's; it is what teaches the generator silence where
the mel is silent (its floor is 80 dB below each segment's peak, as the metrics' is), which the
STFT loss alone learned slowly. Before `adversarial_start` the discriminator is neither run nor
moved: its gradients are zeros from a `tf.cond`, and the optimizers are applied outside any
branch, which `tf.distribute` strategies need. Adam's β2 is HiFi-GAN's 0.99, so the
discriminator's first real step after those zeros is not a large one.
"""
import keras
import tensorflow as tf

from tfstyle.converters.melgan_vc.frontend import normalized_mel
from tfstyle.dsp.spectral_loss import log_mel_distance, multi_resolution_stft_loss

LOSSES = ("g_total", "stft", "convergence", "log_magnitude", "mel", "log_mel", "g_adv",
          "features", "d_loss")
# The log-mel distance's hop: a 0.38 s training segment gives 25 of the metric's frames at 256
# samples, 13 at its own 512.
LOG_MEL_HOP = 256


class VocoderGAN(keras.Model):
    """Holds G and D; `compile(g_optimizer, d_optimizer)`; `cycle` on (mel, audio) batches."""

    def __init__(self, generator, discriminator, config, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.config = generator, discriminator, config
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOSSES}
        self.steps_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="steps_done")
        self.built = True

    # Loss terms on the progress bar (all of them go to TensorBoard).
    shown = ("stft", "mel", "log_mel", "g_adv", "d_loss")
    steps_per_cycle = 1

    def checkpoint_objects(self):
        return dict(generator=self.generator, discriminator=self.discriminator,
                    g_optimizer=self.g_optimizer, d_optimizer=self.d_optimizer,
                    steps_done=self.steps_done)

    def preview(self, clip):
        """The clip's mel vocoded back to sound, as `tfstyle convert` resynthesises."""
        from tfstyle.converters.vocoder import synthesis

        return synthesis.resynthesise(self.generator, clip, self.config)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        super().compile(**kwargs)
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def _scale(self):
        # Gradients are summed over replicas when a strategy applies them.
        return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync

    def _adversarial(self, audio, fake):
        """(L_adv, L_fm) of the generator."""
        real_maps, fake_maps = self.discriminator(audio), self.discriminator(fake)
        adv = tf.add_n([tf.reduce_mean(tf.square(maps[-1] - 1.0)) for maps in fake_maps])
        features = tf.add_n([tf.reduce_mean(tf.abs(tf.stop_gradient(r) - f))
                             for real, fake_ in zip(real_maps, fake_maps)
                             for r, f in zip(real[:-1], fake_[:-1])])
        scales = float(len(fake_maps))
        return adv / scales, features / (scales * (len(fake_maps[0]) - 1))

    def _critic(self, audio, fake):
        """(D's gradients, L_D)."""
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            real_maps = self.discriminator(audio)
            fake_maps = self.discriminator(tf.stop_gradient(fake))
            loss = tf.add_n([tf.reduce_mean(tf.square(r[-1] - 1.0)) + tf.reduce_mean(
                tf.square(f[-1])) for r, f in zip(real_maps, fake_maps)]) / len(real_maps)
            scaled = loss * self._scale()
        return tape.gradient(scaled, variables), loss

    def cycle(self, data):
        mel, audio = data
        cfg = self.config
        on = self.steps_done >= cfg.adversarial_start
        zero = tf.constant(0.0)
        g_vars = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            fake = self.generator(mel, training=True)
            stft, convergence, log_magnitude = multi_resolution_stft_loss(audio, fake)
            mel_loss = tf.reduce_mean(tf.abs(normalized_mel(audio, cfg)
                                             - normalized_mel(fake, cfg)))
            log_mel = zero if not cfg.log_mel_weight else log_mel_distance(
                audio, fake, cfg.sr, hop_length=LOG_MEL_HOP)
            adv, features = tf.cond(on, lambda: self._adversarial(audio, fake),
                                    lambda: (zero, zero))
            g_total = (stft + cfg.mel_weight * mel_loss + cfg.log_mel_weight * log_mel
                       + cfg.adversarial_weight * adv + cfg.feature_weight * features)
            scaled = g_total * self._scale()
        self.g_optimizer.apply(tape.gradient(scaled, g_vars), g_vars)
        d_vars = self.discriminator.trainable_variables
        d_grads, d_loss = tf.cond(on, lambda: self._critic(audio, fake),
                                  lambda: ([tf.zeros_like(v) for v in d_vars], zero))
        self.d_optimizer.apply(d_grads, d_vars)
        self.steps_done.assign_add(1)
        return dict(g_total=g_total, stft=stft, convergence=convergence,
                    log_magnitude=log_magnitude, mel=mel_loss, log_mel=log_mel, g_adv=adv,
                    features=features, d_loss=d_loss)

    def train_step(self, data):
        # Keras' `fit` idiom; tfstyle's own loop (converters/training.py) calls `cycle`.
        for name, value in self.cycle(data).items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
