"""Models: the pix2pix reference architecture (shapes, receptive field, dropout, init) and the registry."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from areograph.models.baseline import Baseline
from areograph.models.init import init_weights
from areograph.models.patchgan import PatchGAN
from areograph.models.registry import MODELS, build_model
from areograph.models.unet import Blur, SkipBlock, UNetGenerator, depth_for_tile

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _blocks(gen: UNetGenerator) -> list[SkipBlock]:
    """The U-Net's levels, outermost first, found by following the recursion."""
    blocks, block = [], gen.model
    while block is not None:
        blocks.append(block)
        block = next((m for m in block.model if isinstance(m, SkipBlock)), None)
    return blocks


def test_depth_for_tile() -> None:
    assert depth_for_tile(256) == 8
    assert depth_for_tile(64) == 6
    assert depth_for_tile(32) == 5
    for bad in (100, 0, 1, 48):
        with pytest.raises(ValueError, match="power of two"):
            depth_for_tile(bad)


def test_generator_256_shapes_and_range() -> None:
    torch.manual_seed(0)
    gen = init_weights(UNetGenerator(in_channels=1, out_channels=3, ngf=4, depth=depth_for_tile(256)))
    x = torch.rand(2, 1, 256, 256) * 2 - 1
    y = gen(x)  # train mode: would raise if instance norm met the 1x1 bottleneck
    assert y.shape == (2, 3, 256, 256)
    assert y.abs().max() <= 1.0  # tanh output


@pytest.mark.parametrize(("tile", "cin", "cout"), [(64, 1, 3), (32, 1, 2), (128, 3, 3)])
def test_generator_other_tiles_and_channels(tile: int, cin: int, cout: int) -> None:
    gen = UNetGenerator(in_channels=cin, out_channels=cout, ngf=4, depth=depth_for_tile(tile))
    assert gen(torch.zeros(1, cin, tile, tile)).shape == (1, cout, tile, tile)


def test_generator_rejects_tiles_the_depth_cannot_halve() -> None:
    with pytest.raises(ValueError, match="divisible by 64"):
        UNetGenerator(ngf=4, depth=6)(torch.zeros(1, 1, 96, 96))


