"""Colourisation as classification over quantised ab bins (Zhang, Isola & Efros 2016, "Colorful Image
Colorization"), the loss that does not pull uncertain pixels towards the mean colour.

L1 / L2 regression answers "the median / mean of every colour this pixel could be": on Mars, with
its one dominant butterscotch, that is butterscotch for white hardware too. Here the network predicts
a distribution over ab bins instead, trained with a cross-entropy against a soft encoding of the true
colour (its 5 nearest bins, Gaussian sigma 5 CIELAB units), each pixel weighted by the inverse of a
smoothed empirical bin prior mixed with the uniform (lambda = 0.5), so rare colours are not drowned
out. It is decoded by the *annealed mean* (temperature T = 0.38): the mean of the distribution
sharpened as softmax(log p / T), between the washed-out mean (T = 1) and the noisy mode (T -> 0).

Bins: the 10-unit ab grid cells that training pixels occupy (estimated from the packed training
histogram instead of Zhang's 313 ImageNet in-gamut bins: Mars frames fill only a few dozen of them).
Everything in scaled ab units (ab / 64, see images/lab.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import nn

from areograph.images.lab import AB_SCALE
from areograph.models.unet import UNetGenerator

SIGMA_LAB = 5.0  # soft-encoding and prior-smoothing Gaussian, CIELAB units (Zhang et al.)
NEIGHBOURS = 5
LAMBDA = 0.5
TEMPERATURE = 0.38


def bins_from_histogram(
    hist: np.ndarray, edges: np.ndarray, min_fraction: float = 1e-6, lam: float = LAMBDA
) -> tuple[np.ndarray, np.ndarray]:
    """(centres (Q, 2), rebalancing weights (Q,)) from a training ab histogram on a square grid.

    Bins are the cells holding at least ``min_fraction`` of the pixels, centred on the cell's grid
    point. The prior is the histogram smoothed by a Gaussian of ``SIGMA_LAB``; the weights are
    ``((1 - lam) * p + lam / Q) ** -1``, normalised so their expectation under ``p`` is 1 (Zhang eq. 4).
    """
    hist = np.asarray(hist, dtype=np.float64)
    if hist.ndim != 2 or hist.shape[0] != hist.shape[1] or hist.shape[0] != len(edges) - 1:
        raise ValueError(f"histogram {hist.shape} does not fit {len(edges)} grid edges")
    if hist.sum() <= 0:
        raise ValueError("empty ab histogram: no training pixels to estimate bins from")
    cell = float(np.median(np.diff(edges)))
    grid = (np.arange(hist.shape[0]) - (hist.shape[0] - 1) / 2) * cell
    smooth = ndimage.gaussian_filter(hist / hist.sum(), sigma=SIGMA_LAB / AB_SCALE / cell, mode="constant")
    keep = hist / hist.sum() >= min_fraction
    ia, ib = np.nonzero(keep)
    centres = np.stack([grid[ia], grid[ib]], axis=1)
    prior = smooth[ia, ib] / smooth[ia, ib].sum()
    weights = 1.0 / ((1.0 - lam) * prior + lam / len(prior))
    weights /= (prior * weights).sum()
    return centres.astype(np.float32), weights.astype(np.float32)


def soft_encode(ab: torch.Tensor, centres: torch.Tensor, k: int = NEIGHBOURS) -> torch.Tensor:
    """(B, Q, H, W) target distribution: Gaussian weights on the ``k`` bins nearest each pixel's ab."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    dist2 = torch.cdist(flat, centres).square()
    k = min(k, centres.shape[0])
    near, idx = dist2.topk(k, dim=1, largest=False)
    sigma = SIGMA_LAB / AB_SCALE
    vals = torch.softmax(-near / (2 * sigma**2), dim=1)
    out = torch.zeros(flat.shape[0], centres.shape[0], device=ab.device, dtype=ab.dtype)
    out.scatter_(1, idx, vals)
    return out.reshape(b, h, w, -1).permute(0, 3, 1, 2)


