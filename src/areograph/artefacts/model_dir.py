"""A model directory, as training writes it: the model file, the resumable checkpoint and the loss log.

``model.pt`` is self-describing (spec, weights, typed metadata; training/checkpoint.py reads and
writes it); ``checkpoints/latest.pt`` lets an interrupted run resume; ``losses.csv`` / ``losses.png``
are the loss log and its plot (training/plots.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from areograph.artefacts.types import ModelMismatchError

MODEL_FILE = "model.pt"
CHECKPOINT_FILE = "checkpoints/latest.pt"
LOSSES_CSV = "losses.csv"
LOSSES_PNG = "losses.png"
# What a training job declares as outputs (the checkpoint is its private state, not an output).
TRAINING_OUTPUTS = (MODEL_FILE, LOSSES_CSV, LOSSES_PNG)


def model_file(model_dir: Path | str) -> Path:
    """The model file of a model directory."""
    return Path(model_dir) / MODEL_FILE


def checkpoint_file(model_dir: Path | str) -> Path:
    """The resumable checkpoint of a model directory."""
    return Path(model_dir) / CHECKPOINT_FILE


def losses_files(model_dir: Path | str) -> tuple[Path, Path]:
    """(loss log CSV, its plot) of a model directory."""
    return Path(model_dir) / LOSSES_CSV, Path(model_dir) / LOSSES_PNG


# Tasks a model file can be for (ModelMeta.task).
TERRAIN_TASK = "terrain"
COLOUR_TASK = "colourise"
# The input channels a model reads when its file predates the ``conditioning`` field.
LEGACY_CONDITIONING = {TERRAIN_TASK: ("elevation",), COLOUR_TASK: ("L",)}


@dataclass(frozen=True)
class ModelMeta:
    """What a model was trained with, read back by every step that runs it (the ``extra_meta`` of model.pt).

    ``tile_px`` is the square input it was trained on (terrain tile or colour patch): render windows
    default to it, because instance norm normalises over the window and another size changes the
    picture. ``conditioning`` names its input channels in order. Terrain models store the elevation
    scaling and the Earth elevation distribution that Mars heights are mapped onto; colourisers store
    their colour space (images/lab.py) and the long side of their training frames. Keys this version
    does not know are kept in ``extra`` and written back unchanged.
    """

    task: str
    kind: str
    tile_px: int | None = None
    conditioning: tuple[str, ...] = ()
    elevation_range_m: tuple[float, float] | None = None
    earth_reference_quantiles_m: tuple[float, ...] | None = None
    colour_space: dict[str, Any] | None = None
    max_side_px: int | None = None
    loss: str | None = None
    sampling: dict[str, Any] = field(default_factory=dict)
    train_regions: tuple[str, ...] = ()
    n_train_tiles: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, meta: Mapping[str, Any]) -> ModelMeta:
        """Typed metadata from a model file's ``extra_meta``; files from before a field existed load too.

        Colourisers once stored their patch size as ``patch_px``; a missing ``conditioning`` is the one
        input each task had before latitude conditioning existed.
        """
        meta = dict(meta)
        task = str(meta.pop("task", ""))
        tile_px = meta.pop("tile_px", None)
        patch_px = meta.pop("patch_px", None)
        tile_px = tile_px if tile_px is not None else patch_px
        conditioning = meta.pop("conditioning", None) or LEGACY_CONDITIONING.get(task, ())
        elevation_range = meta.pop("elevation_range_m", None)
        reference = meta.pop("earth_reference_quantiles_m", None)
        max_side = meta.pop("max_side_px", None)
        n_tiles = meta.pop("n_train_tiles", None)
        return cls(
            task=task,
            kind=str(meta.pop("kind", "")),
            tile_px=None if tile_px is None else int(tile_px),
            conditioning=tuple(str(c) for c in conditioning),
            elevation_range_m=None if elevation_range is None else (float(elevation_range[0]),
                                                                   float(elevation_range[1])),
            earth_reference_quantiles_m=None if reference is None else tuple(float(v) for v in reference),
            colour_space=meta.pop("colour_space", None),
            max_side_px=None if max_side is None else int(max_side),
            loss=meta.pop("loss", None),
            sampling=dict(meta.pop("sampling", None) or {}),
            train_regions=tuple(meta.pop("train_regions", ())),
            n_train_tiles=None if n_tiles is None else int(n_tiles),
            extra=meta,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-like values for the model file (unset fields left out, unknown keys kept)."""
        out: dict[str, Any] = {"task": self.task, "kind": self.kind}
        values = {
            "loss": self.loss,
            "tile_px": self.tile_px,
            "conditioning": list(self.conditioning) or None,
            "elevation_range_m": None if self.elevation_range_m is None else list(self.elevation_range_m),
            "earth_reference_quantiles_m": None if self.earth_reference_quantiles_m is None
            else list(self.earth_reference_quantiles_m),
            "colour_space": self.colour_space,
            "max_side_px": self.max_side_px,
            "sampling": self.sampling if self.task == COLOUR_TASK else None,
            "train_regions": list(self.train_regions) or None,
            "n_train_tiles": self.n_train_tiles,
        }  # fmt: skip
        out |= {k: v for k, v in values.items() if v is not None}
        return out | self.extra

    def agreed(self, name: str, model_value: Any, asked: Any, source: Path | str, config_key: str) -> Any:
        """The model's ``name``; ``asked`` (the config's, None = not set) may restate it, never change it.

        A model that stores no value takes the asked one; neither is an error naming the config key.
        """
        if model_value is None:
            if asked is None:
                raise ModelMismatchError(f"{source}: the model stores no {name}; set {config_key}")
            return asked
        if asked is not None and _plain(asked) != _plain(model_value):
            raise ModelMismatchError(
                f"{source}: trained with {name} {_plain(model_value)}, but {config_key} asks for "
                f"{_plain(asked)}; leave {config_key} null to use the model's, or make them agree"
            )
        return model_value

    def window_px(
        self,
        asked: int | None,
        source: Path | str,
        config_key: str = "render.window_px",
        override: bool = False,
    ) -> int:
        """The inference window: the model's tile size; a config value must equal it unless ``override``.

        ``override`` is the config's explicit ``overrides: [window_px]``: the U-Net is fully
        convolutional, so a larger window runs, but instance norm then sees other statistics and the
        picture changes, which is why it must be asked for by name.
        """
        if override and asked is not None:
            return int(asked)
        return int(self.agreed("tile size (px)", self.tile_px, asked, source, config_key))

    def elevation_range(
        self, asked: Sequence[float] | None, source: Path | str, config_key: str = "elevation.earth_range_m"
    ) -> tuple[float, float]:
        """The (low, high) metres the model's elevation was scaled from; a config range must equal it."""
        lo, hi = self.agreed("elevation range (m)", self.elevation_range_m, asked, source, config_key)
        return float(lo), float(hi)


