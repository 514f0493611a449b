"""The vocoder's generator: WaveNet's gated, dilated residual layers with a local mel condition,
non-causal and non-autoregressive (as in Parallel WaveGAN), in stages that may upsample:

    h = conv_dilated(x) + cond          cond: a 1x1 projection of the mel, repeated to the rate
    x = x + conv_1x1(tanh(h_a) · sigmoid(h_b))

Input: normalised mel [batch, frames, n_mels]; a width-7 convolution lifts it to the first
stage's channels. Two endings (`VocoderConfig.head`):

- `WaveNetISTFTVocoder` (istft, the shipped vocoders): stages at the frame rate (or a few times
  it), then per-frame STFT log-magnitude and phase, each added to what the mel itself implies
  (`prior`: a phase vocoder's magnitude and phase, `MelMagnitudePrior`, `MelPeakFrequency`),
  and an inverse STFT, as iSTFTNet and Vocos end.
- `WaveNetVocoder` (waveform): stages up to the sample rate by transposed convolutions (as
  MelGAN and HiFi-GAN upsample), then a width-7 convolution and tanh.

Both give the waveform [batch, frames · hop]. What a user hears is `synthesise`'s: the istft
one's output brought back onto its mel band by band (`correction.MelCorrection`, not part of
the trained graph).
"""
import math

import keras
import numpy as np
from keras import ops

from tfstyle.converters.melgan_vc import frontend
from tfstyle.converters.vocoder.correction import MelCorrection
from tfstyle.converters.vocoder.framing import overlap_add


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
        return math.prod(self.upsample)

    def receptive_field(self):
        """Frames of mel context that reach an output sample, on each side: the width-7
        convolutions, the transposed convolutions' kernels and the dilated layers, each
        counted at its stage's rate (rounded up)."""
        samples = 3 * self.hop_length             # the first width-7 convolution, per side
        rate = 1
        for factor in self.upsample:
            rate *= factor
            step = self.hop_length // rate        # samples per step at this stage
            samples += 2 * factor * step          # the transposed convolution's kernel
            samples += sum(self.dilations) * step
        samples += 3                              # the last width-7 convolution
        return math.ceil(samples / self.hop_length)

    def synthesise(self, mel):
        """Mel [batch, frames, n_mels] → the waveform as vocoding gives it (the network's)."""
        return self(mel, training=False)

    def get_config(self):
        return {"n_mels": self.n_mels, "upsample": self.upsample, "channels": self.channels,
                "dilations": self.dilations, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="tfstyle")
