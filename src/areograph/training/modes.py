"""One mapping from what a model is (network family, loss, adversarial or not) to how it is trained.

Both products train the same three shapes: pix2pix (U-Net + PatchGAN, cGAN + L1), the U-Net alone on a
regression loss, and the seed's conv-stack baseline on MSE; the colouriser adds ab-bin classification.
Each product names its kinds in its own words (terrain ``unet_l1``, colour ``loss: classification``)
and resolves them here into the model specs and the trainer's mode, so the rules live in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from areograph.models.specs import Spec, generator_specs

LOSSES = ("l1", "mse", "classification", "l1_colourfulness")


@dataclass(frozen=True)
class TrainingMode:
    """The network family (models/specs.py), its loss, whether a PatchGAN joins, and the trainer's mode."""

    family: str
    loss: str
    adversarial: bool

    def __post_init__(self) -> None:
        if self.family not in ("pix2pix", "baseline"):
            raise ValueError(f"unknown network family {self.family!r}; expected 'pix2pix' or 'baseline'")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; expected one of {LOSSES}")
        if self.adversarial and (self.family == "baseline" or self.loss != "l1"):
            raise ValueError(f"an adversarial (pix2pix) model trains a U-Net with loss 'l1', not {self}")

    @property
    def trainer(self) -> dict[str, str]:
        """The TrainConfig fields for this mode (``mode`` and, for regression, ``regression_loss``)."""
        if self.adversarial:
            return {"mode": "pix2pix"}
        if self.loss == "classification":
            return {"mode": "classification"}
        return {"mode": "regression", "regression_loss": self.loss}

    def specs(
        self,
        in_channels: int,
        out_channels: int,
        pix2pix: Mapping[str, Any],
        baseline: Mapping[str, Any],
        tile_px: int,
    ) -> tuple[Spec, Spec | None]:
        """(generator, discriminator-or-None) specs for this mode."""
        return generator_specs(self.family, in_channels, out_channels, pix2pix, baseline, tile_px,
                               adversarial=self.adversarial)  # fmt: skip


# The seed's baseline is the same in both products: the conv stack on MSE.
BASELINE = TrainingMode("baseline", "mse", adversarial=False)