@dataclass(frozen=True)
class TrainingRun:
    """How a model file's training ran: the ``training_run`` record of model.pt, read by the model cards.

    ``device`` is the torch device it trained on ("cpu", "cuda:0"), ``precision`` the arithmetic
    (training/precision.py), ``wall_s`` the seconds the training loop took in the process that finished
    it, which trained from ``start_step`` (0, or the checkpoint it resumed from) to ``steps``. Provenance
    only: nothing that runs the model reads it, and it lives outside ``extra_meta`` so a resumed run's
    checkpoint still matches. Files from before the record existed have none (:meth:`from_dict` of None).
    """

    device: str
    precision: str
    wall_s: float
    steps: int
    start_step: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainingRun | None:
        """The record of a model file's ``training_run`` entry; None for files written before it existed."""
        if not data:
            return None
        return cls(str(data["device"]), str(data["precision"]), float(data["wall_s"]), int(data["steps"]),
                   int(data.get("start_step", 0)))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain values for the model file."""
        return {"device": self.device, "precision": self.precision, "wall_s": self.wall_s,
                "steps": self.steps, "start_step": self.start_step}  # fmt: skip


def _plain(value: Any) -> Any:
    """Lists of floats for sequences of numbers, so (1, 2) and [1.0, 2.0] compare and print alike."""
    if isinstance(value, list | tuple):
        return [float(v) if isinstance(v, int | float) else v for v in value]
    return value
