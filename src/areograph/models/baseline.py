"""The seed's plain encoder-decoder, kept as the baseline pix2pix must beat.

Four stride-2 convolutions down, four transposed convolutions up, no skip connections; trained with
MSE (``TrainConfig(mode="regression", regression_loss="mse")``). Without skips, fine detail has to
pass through the 1/16-resolution bottleneck, which is exactly what the U-Net fixes.
"""

from __future__ import annotations

import torch
from torch import nn

N_LEVELS = 4


class Baseline(nn.Module):
    """Encoder-decoder ``in_channels`` -> ``out_channels`` with widths width, 2w, 4w, 8w; tanh output.

    H and W must be divisible by 16.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 3, width: int = 32) -> None:
        super().__init__()
        widths = [width * 2**i for i in range(N_LEVELS)]
        layers: list[nn.Module] = []
        prev = in_channels
        for i, w in enumerate(widths):
            layers.append(nn.Conv2d(prev, w, kernel_size=4, stride=2, padding=1))
            if i > 0:
                layers.append(nn.InstanceNorm2d(w))
            layers.append(nn.LeakyReLU(0.2, True))
            prev = w
        for w in reversed(widths[:-1]):
            layers += [
                nn.ConvTranspose2d(prev, w, kernel_size=4, stride=2, padding=1),
                nn.InstanceNorm2d(w),
                nn.ReLU(True),
            ]
            prev = w
        layers += [nn.ConvTranspose2d(prev, out_channels, kernel_size=4, stride=2, padding=1), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate a batch; raises a clear error when H or W is not divisible by 16."""
        factor = 2**N_LEVELS
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"baseline needs H and W divisible by {factor}, got {tuple(x.shape[-2:])}")
        return self.model(x)
