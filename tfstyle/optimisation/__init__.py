"""Optimisation style transfer (Gatys-style, after the five works tfstyle implements): a
representation of the output is optimised so that a frozen feature network keeps the
content's activations and takes on the style's statistics.

- `representations`: the optimised variable (log1p STFT, mel dB, MFCC, waveform) and its way
  back to sound;
- `features`: the feature networks (random 1-D and 2-D CNNs, VGG19, ResNet50, ViT, the NSynth
  encoder) behind one interface;
- `losses`: content, Gram (in the cheaper of its two orders), L2, autocorrelation and total
  variation;
- `precision`: whether the random CNN's products run in bfloat16 (`--precision`);
- `transfer`: the engine: windows of a long content, the compiled Adam loop (or L-BFGS),
  Griffin-Lim.

It imports nothing of the harmonic family; `tfstyle.dispatch` chooses between the two, and
the settings both read (`tfstyle.transfer_config`, `tfstyle.presets`) sit below both.
"""