class ISTFTHead(keras.layers.Layer):
    """Per-frame log-magnitude and phase [batch, frames, bins] → waveform [batch, frames · hop]
    by an inverse STFT with n_fft = overlap·hop (periodic Hann, centred frames, as
    `spectral.stft`; overlap even, at least 4).
    The inverse DFT is one matrix product with a fixed basis, and overlap-add is pads and adds,
    so it exports to builtin TFLite ops.

    The phase is added to one that sounds each partial at a frequency, since a convolution at
    the frame rate cannot make a phase that advances with time (a steady mel gives a steady
    output), and frames whose phases do not advance cancel:

    - `locked=False`: each bin's centre frequency, k·2π/overlap per hop. A partial between two
      centres sounds at the nearer one, up to half a bin off.
    - `locked=True`, a phase vocoder's: a third input gives each bin the frequency it follows
      (in bins: `MelPeakFrequency`, a partial's own where one is near). Each bin's phase
      advances by it, summed over frames (`integrated_phase`), and the bins around a partial
      take the phase of the bin nearest to it, less π per bin (a centred Hann frame's
      spectrum of a sinusoid), so that they add up to one partial instead of beating (identity
      phase locking, Laroche & Dolson 1999).

    Each bin's centre-frequency turn repeats every `overlap` frames: blocks of one signal must
    start on a multiple of it (`frame_period`).
    """

    def __init__(self, hop, locked=False, overlap=4, **kwargs):
        super().__init__(**kwargs)
        from tfstyle import spectral

        self.hop, self.locked, self.overlap = hop, locked, overlap
        n = overlap * hop
        # Rows: the real parts' cosines, then the imaginary parts' negative sines; windowed
        # and divided by the sum of Hann² over `overlap` frames (3·overlap/8, constant for an
        # overlap of 3 or more).
        basis = np.concatenate(spectral._real_idft(n)) * spectral._window(n, n)
        self.basis = basis.astype(np.float32) / (3.0 * overlap / 8.0)
        self.turn = 2.0 * np.pi / overlap

    def integrated_phase(self, frequency):
        """Each bin's frequency [batch, frames, bins] (in bins) → the running sum over frames,
        0 at the first, of its offset from the bin's centre (2π/overlap per bin and hop); the
        centres' own turn is `synthesise`'s."""
        step = (frequency - ops.arange(ops.shape(frequency)[-1], dtype=frequency.dtype)) \
            * self.turn
        return ops.cumsum(step, axis=1) - step

    def call(self, inputs):
        if not self.locked:
            return self.synthesise(inputs[0], inputs[1])
        log_magnitude, phase, frequency = inputs
        return self.synthesise(log_magnitude,
                               phase + self.lock(frequency, self.integrated_phase(frequency)))

    def lock(self, frequency, integrated):
        """The phase each bin takes beyond its centre's turn: that of the bin nearest to the
        frequency it follows (its integrated offset and turn), less π per bin between them."""
        frames, bins = ops.shape(frequency)[1], ops.shape(frequency)[2]
        k = ops.arange(bins)
        nearest = ops.cast(ops.clip(ops.round(frequency), 0, bins - 1), "int32")
        t = ops.arange(frames)[None, :, None]
        turns = ops.mod(nearest * t, self.overlap) - ops.mod(k[None, None] * t, self.overlap)
        return (_take_bins(integrated, nearest)
                + ops.cast(turns, frequency.dtype) * self.turn
                - ops.cast(k - nearest, frequency.dtype) * np.pi)

    def synthesise(self, log_magnitude, phase):
        """Log-magnitude and phase (beyond each bin's centre-frequency turn) → waveform."""
        frames, bins = ops.shape(phase)[1], ops.shape(phase)[2]
        turns = ops.mod(ops.arange(frames)[:, None] * ops.arange(bins)[None, :], self.overlap)
        phase = phase + ops.cast(turns, phase.dtype) * self.turn
        magnitude = ops.exp(ops.minimum(log_magnitude, 8.0))
        spectrum = ops.concatenate([magnitude * ops.cos(phase), magnitude * ops.sin(phase)], -1)
        frames = ops.matmul(spectrum, ops.convert_to_tensor(self.basis))
        audio = overlap_add(frames, self.hop, self.overlap)
        # Frame t is centred on sample t·hop: the first overlap/2 hops precede the signal.
        half = self.overlap // 2
        return audio[:, half * self.hop:(1 - half) * self.hop]

    def get_config(self):
        return {**super().get_config(), "hop": self.hop, "locked": self.locked,
                "overlap": self.overlap}


# Multiplicative updates of the phase-vocoder prior's magnitude (spectral.mel_to_linear's).
NNLS_ITERATIONS = 32


def _take_bins(values, index):
    """values[b, t, index[b, t, k]] for each b, t, k, as one flat gather (a TFLite builtin)."""
    shape = ops.shape(values)
    rows = ops.reshape(ops.arange(shape[0] * shape[1], dtype="int32"), (shape[0], shape[1], 1))
    return ops.reshape(ops.take(ops.reshape(values, (-1,)), rows * shape[2] + index),
                       shape)


