"""Which arithmetic a training step or an inference batch runs in: the one place that decides.

bf16 autocast is the fast path where the hardware has native bf16 arithmetic: on CUDA, and on CPUs whose
flags (Linux /proc/cpuinfo) list ``avx512_bf16`` or ``amx_bf16``, where oneDNN runs bf16 convolutions and
GEMMs natively, about twice the fp32 rate. Anywhere else bf16 autocast falls back to generic kernels: on an
AVX2-only AMD EPYC it made the demo generator's step 21x slower. So the choice is read from the CPU's
flags, never guessed, and an explicit ``bf16`` on a CPU without native bf16 is refused with the reason.
channels_last (NHWC) goes with bf16: oneDNN's bf16 kernels are NHWC, so NCHW tensors are reordered at
every convolution otherwise.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

PRECISIONS = ("auto", "fp32", "bf16")
CHANNELS_LAST = ("auto", True, False)
# CPU flags (as /proc/cpuinfo spells them) that give native bf16 matrix arithmetic, best first.
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
CPUINFO = Path("/proc/cpuinfo")


class PrecisionError(ValueError):
    """A requested precision this machine cannot run well (raised before any work)."""


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of a /proc/cpuinfo text (x86 ``flags``, Arm ``Features``; the first CPU's)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """This machine's CPU flags; empty where /proc/cpuinfo does not exist (then no native bf16 is assumed)."""
    try:
        return parse_cpu_flags(CPUINFO.read_text())
    except OSError:
        return frozenset()


def native_bf16_flag(flags: Iterable[str]) -> str | None:
    """The flag that gives this CPU native bf16 (``amx_bf16`` / ``avx512_bf16``), or None."""
    have = set(flags)
    return next((f for f in NATIVE_BF16_FLAGS if f in have), None)


@dataclass(frozen=True)
class Precision:
    """The resolved choice: bf16 autocast or not, NHWC or not, and why (for the log)."""

    bf16: bool
    channels_last: bool
    reason: str

    @property
    def name(self) -> str:
        return ("bf16" if self.bf16 else "fp32") + (" + channels_last" if self.channels_last else "")

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def autocast(self, device: torch.device) -> contextlib.AbstractContextManager[Any]:
        """bf16 autocast on ``device`` when chosen (bf16 needs no loss scaling), else nothing."""
        if self.bf16:
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def resolve_precision(
    requested: str,
    device: torch.device | str,
    channels_last: bool | str = "auto",
    flags: Iterable[str] | None = None,
) -> Precision:
    """``training.precision`` / ``render.precision`` (auto | fp32 | bf16) on ``device``, decided once.

    auto: bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere. fp32: always fp32. bf16: on CUDA or
    a native-bf16 CPU; on any other CPU a PrecisionError naming the missing flags. ``channels_last``
    auto follows bf16. ``flags`` (default: this machine's) lets tests feed any CPU.
    """
    if requested not in PRECISIONS:
        raise PrecisionError(f"precision must be one of {PRECISIONS}, got {requested!r}")
    if channels_last not in CHANNELS_LAST:
        raise PrecisionError(f"channels_last must be auto, true or false, got {channels_last!r}")
    device = torch.device(device)
    if device.type == "cuda":
        native, why = "cuda", "CUDA"
    else:
        flag = native_bf16_flag(cpu_flags() if flags is None else flags)
        native = flag
        cpu = platform.processor() or platform.machine()
        wanted = " / ".join(NATIVE_BF16_FLAGS)
        why = f"{flag} in the CPU flags" if flag else f"no {wanted} in the CPU flags ({cpu})"
    if requested == "bf16" and not native:
        raise PrecisionError(
            f"precision: bf16 refused on this CPU: {why}, so bf16 autocast would run on generic kernels "
            "(about 20x slower than fp32 measured on an AVX2-only CPU); use precision: auto or fp32"
        )
    bf16 = requested == "bf16" or (requested == "auto" and bool(native))
    reason = {
        "fp32": "precision: fp32 set",
        "bf16": f"precision: bf16 set ({why})",
        "auto": f"precision: auto, {why}",
    }[requested]
    nhwc = bf16 if channels_last == "auto" else bool(channels_last)
    return Precision(bf16=bf16, channels_last=nhwc, reason=reason)
