"""Model kinds: the one table of what each kind of model is (network family, loss, adversarial or not)
and the one place that turns a kind into model specs and the trainer's settings.

Vocabulary (docs/architecture.md, "Model kinds"): a *kind* is what a product trains, by name; its
*family* is the generator's network (models/specs.py ``FAMILIES``, the registry name stored in the model
file); its *loss* is what the generator is fitted with (``l1``, ``mse``, ``l1_colourfulness``,
``classification``); *adversarial* adds a PatchGAN (the cGAN + lambda * L1 update). Terrain configs
name a kind (``terrain_models.<name>.kind``); the colouriser's ``loss``, ``adversarial`` and
``global_view`` keys select one of the colour kinds. A new kind is one entry in :data:`KINDS` (plus a
registered network, for a new family).

This module imports no torch at import time: config validation reads :data:`KINDS` when the Snakefile
is parsed. Specs and the trainer's settings are resolved when a model is trained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from areograph.artefacts.model_dir import COLOUR_TASK, TERRAIN_TASK

if TYPE_CHECKING:
    from areograph.models.specs import Spec, SpecInputs

PRODUCTS = (TERRAIN_TASK, COLOUR_TASK)


@dataclass(frozen=True)
class ModelKind:
    """A network family, its loss, whether a PatchGAN joins, and the products that may train it."""

    family: str
    loss: str
    adversarial: bool = False
    products: tuple[str, ...] = PRODUCTS

    def __post_init__(self) -> None:
        if self.adversarial and self.loss != "l1":  # the adversarial update is cGAN + lambda * L1
            raise ValueError(f"an adversarial kind trains with loss 'l1' (cGAN + lambda * L1), not {self}")
        if not self.products or not set(self.products) <= set(PRODUCTS):
            raise ValueError(f"products must be some of {PRODUCTS}, got {self.products}")

    @property
    def trainer(self) -> dict[str, str]:
        """The TrainConfig fields of this kind: the update rule ``mode`` and, for regression, its loss.

        The mode names are stored in every model file's ``train_config`` (and compared on resume), so
        the adversarial update keeps its historical name ``pix2pix``.
        """
        if self.adversarial:
            return {"mode": "pix2pix"}
        if self.loss == "classification":  # the generator owns its loss (models/ab_bins.py)
            return {"mode": "classification"}
        return {"mode": "regression", "regression_loss": self.loss}

    @property
    def extra_inputs(self) -> tuple[str, ...]:
        """Input channels the family reads beyond the product's own (global_unet: the frame's view)."""
        from areograph.models.specs import family  # torch: imported when a model is built, not at parse

        return family(self.family).extra_inputs

    def specs(self, inputs: SpecInputs) -> tuple[Spec, Spec | None]:
        """(generator, discriminator-or-None) specs of this kind for ``inputs``."""
        from areograph.models.specs import family, patchgan_spec

        generator = family(self.family).build(inputs)
        return generator, patchgan_spec(inputs) if self.adversarial else None


KINDS: dict[str, ModelKind] = {
    # Both products. pix2pix: Isola et al.'s U-Net + PatchGAN; baseline: the seed's conv stack on MSE.
    "pix2pix": ModelKind("unet", "l1", adversarial=True),
    "unet_l1": ModelKind("unet", "l1"),
    "baseline": ModelKind("baseline", "mse"),
    # Colour only, selected by rovers.colouriser's loss / adversarial / global_view keys.
    "unet_l1_colourfulness": ModelKind("unet", "l1_colourfulness", products=(COLOUR_TASK,)),
    "ab_bins": ModelKind("ab_bins_unet", "classification", products=(COLOUR_TASK,)),
    "global_pix2pix": ModelKind("global_unet", "l1", adversarial=True, products=(COLOUR_TASK,)),
    "global_unet_l1": ModelKind("global_unet", "l1", products=(COLOUR_TASK,)),
    "global_unet_l1_colourfulness": ModelKind("global_unet", "l1_colourfulness", products=(COLOUR_TASK,)),
}


def kinds_for(product: str) -> list[str]:
    """The names of the kinds ``product`` may train, in table order."""
    return [name for name, kind in KINDS.items() if product in kind.products]


def terrain_kind(name: str) -> ModelKind:
    """The terrain kind ``name`` (a ``terrain_models`` entry's ``kind``)."""
    if name not in kinds_for(TERRAIN_TASK):
        raise ValueError(f"unknown terrain model kind {name!r}; expected one of {kinds_for(TERRAIN_TASK)}")
    return KINDS[name]


def colour_kind(role: str, colouriser: Mapping[str, Any]) -> ModelKind:
    """The colour kind a training rule asks for: ``role`` "baseline", or the one ``colouriser``'s keys select.

    ``loss`` (default l1), ``adversarial`` (default false) and ``global_view`` (default false: the
    family reads the frame's whole view) must match exactly one colour kind.
    """
    if role == "baseline":
        return KINDS["baseline"]
    want = (colouriser.get("loss", "l1"), bool(colouriser.get("adversarial", False)),
            bool(colouriser.get("global_view", False)))  # fmt: skip
    colour = [KINDS[n] for n in kinds_for(COLOUR_TASK) if n != "baseline"]
    keys = {kind: (kind.loss, kind.adversarial, "frame_view" in kind.extra_inputs) for kind in colour}
    for kind, selected_by in keys.items():
        if selected_by == want:
            return kind
    offered = sorted(f"loss {loss}, adversarial {adv}, global_view {view}"
                     for loss, adv, view in keys.values())
    raise ValueError(
        f"rovers.colouriser: no colour model has loss {want[0]!r}, adversarial {want[1]} and global_view "
        f"{want[2]}; the colour kinds are: {'; '.join(offered)}"
    )