@keras.saving.register_keras_serializable(package="tfstyle")
class MelMagnitudePrior(keras.layers.Layer):
    """Normalised mel [batch, frames, n_mels] → the log STFT magnitude at n_fft = overlap·hop
    that it implies (no learned weights): the mel power, then the mel bank's pseudo-inverse
    clamped at a floor, refined by `iterations` multiplicative updates towards the non-negative
    least squares solution (as `spectral.mel_to_linear`; 0: the clamped pseudo-inverse
    alone)."""

    def __init__(self, front_end, hop, iterations=0, overlap=4, **kwargs):
        super().__init__(**kwargs)
        self.front_end, self.hop, self.iterations = dict(front_end), hop, iterations
        self.overlap = overlap
        from tfstyle import spectral

        f, n = self.front_end, overlap * hop
        fb = frontend.mel_bank(frontend.settings(f), n)
        # magnitude_to_mel's scale: power over Σw², times n_fft_front_end / n.
        scale = float(np.sum(spectral._window(n, n) ** 2)) * n / f["n_fft"]
        self.unmix = (np.linalg.pinv(fb) * scale).astype(np.float32)
        self.mix = (fb / scale).astype(np.float32)
        self.gram = (self.mix @ self.mix.T).astype(np.float32)

    def call(self, mel):
        power = frontend.denormalize(mel, frontend.settings(self.front_end))
        linear = ops.matmul(power, ops.convert_to_tensor(self.unmix))
        floor = 1e-4 * ops.mean(power, axis=-1, keepdims=True) + 1e-10
        linear = ops.maximum(linear, floor)
        if self.iterations:
            numerator = ops.matmul(power, ops.transpose(ops.convert_to_tensor(self.mix)))
            gram = ops.convert_to_tensor(self.gram)
            for _ in range(self.iterations):
                linear = linear * numerator / (ops.matmul(linear, gram) + 1e-12)
            linear = ops.maximum(linear, 1e-10)
        return 0.5 * ops.log(linear)

    def get_config(self):
        return {**super().get_config(), "front_end": self.front_end, "hop": self.hop,
                "iterations": self.iterations, "overlap": self.overlap}


@keras.saving.register_keras_serializable(package="tfstyle")
class MelPeakFrequency(keras.layers.Layer):
    """Normalised mel [batch, frames, n_mels] → the frequency each STFT bin (n_fft = overlap·hop)
    follows, in bins [batch, frames, bins] (no learned weights): a phase vocoder's peaks, read
    from the mel. A band louder than both neighbours (and within `floor_db` of the frame's
    loudest) is a partial; a parabola through the three bands' levels places it between band
    centres. Each bin within `reach` bins of a partial follows the nearest one; the others
    follow their own centres. The mel's bands are narrower than these bins up to about 1 kHz
    (192 bands from 0 Hz at 16 kHz), where a partial's pitch matters most."""

    def __init__(self, front_end, hop, reach=2.0, floor_db=60.0, overlap=4, **kwargs):
        super().__init__(**kwargs)
        import librosa

        self.front_end, self.hop, self.reach, self.floor_db = dict(front_end), hop, reach, \
            floor_db
        self.overlap = overlap
        f, n = self.front_end, overlap * hop
        # Band centres in bins of this STFT.
        centres = librosa.mel_frequencies(f["n_mels"] + 2, fmin=f["fmin"], fmax=f["fmax"],
                                          htk=True)[1:-1] * n / f["sr"]
        self.centres = centres.astype(np.float32)
        # For each bin, the bands whose partials could be within reach of it: those with a
        # centre within reach + 1 bins, as many for every bin (the last repeated).
        bins = n // 2 + 1
        near = [np.nonzero(np.abs(centres - k) <= reach + 1.0)[0] for k in range(bins)]
        width = max(1, max(len(c) for c in near))
        self.candidates = np.array(
            [np.resize(c, width) if len(c) else np.full(width, np.argmin(np.abs(centres - k)))
             for k, c in enumerate(near)], np.int32)

    # Where `partials` puts a band that holds no partial, in bins.
    FAR = 1e4

    def partials(self, mel):
        """Normalised mel [batch, frames, n_mels] → each band's partial, in bins of this STFT,
        or FAR where the band holds none."""
        db = frontend.denormalize_db(mel, frontend.settings(self.front_end))
        a, b, c = db[..., :-2], db[..., 1:-1], db[..., 2:]
        loud = b > ops.max(db, axis=-1, keepdims=True) - self.floor_db
        peak = ops.logical_and(ops.logical_and(b > a, b >= c), loud)
        curve = ops.minimum(a - 2.0 * b + c, -1e-6)
        shift = ops.clip(0.5 * (a - c) / curve, -0.5, 0.5)
        centres = ops.convert_to_tensor(self.centres)
        up, down = centres[2:] - centres[1:-1], centres[1:-1] - centres[:-2]
        place = centres[1:-1] + ops.where(shift > 0, shift * up, shift * down)
        place = ops.where(peak, place, self.FAR)
        # Bands 0 and the last are never peaks.
        return ops.pad(place, ((0, 0), (0, 0), (1, 1)), constant_values=self.FAR)

    def call(self, mel):
        place = self.partials(mel)
        far = self.FAR
        bins = self.candidates.shape[0]
        k = ops.arange(bins, dtype=place.dtype)
        offset = ops.take(place, ops.convert_to_tensor(self.candidates), axis=-1) \
            - k[:, None]
        # The offset of least size (of two as near, the higher), without argmin and a gather
        # along an axis, which TFLite has no builtin for.
        size = ops.abs(offset)
        least = ops.min(size, axis=-1, keepdims=True)
        nearest = ops.max(ops.where(size <= least, offset, -far), axis=-1)
        return k + ops.where(ops.abs(nearest) <= self.reach, nearest, 0.0)

    def get_config(self):
        return {**super().get_config(), "front_end": self.front_end, "hop": self.hop,
                "reach": self.reach, "floor_db": self.floor_db, "overlap": self.overlap}


