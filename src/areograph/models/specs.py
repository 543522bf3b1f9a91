"""Model specs from config sections: ``{"name": registry name, "kwargs": {...}}``.

Both products build their generator / discriminator / baseline the same way (only the channel counts
differ: elevation -> RGB is 1 -> 3, L -> ab is 1 -> 2), so the mapping from config keys to model
arguments lives here once. A spec is what checkpoints store to rebuild a model on their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from areograph.models.unet import depth_for_tile

Spec = dict[str, Any]


def generator_specs(
    kind: str,
    in_channels: int,
    out_channels: int,
    pix2pix: Mapping[str, Any],
    baseline: Mapping[str, Any],
    tile_px: int,
    adversarial: bool = True,
) -> tuple[Spec, Spec | None]:
    """(generator, discriminator-or-None) for ``kind`` = "pix2pix" (U-Net + PatchGAN) or "baseline".

    ``pix2pix`` holds ngf, dropout and optionally depth (null: log2 of the tile size), ndf and d_layers;
    ``adversarial=False`` trains the U-Net without a discriminator (plain L1).
    """
    if kind == "baseline":
        return {
            "name": "baseline",
            "kwargs": {"in_channels": in_channels, "out_channels": out_channels, **baseline},
        }, None
    if kind != "pix2pix":
        raise ValueError(f"unknown model kind {kind!r}; expected 'pix2pix' or 'baseline'")
    generator = {
        "name": "unet",
        "kwargs": {
            "in_channels": in_channels,
            "out_channels": out_channels,
            "ngf": pix2pix["ngf"],
            "depth": pix2pix.get("depth") or depth_for_tile(tile_px),
            "dropout": pix2pix["dropout"],
            # Absent keys mean the reference's layers: older configs and model files rebuild unchanged.
            "upsample": pix2pix.get("upsample", "transposed"),
            "downsample": pix2pix.get("downsample", "strided"),
        },
    }
    if not adversarial:
        return generator, None
    discriminator = {
        "name": "patchgan",
        "kwargs": {
            "in_channels": in_channels + out_channels,
            "ndf": pix2pix["ndf"],
            "n_layers": pix2pix.get("d_layers", 3),
        },
    }
    return generator, discriminator
