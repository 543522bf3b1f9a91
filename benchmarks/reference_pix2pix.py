"""A plain reference-equivalent of the pix2pix training step, the baseline for ``train_vs_reference.py``.

Written the way junyanz/pytorch-CycleGAN-and-pix2pix writes it (models/networks.py ``UnetGenerator`` of
nested ``UnetSkipConnectionBlock``s, ``NLayerDiscriminator`` n_layers=3, ``--norm instance``, vanilla
``GANLoss`` = BCEWithLogits, L1 x 100, Adam 2e-4 beta1 0.5, and ``Pix2PixModel.optimize_parameters``:
forward G; D update on fake.detach() and real in two calls, loss x 0.5; G update with D frozen). Plain
fp32, default memory format, default optimiser, no compile. Benchmark code only, never package code.
"""

from __future__ import annotations

import torch
from torch import nn


class UnetSkipConnectionBlock(nn.Module):
    """The reference's U-Net block: down -> submodule -> up, with the input concatenated (skip)."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        input_nc = outer_nc if input_nc is None else input_nc
        use_bias = True  # InstanceNorm2d(affine=False) -> the reference keeps conv biases
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = nn.InstanceNorm2d(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = nn.InstanceNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(
                inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias
            )
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
            if use_dropout:
                model.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outermost returns the image; every other block its input concatenated with its output."""
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """``UnetGenerator(input_nc, output_nc, num_downs=8, ngf=64, use_dropout=True)`` of the reference."""

    def __init__(self, input_nc: int = 1, output_nc: int = 3, num_downs: int = 8, ngf: int = 64) -> None:
        super().__init__()
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=True)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Translate a batch."""
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """``NLayerDiscriminator(input_nc, ndf=64, n_layers=3, norm_layer=InstanceNorm2d)`` of the reference."""

    def __init__(self, input_nc: int = 4, ndf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            seq += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, 2, 1, bias=True),
                nn.InstanceNorm2d(ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        prev, mult = mult, min(2**n_layers, 8)
        seq += [
            nn.Conv2d(ndf * prev, ndf * mult, 4, 1, 1, bias=True),
            nn.InstanceNorm2d(ndf * mult),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * mult, 1, 4, 1, 1),
        ]
        self.model = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Patch logits."""
        return self.model(x)


def init_normal(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """The reference's ``init_weights(init_type='normal')``: conv weights N(0, 0.02), biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)
    return net


class ReferencePix2Pix:
    """``Pix2PixModel``'s training half: nets, GANLoss (vanilla), L1 x lambda, two Adams."""

    def __init__(self, ngf: int = 64, ndf: int = 64, num_downs: int = 8, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.netG = init_normal(UnetGenerator(1, 3, num_downs, ngf)).to(self.device)
        self.netD = init_normal(NLayerDiscriminator(4, ndf, 3)).to(self.device)
        self.criterionGAN = nn.BCEWithLogitsLoss()
        self.criterionL1 = nn.L1Loss()
        self.lambda_L1 = 100.0
        self.optimizer_G = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def gan_loss(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """``GANLoss('vanilla')``: BCEWithLogits against a tensor of ones or zeros."""
        target = torch.tensor(1.0 if target_is_real else 0.0, device=prediction.device).expand_as(prediction)
        return self.criterionGAN(prediction, target)

    @staticmethod
    def set_requires_grad(net: nn.Module, requires_grad: bool) -> None:
        """Freeze or unfreeze a network's parameters."""
        for p in net.parameters():
            p.requires_grad = requires_grad

    def optimize_parameters(self, real_A: torch.Tensor, real_B: torch.Tensor) -> None:
        """forward; D step (fake.detach(), real; x 0.5); G step (GAN + L1 x 100) with D frozen."""
        fake_B = self.netG(real_A)
        self.set_requires_grad(self.netD, True)
        self.optimizer_D.zero_grad()
        pred_fake = self.netD(torch.cat((real_A, fake_B), 1).detach())
        loss_D_fake = self.gan_loss(pred_fake, False)
        pred_real = self.netD(torch.cat((real_A, real_B), 1))
        loss_D_real = self.gan_loss(pred_real, True)
        loss_D = (loss_D_fake + loss_D_real) * 0.5
        loss_D.backward()
        self.optimizer_D.step()
        self.set_requires_grad(self.netD, False)
        self.optimizer_G.zero_grad()
        pred_fake = self.netD(torch.cat((real_A, fake_B), 1))
        loss_G = self.gan_loss(pred_fake, True) + self.criterionL1(fake_B, real_B) * self.lambda_L1
        loss_G.backward()
        self.optimizer_G.step()