def rebalanced_cross_entropy(
    logits: torch.Tensor, target_ab: torch.Tensor, centres: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """Zhang et al.'s multinomial loss: per-pixel soft-encoded cross-entropy times the bin weight."""
    z = soft_encode(target_ab, centres)
    per_pixel = -(z * F.log_softmax(logits, dim=1)).sum(dim=1)
    pixel_weight = weights[z.argmax(dim=1)]
    return (pixel_weight * per_pixel).mean()


def annealed_mean(
    logits: torch.Tensor, centres: torch.Tensor, temperature: float = TEMPERATURE
) -> torch.Tensor:
    """(B, 2, H, W) ab: the mean of softmax(logits / T) over the bin centres (Zhang eq. 5)."""
    probs = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", probs, centres)


class ABBinUNet(nn.Module):
    """The pix2pix U-Net with one logit per ab bin instead of tanh(ab); decodes to ab by annealed mean.

    ``forward(x)`` returns ab (B, 2, H, W) in [-1, 1] like every other colouriser, so evaluation and
    window inference need nothing new; ``forward(x, logits=True)`` returns the (B, Q, H/2, W/2) logits
    the classification loss trains. Bins, weights and T are constructor arguments (plain lists) and
    buffers, so a saved model describes itself.
    """

    def __init__(
        self,
        in_channels: int = 1,
        ngf: int = 16,
        depth: int = 7,
        dropout: float = 0.5,
        centres: Sequence[Sequence[float]] = ((0.0, 0.0),),
        weights: Sequence[float] | None = None,
        temperature: float = TEMPERATURE,
    ) -> None:
        super().__init__()
        c = torch.tensor(centres, dtype=torch.float32)
        if c.ndim != 2 or c.shape[1] != 2 or c.shape[0] < 1:
            raise ValueError(f"centres must be (Q, 2), got {tuple(c.shape)}")
        w = torch.ones(len(c)) if weights is None else torch.tensor(weights, dtype=torch.float32)
        if w.shape != (len(c),):
            raise ValueError(f"weights must be ({len(c)},), got {tuple(w.shape)}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if depth < 2:
            raise ValueError(f"depth must be >= 2 (logits come from the second level), got {depth}")
        self.unet = UNetGenerator(in_channels, len(c), ngf=ngf, depth=depth, dropout=dropout)
        # The outermost block ends in up-conv + tanh (full-resolution ab regression). Logits are
        # unbounded and, as in Zhang et al., predicted below full resolution (here 1/2): a 1 x 1 conv
        # on the half-resolution features, 4x fewer pixels for the Q-way softmax and its loss.
        self.unet.model.model[-2] = nn.Conv2d(2 * ngf, len(c), kernel_size=1)
        self.unet.model.model[-1] = nn.Identity()
        self.register_buffer("centres", c)
        self.register_buffer("weights", w)
        self.temperature = float(temperature)

    def forward(self, x: torch.Tensor, logits: bool = False) -> torch.Tensor:
        """Full-resolution ab (annealed mean, upsampled bilinearly), or the half-resolution logits."""
        z = self.unet(x)
        if logits:
            return z
        ab = annealed_mean(z.float(), self.centres, self.temperature)
        return F.interpolate(ab, size=x.shape[-2:], mode="bilinear", align_corners=False)

    def loss(self, logits: torch.Tensor, target_ab: torch.Tensor) -> torch.Tensor:
        """The class-rebalanced soft cross-entropy of ``logits`` against the true ab (area-averaged)."""
        target = F.adaptive_avg_pool2d(target_ab, logits.shape[-2:])
        return rebalanced_cross_entropy(logits.float(), target, self.centres, self.weights)


def ab_bins_spec(unet_spec: dict, hist: np.ndarray, edges: np.ndarray, lam: float = LAMBDA,
                 temperature: float = TEMPERATURE) -> dict:
    """The classification colouriser's spec from the U-Net spec and the training ab histogram."""
    kw = unet_spec["kwargs"]
    centres, weights = bins_from_histogram(hist, edges, min_fraction=1e-5, lam=lam)
    return {
        "name": "ab_bins_unet",
        "kwargs": {
            **{k: kw[k] for k in ("in_channels", "ngf", "depth", "dropout")},
            "centres": [[round(float(a), 6), round(float(b), 6)] for a, b in centres],
            "weights": [round(float(w), 6) for w in weights],
            "temperature": float(temperature),
        },
    }  # fmt: skip
