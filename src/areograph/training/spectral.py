"""A spectral loss: the generated imagery's power spectrum should be the real imagery's.

A generator's up- and downsampling leave periodic patterns (a 4 px grid, axis-aligned ripples) that the
L1 term does not see (they average out) and a 70 x 70 PatchGAN whose strided convolutions alias them
does not punish. In the power spectrum they are spikes and lobes on the axes, where real land cover
spreads its power smoothly over each ring (``evaluation/lattice.py`` measures exactly that). Matching
the batch's mean log power spectrum of the luminance to the real tiles' is the spectral regularisation
of Durall, Keuper and Keuper 2020 ("Watch your Up-Convolution") in the per-frequency form of Jiang et
al. 2021 (focal frequency loss, without the focal weights): every frequency bin counts alike in log
power, so the quiet high frequencies, where lattices live, weigh as much as the loud low ones.
"""

from __future__ import annotations

import torch

from areograph.evaluation.lattice import LUMA

EPS = 1e-6  # in [-1, 1] units: far below any bin of a 256 px tile (8-bit rounding alone is ~1e-5)


def log_power_spectrum(rgb: torch.Tensor) -> torch.Tensor:
    """Batch-mean log power spectrum (H, W // 2 + 1) of (N, 3, H, W) images' Hann-windowed luminance."""
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(f"the spectral loss needs (N, 3, H, W) RGB images, got shape {tuple(rgb.shape)}")
    x = rgb.float()
    luma = sum(float(w) * x[:, c] for c, w in enumerate(LUMA))  # the lattice metric's luma
    luma = luma - luma.mean(dim=(-2, -1), keepdim=True)
    h, w = luma.shape[-2:]
    window = torch.outer(torch.hann_window(h, periodic=False, device=x.device),
                         torch.hann_window(w, periodic=False, device=x.device))  # fmt: skip
    power = torch.fft.rfft2(luma * window).abs().square().mean(0)
    return torch.log(power + EPS)


def spectral_loss(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the two batches' log power spectra (fp32, outside autocast)."""
    with torch.autocast(fake.device.type, enabled=False):
        return (log_power_spectrum(fake) - log_power_spectrum(real)).abs().mean()