def test_generator_follows_the_paper_channel_plan() -> None:
    """Encoder C64-C128-C256-C512 x5, decoder inputs 512-1024 x4-512-256-128 (ngf=64, scaled to 4)."""
    ngf = 4
    blocks = _blocks(UNetGenerator(in_channels=1, out_channels=3, ngf=ngf, depth=8))
    downs = [next(m for m in b.model if isinstance(m, nn.Conv2d)) for b in blocks]
    ups = [next(m for m in b.model if isinstance(m, nn.ConvTranspose2d)) for b in blocks]
    assert [c.out_channels // ngf for c in downs] == [1, 2, 4, 8, 8, 8, 8, 8]
    # decoder read from the bottleneck outwards
    assert [c.in_channels // ngf for c in reversed(ups)] == [8, 16, 16, 16, 16, 8, 4, 2]
    assert ups[0].out_channels == 3 and isinstance(blocks[0].model[-1], nn.Tanh)


def test_innermost_block_has_no_norm_on_its_down_path() -> None:
    inner = _blocks(UNetGenerator(ngf=4, depth=8))[-1]
    kinds = [type(m) for m in inner.model]
    assert kinds[:2] == [nn.LeakyReLU, nn.Conv2d]
    assert nn.InstanceNorm2d not in kinds[:3]
    # every other non-outermost level normalises its down path
    for block in _blocks(UNetGenerator(ngf=4, depth=8))[1:-1]:
        assert isinstance(block.model[2], nn.InstanceNorm2d)


def test_dropout_in_the_three_decoder_blocks_nearest_the_bottleneck() -> None:
    depth = 8
    gen = UNetGenerator(ngf=4, depth=depth, dropout=0.5)
    dropouts = [m for m in gen.modules() if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 3 and all(d.p == 0.5 for d in dropouts)
    with_dropout = [i for i, b in enumerate(_blocks(gen)) if isinstance(b.model[-1], nn.Dropout)]
    assert with_dropout == [depth - 3, depth - 2, depth - 1]  # the paper's CD512-CD1024-CD1024
    for block in _blocks(gen):  # dropout sits only on up paths, after the norm
        for i, m in enumerate(block.model):
            if isinstance(m, nn.Dropout):
                assert i == len(block.model) - 1 and isinstance(block.model[i - 1], nn.InstanceNorm2d)


def test_eval_mode_is_deterministic_and_train_mode_is_not() -> None:
    torch.manual_seed(0)
    gen = init_weights(UNetGenerator(ngf=4, depth=5))
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    assert not torch.equal(gen(x), gen(x))  # dropout active while training
    gen.eval()
    assert torch.equal(gen(x), gen(x))


def test_patchgan_output_shape() -> None:
    disc = PatchGAN(in_channels=4, ndf=4, n_layers=3)
    assert disc(torch.zeros(1, 4, 256, 256)).shape == (1, 1, 30, 30)
    assert disc(torch.zeros(2, 4, 64, 64)).shape == (2, 1, 6, 6)
    assert PatchGAN(in_channels=3, ndf=4)(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)  # L + ab


def test_patchgan_receptive_field_is_70_px() -> None:
    """Gradient of one output logit w.r.t. the input is non-zero on exactly a 70 x 70 window.

    Instance norm ties every output to the whole image through its statistics, so the conv stack's
    receptive field is measured with the norms replaced by identities.
    """
    torch.manual_seed(0)
    disc = init_weights(PatchGAN(in_channels=4, ndf=4, n_layers=3)).double()
    layers = copy.deepcopy(disc.model)
    for i, m in enumerate(layers):
        if isinstance(m, nn.InstanceNorm2d):
            layers[i] = nn.Identity()
    x = torch.randn(1, 4, 256, 256, dtype=torch.float64, requires_grad=True)
    out = layers(x)
    assert out.shape[-2:] == (30, 30)
    out[0, 0, 15, 15].backward()
    hit = x.grad.abs().sum(dim=(0, 1)) > 0
    rows, cols = hit.any(1).nonzero().flatten(), hit.any(0).nonzero().flatten()
    assert int(rows[-1] - rows[0] + 1) == 70
    assert int(cols[-1] - cols[0] + 1) == 70
    assert int(hit.sum()) == 70 * 70  # dense: every pixel in the window matters


def _conv_stds(model: nn.Module) -> list[float]:
    """Weight std of every conv layer big enough for a stable estimate."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    return [float(m.weight.std()) for m in convs if m.weight.numel() >= 2000]


@torch.no_grad()
def test_init_weights_statistics() -> None:
    torch.manual_seed(0)
    gen = init_weights(UNetGenerator(ngf=16, depth=8))
    convs = [m for m in gen.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    weights = torch.cat([m.weight.flatten() for m in convs])
    assert abs(float(weights.mean())) < 1e-3
    assert float(weights.std()) == pytest.approx(0.02, rel=0.02)
    assert all(s == pytest.approx(0.02, rel=0.1) for s in _conv_stds(gen))
    assert all(torch.count_nonzero(m.bias) == 0 for m in convs)
    # PyTorch's default init differs layer by layer, so the per-layer check would catch a missing init
    assert not all(s == pytest.approx(0.02, rel=0.1) for s in _conv_stds(UNetGenerator(ngf=16, depth=8)))

    norms = init_weights(nn.Sequential(nn.BatchNorm2d(4096), nn.InstanceNorm2d(4096, affine=True)))
    for norm in norms:
        assert float(norm.weight.mean()) == pytest.approx(1.0, abs=2e-3)
        assert float(norm.weight.std()) == pytest.approx(0.02, rel=0.05)
        assert torch.count_nonzero(norm.bias) == 0


def test_baseline_is_four_down_four_up_without_skips() -> None:
    model = Baseline(in_channels=1, out_channels=3, width=8)
    convs = [m for m in model.modules() if type(m) is nn.Conv2d]
    tconvs = [m for m in model.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert len(convs) == 4 and all(c.stride == (2, 2) for c in convs)
    assert len(tconvs) == 4 and all(c.stride == (2, 2) for c in tconvs)
    assert [c.out_channels for c in convs] == [8, 16, 32, 64]
    assert not any(isinstance(m, SkipBlock) for m in model.modules())
    assert model(torch.zeros(1, 1, 64, 64)).shape == (1, 3, 64, 64)
    with pytest.raises(ValueError, match="divisible by 16"):
        model(torch.zeros(1, 1, 40, 40))


def test_registry_builds_by_name() -> None:
    assert set(MODELS) == {"unet", "patchgan", "baseline", "ab_bins_unet", "global_unet"}
    assert isinstance(build_model("unet", ngf=4, depth=5), UNetGenerator)
    assert isinstance(build_model("patchgan", in_channels=4, ndf=4), PatchGAN)
    assert isinstance(build_model("baseline", width=4), Baseline)
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model("resnet")
    with pytest.raises(TypeError, match="'unet'"):
        build_model("unet", widht=3)


# ---- up- and downsampling options (issue: no lattice) -------------------------------------------------


@pytest.mark.parametrize("upsample", ["transposed", "bilinear", "nearest", "subpixel"])
@pytest.mark.parametrize("downsample", ["strided", "blur"])
def test_every_sampling_option_keeps_the_unet_shapes(upsample: str, downsample: str) -> None:
    gen = init_weights(UNetGenerator(2, 3, ngf=4, depth=6, upsample=upsample, downsample=downsample))
    out = gen(torch.rand(1, 2, 64, 64) * 2 - 1)
    assert out.shape == (1, 3, 64, 64) and out.abs().max() <= 1


def test_reference_layers_stay_the_default() -> None:
    """Model files written before the option rebuild to the same parameters."""
    old = UNetGenerator(1, 3, ngf=4, depth=4)
    assert any(isinstance(m, nn.ConvTranspose2d) for m in old.modules())
    assert not any(isinstance(m, nn.Upsample) for m in old.modules())
    ref = UNetGenerator(1, 3, ngf=4, depth=4, upsample="transposed", downsample="strided")
    assert [p.shape for p in old.parameters()] == [p.shape for p in ref.parameters()]


def test_bilinear_resize_convolution_cannot_draw_a_period_two_checkerboard() -> None:
    """A bilinear x2 resize has no response at the output's Nyquist frequency; a transposed conv has."""
    from areograph.models.unet import up_layer

    torch.manual_seed(0)
    x = torch.rand(1, 8, 32, 32)
    for mode, expect_board in (("transposed", True), ("bilinear", False)):
        layer = up_layer(8, 1, mode)
        with torch.no_grad():
            y = layer(x)[0, 0]
        y = y[4:-4, 4:-4]  # away from the padded borders
        y = y - y.mean()
        sign = torch.tensor([1.0, -1.0]).repeat(y.shape[0] // 2)
        # the image's projections on the three period-2 patterns (along y, along x, diagonal)
        nyquist = sum(float((y * p).sum()) ** 2 for p in (sign[:, None], sign[None, :], sign[:, None] * sign))
        share = nyquist / float((y**2).sum() * y.numel())
        assert (share > 1e-3) == expect_board, (mode, share)


def test_a_blur_before_the_resize_stops_its_inputs_nyquist_frequency() -> None:
    """A checkerboard in a decoder feature map (what a ReLU makes) comes out of a bilinear x2 resize as a
    period-4 grid; the low-pass before the resize stops it."""
    from areograph.models.unet import up_layer

    yy, xx = torch.meshgrid(torch.arange(32), torch.arange(32), indexing="ij")
    board = (((yy + xx) % 2).float() * 2 - 1).expand(1, 4, 32, 32)
    for blur, passes in ((False, True), (True, False)):
        torch.manual_seed(0)
        layer = up_layer(4, 1, "bilinear", blur)
        with torch.no_grad():
            y = layer(board)[0, 0, 8:-8, 8:-8]
        assert (float(y.std()) > 1e-3) == passes, (blur, float(y.std()))
    with pytest.raises(ValueError, match="needs a resize mode"):
        up_layer(4, 1, "transposed", blur=True)


def test_blur_up_counts_the_finest_levels_and_keeps_the_weights_names() -> None:
    plain = UNetGenerator(2, 3, ngf=4, depth=5, upsample="bilinear", downsample="blur")
    blurred = UNetGenerator(2, 3, ngf=4, depth=5, upsample="bilinear", downsample="blur", blur_up=2)
    old, new = plain.state_dict(), blurred.state_dict()
    added = set(new) - set(old)
    assert set(old) < set(new) and all(k.endswith(".kernel") for k in added)
    assert all(old[k].shape == new[k].shape for k in old)
    # one blur before each of the two finest upsamplings, none deeper
    assert len(added) == 2
    levels = _blocks(blurred)
    ups = [list(b.model)[max(k for k, m in enumerate(b.model) if isinstance(m, nn.ReLU)) + 1] for b in levels]
    has_blur = [any(isinstance(m, Blur) for m in up.modules()) for up in ups]
    assert has_blur[:2] == [True, True] and not any(has_blur[2:]), has_blur
    out = blurred(torch.rand(1, 2, 32, 32) * 2 - 1)
    assert out.shape == (1, 3, 32, 32)


def test_subpixel_starts_as_a_nearest_resize_icnr() -> None:
    from areograph.models.unet import SubPixelUp

    layer = init_weights(nn.Sequential(SubPixelUp(4, 2)))
    y = layer(torch.rand(1, 4, 8, 8))
    # every 2 x 2 output block is constant: no sub-pixel pattern at initialisation
    assert torch.allclose(y[..., ::2, ::2], y[..., 1::2, 1::2]) and torch.allclose(
        y[..., ::2, ::2], y[..., ::2, 1::2]
    )


def test_blur_is_a_low_pass_with_no_nyquist_response() -> None:
    from areograph.models.unet import Blur

    yy, xx = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    board = ((yy + xx) % 2).float()[None, None] * 2 - 1
    assert Blur(1)(board)[..., 2:-2, 2:-2].abs().max() < 1e-6
