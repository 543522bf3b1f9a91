"""A U-Net colouriser that also sees the whole frame: a global branch fused at the bottleneck.

Iizuka, Simo-Serra & Ishikawa 2016 ("Let there be Color!") give the local network a global feature
vector of the whole image, computed by its own small encoder and concatenated to every position of
the local features. That is what a 128 px window lacks for a frame's overall tint: whether it looks
at sunlit ground, a shadowed deck or sky. Here the input is two channels: the window's L and the
frame's whole view (data/colour.py ``frame_view_channel``: the frame's L squeezed to a square,
resized to the window). The view is pooled to ``global_px``, run through a small conv encoder with
global average pooling to ``global_width`` features, and fused at the U-Net's bottleneck by
concatenation and a 1 x 1 convolution. The U-Net is :class:`~areograph.models.unet.UNetGenerator`
itself (on one channel), with the fusion inserted into its innermost block.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from areograph.models.unet import SkipBlock, UNetGenerator, level_channels


class GlobalFusion(nn.Module):
    """Concatenate the frame's feature vector to every bottleneck position, mix with a 1 x 1 conv."""

    def __init__(self, channels: int, global_width: int) -> None:
        super().__init__()
        self.mix = nn.Conv2d(channels + global_width, channels, kernel_size=1)
        self.context: torch.Tensor | None = None  # (B, global_width), set by GlobalUNet per call

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.context is None:
            raise RuntimeError("GlobalFusion called outside GlobalUNet.forward (no frame context)")
        g = self.context.to(x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[-2:])
        return self.mix(torch.cat([x, g], 1))


def global_encoder(global_px: int, width: int) -> nn.Sequential:
    """Strided convs from (B, 1, global_px, global_px) down to 8 x 8, then a global mean and a linear.

    No normalisation: the frame's absolute lightness is part of what tells its scene.
    """
    layers: list[nn.Module] = []
    channels, size = 1, global_px
    out = 16
    while size > 8:
        layers += [nn.Conv2d(channels, out, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        channels, size, out = out, size // 2, min(out * 2, width)
    layers += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.LeakyReLU(0.2, True),
               nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, width), nn.ReLU(True)]  # fmt: skip
    return nn.Sequential(*layers)


class GlobalUNet(nn.Module):
    """(B, 2, H, W) = [window L, frame view] in [-1, 1] -> (B, out_channels, H, W) in [-1, 1].

    ``frame_view_px`` tells inference (render/frames.py) to append the frame's view channel.
    """

    def __init__(
        self,
        in_channels: int = 2,
        out_channels: int = 2,
        ngf: int = 16,
        depth: int = 7,
        dropout: float = 0.5,
        global_px: int = 64,
        global_width: int = 64,
        upsample: str = "transposed",
        downsample: str = "strided",
    ) -> None:
        super().__init__()
        if in_channels != 2:
            raise ValueError(f"GlobalUNet reads 2 channels (window L, frame view), not {in_channels}")
        if global_px < 8 or global_px & (global_px - 1):
            raise ValueError(f"global_px must be a power of two >= 8, got {global_px}")
        self.frame_view_px = global_px
        self.unet = UNetGenerator(1, out_channels, ngf=ngf, depth=depth, dropout=dropout,
                                  upsample=upsample, downsample=downsample)  # fmt: skip
        self.encoder = global_encoder(global_px, global_width)
        innermost = [m for m in self.unet.modules() if isinstance(m, SkipBlock)][-1]
        fusion = GlobalFusion(level_channels(depth, ngf), global_width)
        seq = innermost.model  # [LeakyReLU, down conv, ReLU, up conv, norm, (dropout)]; fuse after down
        innermost.model = nn.Sequential(*seq[:2], fusion, *seq[2:])
        # A plain reference (not a second registration: the state dict keeps one copy of its weights).
        object.__setattr__(self, "_fusion", fusion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != 2:
            raise ValueError(f"GlobalUNet needs (B, 2, H, W): window L, frame view; got {tuple(x.shape)}")
        view = F.adaptive_avg_pool2d(x[:, 1:], self.frame_view_px)
        self._fusion.context = self.encoder(view)
        try:
            return self.unet(x[:, :1])
        finally:
            self._fusion.context = None
