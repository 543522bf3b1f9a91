"""Value and error types shared by several layers (kept here so no layer imports upward for them)."""

from __future__ import annotations

from dataclasses import dataclass

from affine import Affine


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in degrees (east-positive longitudes, planetocentric latitudes)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (self.west < self.east and self.south < self.north):
            raise ValueError(f"degenerate box {self}")

    def __str__(self) -> str:
        """Rounded, for messages: ``lon 136.52..139.08, lat -6.80..-4.00`` (repr keeps every digit)."""
        return f"lon {self.west:.2f}..{self.east:.2f}, lat {self.south:.2f}..{self.north:.2f}"


@dataclass(frozen=True)
class PixelGrid:
    """A north-up lon/lat pixel grid: top-left corner, pixel steps in degrees, and size."""

    west: float
    north: float
    dx: float
    dy: float
    width: int
    height: int

    @property
    def transform(self) -> Affine:
        """The grid's affine transform (pixel corner to lon/lat)."""
        return Affine(self.dx, 0.0, self.west, 0.0, -self.dy, self.north)

    def bounds(self, col: int, row: int, width: int, height: int) -> tuple[float, float, float, float]:
        """(west, south, east, north) of a block of pixels."""
        w = self.west + col * self.dx
        n = self.north - row * self.dy
        return w, n - height * self.dy, w + width * self.dx, n


class SourceError(RuntimeError):
    """A source could not deliver; the message names the URL or file and the problem."""


class GeoError(RuntimeError):
    """A raster cannot be used for a region (unreadable, wrong planet, not covering it); names the file."""


class ModelMismatchError(ValueError):
    """A setting disagrees with what a model was trained with (scaling, tile size, inputs, colour space).

    Inference takes these from the model's own metadata; a config may restate them but never change
    them, because the same numbers would then mean something else to the network and the picture would
    be silently wrong. The message names the model file, the field, both values and the config key.
    """
