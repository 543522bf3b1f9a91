"""The model registry: network class by the name a model file stores.

Models are looked up by name in :data:`MODELS` (no string if/elif factory), so a checkpoint that
stores ``{"name": ..., "kwargs": ...}`` can rebuild its model without the config that trained it.
The names are the network families of docs/architecture.md ("Model kinds"); they are written into
every model file, so a registered name is never renamed.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from areograph.models.ab_bins import ABBinUNet
from areograph.models.baseline import Baseline
from areograph.models.global_unet import GlobalUNet
from areograph.models.patchgan import PatchGAN
from areograph.models.unet import UNetGenerator

MODELS: dict[str, type[nn.Module]] = {
    "unet": UNetGenerator,
    "patchgan": PatchGAN,
    "baseline": Baseline,
    "ab_bins_unet": ABBinUNet,
    "global_unet": GlobalUNet,
}


def build_model(name: str, **kwargs: Any) -> nn.Module:
    """Instantiate the registered model ``name`` with ``kwargs`` (PyTorch default init; see init_weights)."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; registered models: {sorted(MODELS)}") from None
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise TypeError(f"bad arguments for model {name!r} ({cls.__name__}): {err}") from err
