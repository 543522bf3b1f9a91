"""Model specs by network family: ``{"name": registry name, "kwargs": {...}}``, one builder per family.

A *network family* is a generator architecture, named by its registry name (models/registry.py):
``unet``, ``global_unet``, ``ab_bins_unet``, ``baseline`` (the seed's conv stack); ``patchgan`` is the
discriminator an adversarial kind adds. Both products build them here from their config sections
(only the channel counts differ: elevation -> RGB is 1 -> 3, L -> ab is 1 -> 2). A spec is what
checkpoints store to rebuild a model on their own, so its kwargs (names, values, order) are part of
every model file: a builder may only add keys whose absence means the old network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from areograph.models.ab_bins import LAMBDA, TEMPERATURE, ab_bins_spec
from areograph.models.unet import depth_for_tile

Spec = dict[str, Any]


@dataclass(frozen=True)
class SpecInputs:
    """Everything a family builder may read.

    ``unet_sizes`` sizes the U-Net families and the PatchGAN (terrain ``models.pix2pix`` with a
    ``terrain_models`` entry's overrides, colour ``rovers.colouriser``); ``baseline_sizes`` the conv
    stack (``models.baseline``, ``rovers.baseline``). ``data`` holds what a family needs from the
    training data: ``global_px`` (global_unet), ``ab_hist`` and ``ab_edges`` (ab_bins_unet).
    """

    in_channels: int
    out_channels: int
    tile_px: int
    unet_sizes: Mapping[str, Any]
    baseline_sizes: Mapping[str, Any]
    data: Mapping[str, Any] = field(default_factory=dict)

    def need(self, key: str, family: str) -> Any:
        """``data[key]``, or an error saying which family needs it from the training data."""
        if self.data.get(key) is None:
            raise ValueError(f"the {family} network needs {key!r} from its training data, which has none")
        return self.data[key]


def unet_spec(x: SpecInputs) -> Spec:
    """The pix2pix U-Net; depth null = log2 of the tile size (a 1 x 1 bottleneck)."""
    s = x.unet_sizes
    return {
        "name": "unet",
        "kwargs": {
            "in_channels": x.in_channels,
            "out_channels": x.out_channels,
            "ngf": s["ngf"],
            "depth": s.get("depth") or depth_for_tile(x.tile_px),
            "dropout": s["dropout"],
            # Absent keys mean the reference's layers: older configs and model files rebuild unchanged.
            "upsample": s.get("upsample", "transposed"),
            "downsample": s.get("downsample", "strided"),
            # only when set, so the specs (and files) of models without it stay as they were
            **({"blur_up": s["blur_up"]} if s.get("blur_up") else {}),
        },
    }


def global_unet_spec(x: SpecInputs) -> Spec:
    """The U-Net with the frame's whole view fused at its bottleneck (models/global_unet.py)."""
    kwargs = unet_spec(x)["kwargs"]
    return {"name": "global_unet", "kwargs": {**kwargs, "global_px": x.need("global_px", "global_unet")}}


def ab_bins_unet_spec(x: SpecInputs) -> Spec:
    """The U-Net classifying ab bins, estimated from the training histogram (models/ab_bins.py)."""
    s = x.unet_sizes
    return ab_bins_spec(unet_spec(x), x.need("ab_hist", "ab_bins_unet"), x.need("ab_edges", "ab_bins_unet"),
                        s.get("rebalance_lambda", LAMBDA), s.get("temperature", TEMPERATURE))  # fmt: skip


def baseline_spec(x: SpecInputs) -> Spec:
    """The seed's conv stack (models/baseline.py)."""
    return {
        "name": "baseline",
        "kwargs": {"in_channels": x.in_channels, "out_channels": x.out_channels, **x.baseline_sizes},
    }


def patchgan_spec(x: SpecInputs) -> Spec:
    """The PatchGAN discriminator of an adversarial kind: it sees the input and the output together."""
    s = x.unet_sizes
    return {
        "name": "patchgan",
        "kwargs": {
            "in_channels": x.in_channels + x.out_channels,
            "ndf": s["ndf"],
            "n_layers": s.get("d_layers", 3),
        },
    }


@dataclass(frozen=True)
class Family:
    """A network family: its spec builder and the input channels it reads beyond the product's own."""

    build: Callable[[SpecInputs], Spec]
    extra_inputs: tuple[str, ...] = ()


FAMILIES: dict[str, Family] = {
    "unet": Family(unet_spec),
    "global_unet": Family(global_unet_spec, extra_inputs=("frame_view",)),
    "ab_bins_unet": Family(ab_bins_unet_spec),
    "baseline": Family(baseline_spec),
}


def family(name: str) -> Family:
    """The family ``name``; an unknown one is an error listing the families."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown network family {name!r}; expected one of {sorted(FAMILIES)}") from None
