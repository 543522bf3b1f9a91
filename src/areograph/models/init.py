"""The pix2pix weight initialisation every trained network starts from (the registry: models/registry.py)."""

from __future__ import annotations

import torch
from torch import nn

_WEIGHTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)


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
