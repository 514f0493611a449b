"""The vocoder's generator: WaveNet's gated, dilated residual layers with a local mel condition,
non-causal and non-autoregressive (as in Parallel WaveGAN), in stages that may upsample:

    h = conv_dilated(x) + cond          cond: a 1x1 projection of the mel, repeated to the rate
    x = x + conv_1x1(tanh(h_a) · sigmoid(h_b))

Input: normalised mel [batch, frames, n_mels]; a width-7 convolution lifts it to the first
stage's channels. Two endings (`VocoderConfig.head`):

- `WaveNetISTFTVocoder` (istft, the shipped vocoders): stages at the frame rate (or a few times
  it), then per-frame STFT log-magnitude, added to the mel's own estimate of it, and phase,
  added to each bin's centre-frequency ramp, and an inverse STFT, as iSTFTNet and Vocos end.
- `WaveNetVocoder` (waveform): stages up to the sample rate by transposed convolutions (as
  MelGAN and HiFi-GAN upsample), then a width-7 convolution and tanh.

Both give the waveform [batch, frames · hop].
"""
import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="tfstyle")
class GatedResidual(keras.layers.Layer):
    """One WaveNet layer: dilated conv, plus the local condition, gated, 1x1, residual."""

    def __init__(self, channels, dilation, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.dilation, self.kernel_size = channels, dilation, kernel_size
        self.conv = keras.layers.Conv1D(2 * channels, kernel_size, dilation_rate=dilation,
                                        padding="same", name="dilated")
        self.out = keras.layers.Conv1D(channels, 1, name="residual")

    def build(self, shapes):
        x_shape, _ = shapes
        self.conv.build(x_shape)
        self.out.build(tuple(x_shape[:-1]) + (self.channels,))

    def call(self, inputs):
        x, cond = inputs
        h = self.conv(x) + cond
        z = ops.tanh(h[..., :self.channels]) * ops.sigmoid(h[..., self.channels:])
        return x + self.out(z)

    def compute_output_shape(self, shapes):
        return shapes[0]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "dilation": self.dilation,
                "kernel_size": self.kernel_size}


def _lrelu(name):
    return keras.layers.LeakyReLU(negative_slope=0.2, name=name)


def _stages(mel, x, upsample, channels, dilations):
    """The WaveNet stages on x: each upsamples by its factor (a transposed convolution; none
    for 1) and runs one gated residual layer per dilation, conditioned on the mel."""
    rate = 1
    for s, (factor, width) in enumerate(zip(upsample, channels), start=1):
        rate *= factor
        if factor > 1:
            x = _lrelu(f"s{s}_act")(x)
            x = keras.layers.Conv1DTranspose(width, 2 * factor, strides=factor, padding="same",
                                             name=f"s{s}_up")(x)
        elif x.shape[-1] != width:
            x = keras.layers.Conv1D(width, 1, name=f"s{s}_width")(x)
        # Every layer's condition in one 1x1 projection at the frame rate, repeated to this
        # stage's rate (the mel holds one value per frame anyway).
        cond = keras.layers.Conv1D(2 * width * len(dilations), 1, name=f"s{s}_cond")(mel)
        if rate > 1:
            cond = keras.layers.UpSampling1D(rate, name=f"s{s}_cond_up")(cond)
        for i, d in enumerate(dilations):
            part = cond[..., 2 * width * i:2 * width * (i + 1)]
            x = GatedResidual(width, d, name=f"s{s}_layer{i + 1}")([x, part])
    return x


