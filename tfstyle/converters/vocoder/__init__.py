"""A mel-conditioned, non-autoregressive WaveNet vocoder: normalised mel spectrograms (MelGAN-VC's
front end) back to sound instead of Griffin-Lim. `config` (settings and presets), `generator`
(the WaveNet), `correction` (its output's band levels brought back onto the mel), `framing`
(overlap-add of their inverse STFTs), `discriminator` (multi-scale critic), `trainer` (the GAN
training model), `data` (the tf.data pipeline), `synthesis` (vocoding of any length, in
blocks) and `family` (the converter-family interface that `tfstyle fit --model vocoder`
trains)."""
