"""Model registry and the pix2pix weight initialisation.

Models are looked up by name in :data:`MODELS` (no string if/elif factory), so a checkpoint that
stores ``{"name": ..., "kwargs": ...}`` can rebuild its model without the config that trained it.
"""

from __future__ import annotations

from typing import Any

import torch
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

_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)


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


@torch.no_grad()
def init_weights(model: nn.Module, std: float = 0.02) -> nn.Module:
    """pix2pix init, in place: conv/linear weights N(0, std), affine norm weights N(1, std), biases 0.

    The paper initialises from N(0, 0.02); PyTorch's default Kaiming-uniform init trains noticeably
    worse with the GAN loss. Returns ``model`` for chaining.
    """
    for module in model.modules():
        if isinstance(module, _WEIGHTED):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, _NORMS) and getattr(module, "weight", None) is not None:
            nn.init.normal_(module.weight, 1.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    for module in model.modules():  # layers whose start matters more than N(0, std), e.g. ICNR sub-pixel
        if hasattr(module, "init_icnr"):
            module.init_icnr()
    return model