@keras.saving.register_keras_serializable(package="tfstyle")
class WaveNetVocoder(keras.Model):
    """Args: n_mels; upsample (factors, their product the hop); channels (per stage);
    dilations (of every stage's layers)."""

    def __init__(self, n_mels=192, upsample=(8, 6, 4), channels=(128, 64, 32),
                 dilations=(1, 3, 9), **kwargs):
        upsample, channels, dilations = list(upsample), list(channels), list(dilations)

        # Functional graph.
        mel = keras.Input(shape=(None, n_mels), name="mel")
        x = keras.layers.Conv1D(2 * channels[0], 7, padding="same", name="pre")(mel)
        x = _stages(mel, x, upsample, channels, dilations)
        x = _lrelu("post_act")(x)
        x = keras.layers.Conv1D(1, 7, padding="same", name="post")(x)
        audio = keras.layers.Reshape((-1,), name="waveform")(
            keras.layers.Activation("tanh", name="tanh")(x))
        super().__init__(inputs=mel, outputs=audio, **kwargs)

        # Config.
        self.n_mels, self.upsample, self.channels, self.dilations = \
            n_mels, upsample, channels, dilations

    @property
    def hop_length(self):
        product = 1
        for f in self.upsample:
            product *= f
        return product

    def receptive_field(self):
        """Frames of mel context that reach an output sample, on each side: the width-7
        convolutions, the transposed convolutions' kernels and the dilated layers, each
        counted at its stage's rate (rounded up)."""
        import math

        samples = 3 * self.hop_length             # the first width-7 convolution, per side
        rate = 1
        for factor in self.upsample:
            rate *= factor
            step = self.hop_length // rate        # samples per step at this stage
            samples += 2 * factor * step          # the transposed convolution's kernel
            samples += sum(self.dilations) * step
        samples += 3                              # the last width-7 convolution
        return math.ceil(samples / self.hop_length)

    def get_config(self):
        return {"n_mels": self.n_mels, "upsample": self.upsample, "channels": self.channels,
                "dilations": self.dilations, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _overlap_add(frames, hop):
    """[batch, frames, 4·hop] → [batch, (frames + 3)·hop]: frames placed every hop and summed,
    by pads and adds alone (TFLite builtins)."""
    parts = ops.reshape(frames, (ops.shape(frames)[0], -1, 4, hop))
    total = sum(ops.pad(parts[:, :, j], ((0, 0), (j, 3 - j), (0, 0))) for j in range(4))
    return ops.reshape(total, (ops.shape(frames)[0], -1))


@keras.saving.register_keras_serializable(package="tfstyle")
class ISTFTHead(keras.layers.Layer):
    """Per-frame log-magnitude and phase [batch, frames, 2·bins] → waveform [batch, frames · hop]
    by an inverse STFT with n_fft = 4·hop (periodic Hann, centred frames, as `spectral.stft`).

    The log-magnitude is added to `prior` (the mel's own estimate of it, so the network learns
    only what the mel blurred: harmonics within a band); the inverse DFT is one matrix product
    with a fixed basis, and overlap-add is pads and adds, so it exports to builtin TFLite ops.
    """

    def __init__(self, hop, **kwargs):
        super().__init__(**kwargs)
        from tfstyle import spectral

        self.hop = hop
        n = 4 * hop
        bins = n // 2 + 1
        window = spectral._window(n, n)
        k, t = np.arange(bins)[:, None], np.arange(n)[None, :]
        weight = np.where((k == 0) | (k == n // 2), 1.0, 2.0) / n
        angle = 2.0 * np.pi * k * t / n
        # Rows: the real parts' cosines, then the imaginary parts' negative sines; windowed
        # and divided by the Hann² overlap of 4 frames (1.5), which is constant.
        basis = np.concatenate([weight * np.cos(angle), -weight * np.sin(angle)]) * window
        self.basis = basis.astype(np.float32) / 1.5

    def call(self, inputs):
        log_magnitude, phase = inputs
        # Each bin's phase advances by its centre frequency over a hop, k·2π/4, so that a
        # constant output is a steady partial at the bin's frequency rather than four frames
        # that cancel; a convolution at the frame rate could not produce that ramp itself.
        # It repeats every 4 frames: blocks of one signal must start on a multiple of 4
        # (`frame_period`).
        frames, bins = ops.shape(phase)[1], ops.shape(phase)[2]
        turns = ops.mod(ops.arange(frames)[:, None] * ops.arange(bins)[None, :], 4)
        phase = phase + ops.cast(turns, phase.dtype) * (np.pi / 2)
        magnitude = ops.exp(ops.minimum(log_magnitude, 8.0))
        spectrum = ops.concatenate([magnitude * ops.cos(phase), magnitude * ops.sin(phase)], -1)
        frames = ops.matmul(spectrum, ops.convert_to_tensor(self.basis))
        audio = _overlap_add(frames, self.hop)
        # Frame t is centred on sample t·hop: the first 2·hop samples precede the signal.
        return audio[:, 2 * self.hop:-self.hop]

    def get_config(self):
        return {**super().get_config(), "hop": self.hop}


@keras.saving.register_keras_serializable(package="tfstyle")
class MelMagnitudePrior(keras.layers.Layer):
    """Normalised mel [batch, frames, n_mels] → the log STFT magnitude at n_fft = 4·hop that it
    implies: the exact inverse of the normalisation, then the mel bank's pseudo-inverse
    clamped at a floor (no learned weights)."""

    def __init__(self, front_end, hop, **kwargs):
        super().__init__(**kwargs)
        from tfstyle import spectral

        self.front_end, self.hop = dict(front_end), hop
        import warnings

        f, n = self.front_end, 4 * hop
        with warnings.catch_warnings():
            # The lowest bands can be narrower than this FFT's bins: they get no bin here,
            # and the pseudo-inverse simply has nothing to spread them over (librosa warns).
            warnings.simplefilter("ignore", UserWarning)
            fb = spectral.mel_filterbank(f["sr"], n, f["n_mels"], f["fmin"], f["fmax"],
                                         htk=True, norm=None)
        # magnitude_to_mel's scale: power over Σw², times n_fft_front_end / n.
        energy = float(np.sum(spectral._window(n, n) ** 2))
        self.unmix = (np.linalg.pinv(fb.astype(np.float64)) * energy * n
                      / f["n_fft"]).astype(np.float32)

    def call(self, mel):
        f = self.front_end
        db = (ops.clip(mel, -1.0, 1.0) + 1.0) / 2.0 * -f["min_level_db"] \
            + f["min_level_db"] + f["ref_level_db"]
        power = ops.power(10.0, db / 10.0)
        linear = ops.matmul(power, ops.convert_to_tensor(self.unmix))
        floor = 1e-4 * ops.mean(power, axis=-1, keepdims=True) + 1e-10
        return 0.5 * ops.log(ops.maximum(linear, floor))

    def get_config(self):
        return {**super().get_config(), "front_end": self.front_end, "hop": self.hop}


@keras.saving.register_keras_serializable(package="tfstyle")
class WaveNetISTFTVocoder(keras.Model):
    """The same gated, dilated residual layers with the mel as local condition, run at the
    frame rate (or a few times it), ending in per-frame STFT magnitude and phase and an
    inverse STFT (the output of iSTFTNet and Vocos) instead of layers at the sample rate.

    Args: n_mels; upsample (factors before the stages; 1 keeps the frame rate); channels (per
    stage); dilations (of every stage's layers); front_end (sr, n_fft, n_mels, fmin, fmax,
    min_level_db, ref_level_db of the normalised mel); hop_length (of the mel)."""

    def __init__(self, n_mels=192, upsample=(1,), channels=(256,),
                 dilations=(1, 2, 4, 8, 1, 2, 4, 8), front_end=None, hop_length=192, **kwargs):
        upsample, channels, dilations = list(upsample), list(channels), list(dilations)
        front_end = dict(front_end or {})
        rate = 1
        for factor in upsample:
            rate *= factor
        hop = hop_length // rate
        bins = 2 * hop + 1

        # Functional graph.
        mel = keras.Input(shape=(None, n_mels), name="mel")
        x = keras.layers.Conv1D(channels[0], 7, padding="same", name="pre")(mel)
        x = _stages(mel, x, upsample, channels, dilations)
        x = _lrelu("post_act")(x)
        log_magnitude = keras.layers.Conv1D(bins, 1, name="log_magnitude",
                                            kernel_initializer="zeros")(x)
        phase = keras.layers.Conv1D(bins, 1, name="phase")(x)
        prior = MelMagnitudePrior(front_end, hop, name="mel_magnitude")(mel)
        if rate > 1:
            prior = keras.layers.UpSampling1D(rate, name="prior_up")(prior)
        audio = ISTFTHead(hop, name="waveform")([
            keras.layers.Add(name="magnitude")([prior, log_magnitude]), phase])
        super().__init__(inputs=mel, outputs=audio, **kwargs)

        # Config.
        self.n_mels, self.upsample, self.channels, self.dilations = \
            n_mels, upsample, channels, dilations
        self.front_end, self._hop_length = front_end, hop_length

    @property
    def hop_length(self):
        return self._hop_length

    @property
    def frame_period(self):
        """Blocks of one mel vocoded apart must start on multiples of this many frames (the
        head's phase ramp repeats every 4 frames of its own hop)."""
        import math

        return 4 // math.gcd(4, self._rate())

    def _rate(self):
        rate = 1
        for factor in self.upsample:
            rate *= factor
        return rate

    def receptive_field(self):
        """Frames of mel context that reach an output sample, on each side: the width-7
        convolution, the transposed convolutions, the dilated layers at their stages' rates,
        and the two frames on each side that overlap-add with the sample's own; rounded up
        to a multiple of `frame_period`, so that blocks cut with this context stay aligned."""
        import math

        frames, rate = 3.0, 1
        for factor in self.upsample:
            rate *= factor
            frames += (2 * factor / rate if factor > 1 else 0) + sum(self.dilations) / rate
        frames = math.ceil(frames) + 2 + 1
        return -(-frames // self.frame_period) * self.frame_period

    def get_config(self):
        return {"n_mels": self.n_mels, "upsample": self.upsample, "channels": self.channels,
                "dilations": self.dilations, "front_end": self.front_end,
                "hop_length": self._hop_length, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build(config, name="generator"):
    """The generator of a VocoderConfig: its `head` picks the waveform or the iSTFT ending."""
    if config.head == "istft":
        front_end = {k: getattr(config, k) for k in ("sr", "n_fft", "n_mels", "fmin", "fmax",
                                                     "min_level_db", "ref_level_db")}
        return WaveNetISTFTVocoder(config.n_mels, config.upsample_factors,
                                   config.stage_channels, config.dilation_list, front_end,
                                   config.hop_length, name=name)
    return WaveNetVocoder(config.n_mels, config.upsample_factors, config.stage_channels,
                          config.dilation_list, name=name)
