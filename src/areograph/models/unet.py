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

Upsampling and downsampling are options, because the reference's choices draw a lattice. A transposed
convolution with kernel 4 and stride 2 paints the output in a period-2 checkerboard that compounds over
the decoder's levels into 2-8 px grids (Odena, Dumoulin and Olah 2016, "Deconvolution and Checkerboard
Artifacts"); the encoder's stride-2 convolutions alias fine detail into the skip connections (Zhang 2019,
"Making Convolutional Networks Shift-Invariant Again"). ``upsample``: ``transposed`` (the reference),
``bilinear`` / ``nearest`` (resize-convolution: x2 resize, then a 3 x 3 convolution; a bilinear x2 resize
has no response at the output's Nyquist frequency, so no period-2 pattern can come out of it) or
``subpixel`` (3 x 3 convolution to 4x the channels, then pixel shuffle, ICNR-initialised so that it
starts as a nearest resize). ``downsample``: ``strided`` (the reference) or ``blur`` (a fixed 3 x 3
binomial low-pass before each stride-2 convolution: anti-aliased downsampling). ``blur_up``: how many of the
finest resize upsamplings low-pass their input first (0 = none). A bilinear resize still passes its
*input's* Nyquist frequency at half gain, and the ReLU before it puts energy there, so the outermost
level prints a 4 px (and, through the tanh, a 2 px) grid; the blur takes it out, as the [1, 3, 3, 1]
filters before StyleGAN2's resamplings do. Only the finest levels: blurring every level costs the
picture its fine texture (docs/terraforming.md "Generator options").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

UPSAMPLE_MODES = ("transposed", "bilinear", "nearest", "subpixel")
DOWNSAMPLE_MODES = ("strided", "blur")


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


class Blur(nn.Module):
    """Fixed depthwise 3 x 3 binomial low-pass ([1, 2, 1] / 4 each way), reflect-padded: zero at Nyquist."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        k1 = torch.tensor([1.0, 2.0, 1.0]) / 4.0
        self.register_buffer("kernel", torch.outer(k1, k1).expand(channels, 1, 3, 3).contiguous())
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Low-pass each channel; same size out (a 1 x 1 map, the bottleneck, comes out unchanged)."""
        x = F.pad(x, (1, 1, 1, 1), mode="reflect" if min(x.shape[-2:]) > 1 else "replicate")
        return F.conv2d(x, self.kernel.to(x.dtype), groups=self.channels)


class SubPixelUp(nn.Module):
    """x2 upsampling by a 3 x 3 convolution to 4 x ``out_nc`` channels and a pixel shuffle (Shi et al. 2016).

    :meth:`init_icnr` (called by ``models.init.init_weights`` after the normal init) copies each
    output channel's kernel to its four sub-pixels (Aitken et al. 2017, "ICNR"), so the layer starts as
    a nearest resize + convolution, free of checkerboard.
    """

    def __init__(self, in_nc: int, out_nc: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_nc, out_nc * 4, kernel_size=3, padding=1, bias=True)
        self.shuffle = nn.PixelShuffle(2)
        self.out_nc = out_nc

    @torch.no_grad()
    def init_icnr(self) -> None:
        """Make the four sub-pixel kernels of every output channel equal (ICNR)."""
        w = self.conv.weight.view(self.out_nc, 4, *self.conv.weight.shape[1:])
        w.copy_(w[:, :1].expand_as(w))
        if self.conv.bias is not None:
            b = self.conv.bias.view(self.out_nc, 4)
            b.copy_(b[:, :1].expand_as(b))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in, H, W) -> (N, out, 2H, 2W)."""
        return self.shuffle(self.conv(x))


def up_layer(in_nc: int, out_nc: int, mode: str, blur: bool = False) -> nn.Module:
    """One x2 upsampling layer of the decoder (see the module docstring for the modes); ``blur``: low-pass
    the input first (resize modes only)."""
    if blur and mode not in ("bilinear", "nearest"):
        raise ValueError(f"blur before upsampling needs a resize mode (bilinear, nearest), got {mode!r}")
    if mode == "transposed":
        return nn.ConvTranspose2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=True)
    if mode in ("bilinear", "nearest"):
        corners = {"align_corners": False} if mode == "bilinear" else {}
        resize: nn.Module = nn.Upsample(scale_factor=2, mode=mode, **corners)
        if blur:
            # The blur is index 0's own child, so the convolution keeps the key it has without it, and
            # weights trained without the blur load into this layer (fine-tuning, models' init_from).
            resize = nn.Sequential(Blur(in_nc), resize)
        return nn.Sequential(resize, nn.Conv2d(in_nc, out_nc, kernel_size=3, padding=1, bias=True))
    if mode == "subpixel":
        return SubPixelUp(in_nc, out_nc)
    raise ValueError(f"unknown upsample mode {mode!r}; expected one of {list(UPSAMPLE_MODES)}")


def down_layer(in_nc: int, out_nc: int, mode: str) -> nn.Module:
    """One stride-2 downsampling convolution of the encoder, anti-aliased when ``mode`` is "blur"."""
    conv = nn.Conv2d(in_nc, out_nc, kernel_size=4, stride=2, padding=1, bias=True)
    if mode == "strided":
        return conv
    if mode == "blur":
        return nn.Sequential(Blur(in_nc), conv)
    raise ValueError(f"unknown downsample mode {mode!r}; expected one of {list(DOWNSAMPLE_MODES)}")


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
        upsample: str = "transposed",
        downsample: str = "strided",
        blur_up: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        innermost = submodule is None
        input_nc = outer_nc if input_nc is None else input_nc
        # Instance norm without affine parameters, as the reference's `--norm instance`; its convs
        # therefore keep their biases.
        # The innermost level's input is 2 x 2 at full depth: nothing there to alias, and too small to
        # reflect-pad, so it keeps the plain strided convolution.
        down_conv = down_layer(input_nc, inner_nc, "strided" if innermost else downsample)
        up_in = inner_nc if innermost else inner_nc * 2
        up_conv = up_layer(up_in, outer_nc, upsample, blur_up)
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
    ``dropout`` (0.5 and 3 in the paper). ``upsample`` / ``downsample``: see the module docstring (the
    defaults are the reference's, so model files written before the option rebuild unchanged); ``blur_up``:
    the number of finest levels whose upsampling low-passes its input first.
    """

    def __init__(
        self,
        in_channels: int = 1,
        out_channels: int = 3,
        ngf: int = 64,
        depth: int = 8,
        dropout: float = 0.5,
        n_dropout: int = 3,
        upsample: str = "transposed",
        downsample: str = "strided",
        blur_up: int = 0,
    ) -> None:
        super().__init__()
        if upsample not in UPSAMPLE_MODES or downsample not in DOWNSAMPLE_MODES:
            raise ValueError(
                f"upsample must be one of {list(UPSAMPLE_MODES)} and downsample one of "
                f"{list(DOWNSAMPLE_MODES)}, got {upsample!r} and {downsample!r}"
            )
        if depth < 1:
            raise ValueError(f"U-Net depth must be >= 1, got {depth}")
        self.depth = depth
        block: SkipBlock | None = None
        sampling: dict = {"upsample": upsample, "downsample": downsample}
        for level in range(depth, 0, -1):  # innermost first
            with_dropout = dropout if depth - level < n_dropout else 0.0
            sampling["blur_up"] = level <= blur_up
            if level == 1:
                block = SkipBlock(
                    out_channels, level_channels(1, ngf), in_channels, block, outermost=True, **sampling
                )
            else:
                block = SkipBlock(
                    level_channels(level - 1, ngf),
                    level_channels(level, ngf),
                    submodule=block,
                    dropout=with_dropout,
                    **sampling,
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