@keras.saving.register_keras_serializable(package="tfstyle")
class WaveNetISTFTVocoder(keras.Model):
    """The same gated, dilated residual layers with the mel as local condition, run at the
    frame rate (or a few times it), ending in per-frame STFT magnitude and phase and an
    inverse STFT (the output of iSTFTNet and Vocos) instead of layers at the sample rate.
    The network's magnitude and phase are added to what the mel itself implies (`prior`):

    - "mel": the mel bank's clamped pseudo-inverse as magnitude, each bin's centre frequency
      as phase (`ISTFTHead`);
    - "phase-vocoder": the non-negative least-squares magnitude (`MelMagnitudePrior`) and a
      phase vocoder's phase: each partial of the mel at its own frequency, its bins locked
      together (`MelPeakFrequency`, `ISTFTHead`). Untrained (both layers start at zero) this
      is a vocoder in itself.

    Args: n_mels; upsample (factors before the stages; 1 keeps the frame rate); channels (per
    stage); dilations (of every stage's layers); front_end (sr, n_fft, n_mels, fmin, fmax,
    min_level_db, ref_level_db of the normalised mel); hop_length (of the mel); prior; overlap
    (the inverse STFT's n_fft over its hop: 4 gave the first shipped vocoders; 6 at hop 192
    is the 16 kHz mel's own 1152-point frame, whose bins keep a low note's partials apart);
    correction (passes of `MelCorrection` in `synthesise` and `vocode_block`; 0: none)."""

    def __init__(self, n_mels=192, upsample=(1,), channels=(256,),
                 dilations=(1, 2, 4, 8, 1, 2, 4, 8), front_end=None, hop_length=192,
                 prior="mel", overlap=4, correction=0, **kwargs):
        upsample, channels, dilations = list(upsample), list(channels), list(dilations)
        front_end = dict(front_end or {})
        rate = math.prod(upsample)
        hop = hop_length // rate
        bins = overlap * hop // 2 + 1
        locked = prior == "phase-vocoder"

        # Functional graph.
        mel = keras.Input(shape=(None, n_mels), name="mel")
        x = keras.layers.Conv1D(channels[0], 7, padding="same", name="pre")(mel)
        x = _stages(mel, x, upsample, channels, dilations)
        x = _lrelu("post_act")(x)
        log_magnitude = keras.layers.Conv1D(bins, 1, name="log_magnitude",
                                            kernel_initializer="zeros")(x)
        phase = keras.layers.Conv1D(bins, 1, name="phase",
                                    kernel_initializer="zeros" if locked else "glorot_uniform"
                                    )(x)
        magnitude = MelMagnitudePrior(front_end, hop, NNLS_ITERATIONS if locked else 0,
                                      overlap=overlap, name="mel_magnitude")(mel)
        frequency = MelPeakFrequency(front_end, hop, overlap=overlap, name="peak_frequency")(
            mel) if locked else None
        if rate > 1:
            magnitude = keras.layers.UpSampling1D(rate, name="prior_up")(magnitude)
            if locked:
                frequency = keras.layers.UpSampling1D(rate, name="frequency_up")(frequency)
        head = [keras.layers.Add(name="magnitude")([magnitude, log_magnitude]), phase]
        audio = ISTFTHead(hop, locked, overlap, name="waveform")(
            head + ([frequency] if locked else []))
        super().__init__(inputs=mel, outputs=audio, **kwargs)

        # Config.
        self.n_mels, self.upsample, self.channels, self.dilations = \
            n_mels, upsample, channels, dilations
        self.front_end, self._hop_length, self.prior = front_end, hop_length, prior
        self.overlap, self.correction = overlap, correction
        self._frequency = frequency
        self._corrector = MelCorrection(front_end, hop_length, correction) if correction \
            else None

    @property
    def bins(self):
        """STFT bins of the head (n_fft = overlap × its hop)."""
        return self.overlap * (self._hop_length // self._rate()) // 2 + 1

    @property
    def integrate(self):
        """Whether the phase sums each bin's frequency over frames (blocks carry it on)."""
        return self.prior == "phase-vocoder"

    @property
    def hop_length(self):
        return self._hop_length

    @property
    def frame_period(self):
        """Blocks of one mel vocoded apart must start on multiples of this many frames (the
        head's phase ramp repeats every `overlap` frames of its own hop)."""
        return self.overlap // math.gcd(self.overlap, self._rate())

    def _rate(self):
        return math.prod(self.upsample)

    def receptive_field(self):
        """Frames of mel context that reach an output sample, on each side: the width-7
        convolution, the transposed convolutions, the dilated layers at their stages' rates,
        the overlap/2 frames on each side that overlap-add with the sample's own, and the
        correction's reach; rounded up to a multiple of `frame_period`, so that blocks cut with
        this context stay aligned."""
        frames, rate = 3.0, 1
        for factor in self.upsample:
            rate *= factor
            frames += (2 * factor / rate if factor > 1 else 0) + sum(self.dilations) / rate
        frames = math.ceil(frames) + self.overlap // 2 + 1
        frames += self._corrector.reach if self._corrector else 0
        return -(-frames // self.frame_period) * self.frame_period

    def vocode_block(self, mel, carry, reference, step):
        """One block of a long mel, its phase continued from the block before: mel [batch,
        frames, n_mels] and `carry` [batch, bins], the integrated phase (`ISTFTHead`) at the
        block's frame `reference` → (waveform, the integrated phase at frame reference + step,
        the next block's carry). Blocks computed with the receptive field as context then
        agree where they overlap; without an integrated phase the carry is passed on."""
        if not self.integrate:
            return self.synthesise(mel), carry
        head = self.get_layer("waveform")
        # Traced once per function that calls it (synthesis, the TFLite export), so this view
        # of the same layers is not kept on the model (nor in its weights' order).
        parts = keras.Model(self.input, [self.get_layer("magnitude").output,
                                         self.get_layer("phase").output, self._frequency])
        log_magnitude, phase, frequency = parts(mel, training=False)
        total = head.integrated_phase(frequency)
        # The head's frames are the mel's times the upsampling.
        reference, step = reference * self._rate(), step * self._rate()
        total = total + ops.expand_dims(carry - ops.take(total, reference, axis=1), 1)
        return (self._correct(head.synthesise(log_magnitude, phase + head.lock(frequency,
                                                                               total)), mel),
                ops.take(total, reference + step, axis=1))

    def synthesise(self, mel):
        """Mel [batch, frames, n_mels] → the waveform as vocoding gives it: the network's,
        corrected onto the mel."""
        return self._correct(self(mel, training=False), mel)

    def _correct(self, audio, mel):
        return self._corrector(audio, mel) if self._corrector else audio

    def get_config(self):
        return {"n_mels": self.n_mels, "upsample": self.upsample, "channels": self.channels,
                "dilations": self.dilations, "front_end": self.front_end,
                "hop_length": self._hop_length, "prior": self.prior, "overlap": self.overlap,
                "correction": self.correction, "name": self.name}

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
                                   config.hop_length, config.prior, config.overlap,
                                   config.correction, name=name)
    return WaveNetVocoder(config.n_mels, config.upsample_factors, config.stage_channels,
                          config.dilation_list, name=name)
