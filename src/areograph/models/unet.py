"""The pix2pix generator: a U-Net built recursively from one short skip-connection block.

Each :class:`SkipBlock` is "downsample -> (inner block) -> upsample", and its output is its input
concatenated with what it produced, so the skip connections come for free from the recursion
(the structure of the pix2pix reference, junyanz/pytorch-CycleGAN-and-pix2pix ``UnetSkipConnectionBlock``).

Channel widths per downsampling level are ngf, 2ngf, 4ngf, 8ngf, then capped at 8ngf. With
``depth = log2(tile_px)`` the bottleneck is 1 x 1, exactly the paper's encoder C64-C128-C256-C512-C512-
C512-C512-C512 at 256 px.

Dropout placement follows the *paper* (Isola et al. 2017, appendix 6.1.1): the decoder is
CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128 (input widths, after the skip concatenation), i.e.
dropout 0.5 in the three decoder layers nearest the bottleneck. The junyanz code shifts this by one
block: its innermost block has no dropout and the next three do. Here the innermost block and the two
above it carry dropout.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def depth_for_tile(tile_px: int) -> int:
    """Number of downsamplings that takes a ``tile_px`` square tile to a 1 x 1 bottleneck.

    The pix2pix U-Net needs the bottleneck to see the whole tile; callers derive the depth from the
    tile size rather than hard-coding 8 (which is only right at 256 px).
    """
    if tile_px < 2 or tile_px & (tile_px - 1):
        raise ValueError(f"tile size must be a power of two >= 2 for a U-Net, got {tile_px} px")
    return int(math.log2(tile_px))


def level_channels(level: int, ngf: int) -> int:
    """Feature width after the ``level``-th downsampling (1-based): ngf * 2^(level-1), capped at 8 ngf."""
    return ngf * min(2 ** (level - 1), 8)


class SkipBlock(nn.Module):
    """One U-Net level: down, optional inner block, up; the output is ``cat(input, up(...))``.

    ``outermost`` blocks map image -> image (no activation before the first conv, tanh at the end,
    no concatenation); the ``innermost`` block has no inner block and no norm on its down path
    (its output is 1 x 1 at full depth, where instance norm is undefined).
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        *,
        outermost: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        innermost = submodule is None
        input_nc = outer_nc if input_nc is None else input_nc
        # Instance norm without affine parameters, as the reference's `--norm instance`; its convs
        # therefore keep their biases.
        down_conv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=True)
        up_in = inner_nc if innermost else inner_nc * 2
        up_conv = nn.ConvTranspose2d(up_in, outer_nc, kernel_size=4, stride=2, padding=1, bias=True)
        down: list[nn.Module]
        up: list[nn.Module]
        if outermost:
            down = [down_conv]
            up = [nn.ReLU(True), up_conv, nn.Tanh()]
        elif innermost:
            down = [nn.LeakyReLU(0.2, True), down_conv]
            up = [nn.ReLU(True), up_conv, nn.InstanceNorm2d(outer_nc)]
        else:
            down = [nn.LeakyReLU(0.2, True), down_conv, nn.InstanceNorm2d(inner_nc)]
            up = [nn.ReLU(True), up_conv, nn.InstanceNorm2d(outer_nc)]
        if dropout > 0 and not outermost:
            up.append(nn.Dropout(dropout))
        middle = [] if submodule is None else [submodule]
        self.model = nn.Sequential(*down, *middle, *up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the level; non-outermost levels return their input concatenated with their output."""
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UNetGenerator(nn.Module):
    """pix2pix U-Net generator: ``in_channels`` x H x W in [-1, 1] -> ``out_channels`` x H x W in [-1, 1].

    ``depth`` is the number of stride-2 downsamplings (8 at 256 px; see :func:`depth_for_tile`);
    H and W must be divisible by 2^depth. ``n_dropout`` decoder blocks nearest the bottleneck get
    ``dropout`` (0.5 and 3 in the paper).
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 3,
        ngf: int = 64,
        depth: int = 8,
        dropout: float = 0.5,
        n_dropout: int = 3,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"U-Net depth must be >= 1, got {depth}")
        self.depth = depth
        block: SkipBlock | None = None
        for level in range(depth, 0, -1):  # innermost first
            with_dropout = dropout if depth - level < n_dropout else 0.0
            if level == 1:
                block = SkipBlock(out_channels, level_channels(1, ngf), in_channels, block, outermost=True)
            else:
                block = SkipBlock(
                    level_channels(level - 1, ngf),
                    level_channels(level, ngf),
                    submodule=block,
                    dropout=with_dropout,
                )
        assert block is not None
        self.model = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate a batch; raises a clear error for tile sizes the depth cannot halve cleanly."""
        factor = 2**self.depth
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(
                f"U-Net of depth {self.depth} needs H and W divisible by {factor}, got {tuple(x.shape[-2:])}"
            )
        return self.model(x)
