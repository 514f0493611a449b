"""--precision: where "auto" takes bfloat16, and a transfer in bfloat16 against float32."""
import numpy as np
import pytest

from conftest import SR, melody, tone
from tfstyle.optimisation import precision
from tfstyle.optimisation import transfer as style_transfer

TINY = dict(method="random-cnn", sr=SR, n_fft=512, hop_length=128, filters=64, kernel_size=3,
            gl_iters=8)


@pytest.mark.parametrize("flags,gpu,want", [
    ({"avx2", "avx512f", "avx512_bf16"}, False, "bfloat16"),   # AMD Zen 4, Intel Cooper Lake
    ({"avx2", "avx512f", "amx_bf16", "amx_tile"}, False, "bfloat16"),   # Sapphire Rapids
    ({"avx2", "fma"}, False, "float32"),                        # emulated: slower than float32
    ({"avx512_bf16"}, True, "float32"),                         # a GPU does the products
    (set(), False, "float32")])
def test_auto_takes_bfloat16_only_where_the_cpu_multiplies_it(flags, gpu, want):
    assert precision.resolve("auto", flags=flags, gpu=gpu) == want
    for forced in ("float32", "bfloat16"):
        assert precision.resolve(forced, flags=flags, gpu=gpu) == forced
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve("float16", flags=flags, gpu=gpu)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\n"
                       "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n\nprocessor\t: 1\n")
    assert precision.cpu_flags(str(cpuinfo)) == {"fpu", "sse2", "avx2", "avx512f",
                                                 "avx512_bf16"}
    assert precision.native_bfloat16(precision.cpu_flags(str(cpuinfo)))
    assert precision.cpu_flags(str(tmp_path / "missing")) == set()


def test_a_bfloat16_transfer_converges_where_the_float32_one_does():
    content = melody([262, 294, 330, 349], sr=SR)
    style = tone(2.0, SR, freqs=(110, 220, 330, 440, 550))
    results = {p: style_transfer.run(content, style, steps=60, tol=0.0, precision=p, **TINY)
               for p in ("float32", "bfloat16")}
    assert results["bfloat16"].precision == "bfloat16" and results["float32"].precision == ""
    for result in results.values():
        assert result.losses["style"] < 0.5 * result.initial_losses["style"]
    # Rounding the products' inputs moves where Adam ends by little against what it moved.
    start = results["float32"].initial_losses["total"]
    ends = [results[p].losses["total"] for p in ("float32", "bfloat16")]
    assert abs(ends[1] - ends[0]) < 0.05 * (start - ends[0])
    assert np.corrcoef(results["float32"].audio, results["bfloat16"].audio)[0, 1] > 0.9


def test_bfloat16_runs_without_xla_and_other_networks_stay_float32():
    content, style = melody([262, 330], sr=SR), tone(1.0, SR, freqs=(300, 600))
    config = style_transfer.TransferConfig(**TINY, precision="bfloat16").validate()
    opt = style_transfer.Optimisation(content, style, config)
    assert opt.matmul_dtype == "bfloat16" and not opt.jit_compile
    config = style_transfer.TransferConfig(**{**TINY, "precision": "float32"}).validate()
    assert style_transfer.Optimisation(content, style, config).jit_compile
    config = style_transfer.TransferConfig(**{**TINY, "method": "cnn2d", "filters": 8,
                                              "precision": "bfloat16"}).validate()
    assert style_transfer.Optimisation(content, style, config).matmul_dtype == "float32"
