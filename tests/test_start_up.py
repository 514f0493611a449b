"""What a command loads before it works: TensorFlow without the Keras extras tfstyle never
uses, and the timbre prior's front end without librosa (each ~1 s of the first command)."""
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(code):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_tensorflow_starts_without_what_keras_imports_for_others_and_all_load_after():
    out = run_python(
        "import sys\n"
        "from tfstyle.cli.common import import_tensorflow\n"
        "tf = import_tensorflow()\n"
        "print(*(m in sys.modules for m in ('sklearn', 'keras._tf_keras.keras', 'pandas',\n"
        "                                   'matplotlib', 'IPython')))\n"
        "print(type(tf.keras.layers.Dense(2)).__name__)\n"
        "import sklearn, keras, pandas, matplotlib.pyplot\n"
        "print(keras.layers.Dense is tf.keras.layers.Dense)\n")
    assert out.split() == ["False"] * 5 + ["Dense", "True"]


def test_the_optimisation_command_imports_no_plotting_and_no_converters(tmp_path):
    """`--method random-cnn` without --plot: matplotlib, TFDS, librosa, the converter
    families' models, the timbre prior and IPython (which tqdm.auto would import for the
    progress bar) stay unloaded (the CLI reads the families' settings for its --help, which
    are plain dataclasses)."""
    out = run_python(
        "import sys\n"
        "from tfstyle.cli import main\n"
        f"main(['transfer', 'examples/piano_melody.wav', 'examples/violin_phrase.wav', '-o',\n"
        f"      {str(tmp_path / 'o.wav')!r}, '--method', 'random-cnn', '-q', '--steps', '2',\n"
        "      '--gl-iters', '2'])\n"
        "print(sorted(m for m in ('matplotlib', 'tensorflow_datasets', 'librosa',\n"
        "    'tfstyle.converters.melgan_vc.generator', 'tfstyle.converters.harmonic.family',\n"
        "    'tfstyle.harmonic.prior', 'tfstyle.harmonic.decoder', 'IPython')\n"
        "    if m in sys.modules))\n")
    assert out.strip().splitlines()[-1] == "[]"


def test_the_prior_embeds_with_its_stored_filterbank_which_is_librosas(tmp_path):
    import librosa

    from tfstyle.harmonic import timbre
    from tfstyle.harmonic.prior import HERE

    with np.load(os.path.join(HERE, timbre.FRONT_END_FILE)) as saved:
        stored = saved["mel_filterbank"]
    want = librosa.filters.mel(sr=22050, n_fft=timbre.N_FFT, n_mels=timbre.N_MELS, fmax=11025.0)
    np.testing.assert_allclose(stored, want.T, rtol=1e-6, atol=1e-9)
    out = run_python(
        "import sys, numpy as np\n"
        "from tfstyle.cli.common import import_tensorflow\n"
        "import_tensorflow()\n"
        "from tfstyle.harmonic.prior import Prior\n"
        "prior = Prior.load()\n"
        "y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)\n"
        "print(prior.embed([y]).shape, 'librosa' in sys.modules)\n")
    assert out.strip() == "(32,) False"
