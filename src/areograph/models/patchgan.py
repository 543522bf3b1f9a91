"""The pix2pix discriminator: a PatchGAN that classifies overlapping patches as real or fake.

With ``n_layers=3`` each output logit sees a 70 x 70 input patch and a 256 px pair gives a 30 x 30
map of logits (the reference ``NLayerDiscriminator``). The input is the condition and the image
concatenated along channels, so the discriminator judges the *pair*, not the image alone.
"""

from __future__ import annotations

import torch
from torch import nn


class PatchGAN(nn.Module):
    """Conditional PatchGAN: ``in_channels`` = condition channels + image channels -> 1 logit map.

    Layers: C(ndf) without norm, then ``n_layers - 1`` stride-2 C(ndf * min(2^n, 8)) with instance
    norm, one stride-1 block, and a stride-1 conv to one channel; kernel 4, LeakyReLU 0.2.
    """

    def __init__(self, in_channels: int = 4, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"PatchGAN needs n_layers >= 1, got {n_layers}")
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, ndf, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.2, True),
        ]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=stride, padding=1, bias=True),
                nn.InstanceNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, pair: torch.Tensor) -> torch.Tensor:
        """Patch logits (no sigmoid: the trainer uses BCEWithLogits) for a batch of cond+image pairs."""
        return self.model(pair)
