"""The one decision of training/render arithmetic: bf16 only where the hardware has it natively."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from areograph.training import precision as precision_mod
from areograph.training.precision import (
    PrecisionError,
    native_bf16_flag,
    parse_cpu_flags,
    resolve_precision,
)
from areograph.training.trainer import TrainConfig, train

# Abbreviated /proc/cpuinfo texts of the two machines the issue measured on.
ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme sse sse2 avx2 fma avx512f avx512bw avx512vl avx512_bf16 avx512_vnni
"""
AVX2_EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
flags\t\t: fpu vme sse sse2 avx avx2 fma f16c bmi2
"""
SAPPHIRE_RAPIDS = "flags\t: avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n"
AVX512_NO_BF16 = "flags\t: avx2 avx512f avx512bw avx512vl avx512dq\n"  # Skylake-SP: AVX-512, no bf16


def test_cpu_flags_are_read_from_cpuinfo_text() -> None:
    assert "avx512_bf16" in parse_cpu_flags(ZEN4)
    assert parse_cpu_flags(AVX2_EPYC) >= {"avx2", "fma"}
    assert parse_cpu_flags("processor: 0\n") == frozenset()
    assert native_bf16_flag(parse_cpu_flags(SAPPHIRE_RAPIDS)) == "amx_bf16"
    assert native_bf16_flag(parse_cpu_flags(ZEN4)) == "avx512_bf16"
    assert native_bf16_flag(parse_cpu_flags(AVX512_NO_BF16)) is None  # AVX-512 alone is not bf16
    assert native_bf16_flag(parse_cpu_flags(AVX2_EPYC)) is None


@pytest.mark.parametrize(
    ("cpuinfo", "requested", "bf16"),
    [
        (ZEN4, "auto", True),
        (SAPPHIRE_RAPIDS, "auto", True),
        (AVX2_EPYC, "auto", False),
        (AVX512_NO_BF16, "auto", False),
        (ZEN4, "fp32", False),
        (ZEN4, "bf16", True),
    ],
)
def test_auto_takes_bf16_only_on_native_cpus(cpuinfo: str, requested: str, bf16: bool) -> None:
    got = resolve_precision(requested, "cpu", flags=parse_cpu_flags(cpuinfo))
    assert got.bf16 is bf16 and got.channels_last is bf16  # channels_last auto follows bf16
    assert got.memory_format == (torch.channels_last if bf16 else torch.contiguous_format)
    assert resolve_precision(requested, "cpu", True, parse_cpu_flags(cpuinfo)).channels_last


def test_cuda_is_bf16_unless_fp32_is_asked() -> None:
    assert resolve_precision("auto", "cuda", flags=()).bf16
    assert not resolve_precision("fp32", "cuda", flags=()).bf16


@pytest.mark.parametrize("cpuinfo", [AVX2_EPYC, AVX512_NO_BF16])
def test_explicit_bf16_on_a_cpu_without_native_bf16_is_refused_with_the_reason(cpuinfo: str) -> None:
    with pytest.raises(PrecisionError, match=r"bf16 refused.*no amx_bf16 / avx512_bf16 in the CPU flags"):
        resolve_precision("bf16", "cpu", flags=parse_cpu_flags(cpuinfo))
    with pytest.raises(PrecisionError, match="precision must be one of"):
        resolve_precision("fp16", "cpu", flags=())


def test_autocast_really_runs_bf16_when_chosen() -> None:
    lin = torch.nn.Linear(4, 4)
    x = torch.ones(2, 4)
    with resolve_precision("bf16", "cpu", flags={"avx512_bf16"}).autocast(torch.device("cpu")):
        assert lin(x).dtype == torch.bfloat16
    with resolve_precision("auto", "cpu", flags={"avx2"}).autocast(torch.device("cpu")):
        assert lin(x).dtype == torch.float32


class _Pairs(torch.utils.data.Dataset):
    def __len__(self) -> int:
        raise AssertionError("the refusal must come before any data is read")

    def __getitem__(self, i: int) -> dict:
        raise AssertionError("the refusal must come before any data is read")


def test_training_refuses_bf16_on_an_avx2_cpu_before_any_work(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(precision_mod, "cpu_flags", lambda: parse_cpu_flags(AVX2_EPYC))
    spec = {"name": "baseline", "kwargs": {"in_channels": 1, "out_channels": 3, "width": 4}}
    cfg = TrainConfig(steps=2, device="cpu", mode="regression", precision="bf16")
    with pytest.raises(PrecisionError, match="bf16 refused"):
        train(spec, None, _Pairs(), cfg, tmp_path / "run")
    assert not (tmp_path / "run").exists()
