"""Baselines the models must beat, fitted on the training split: they need no network.

``ElevationColourLookup`` colours terrain by height (the terrain evaluation's ``lookup``); the other
baselines are one line each where they are used (the training mean colour, greyscale).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ElevationColourLookup:
    """Baseline: the mean training colour of each elevation bin, interpolated between bin centres.

    It answers "how much does the model add beyond colouring by height?". Bins are equal-width over
    the training elevations' range; empty bins borrow from their neighbours by interpolation, and
    elevations beyond the fitted range take the colour of the nearest end bin.
    """

    def __init__(self, edges_m: np.ndarray, colour: np.ndarray, counts: np.ndarray) -> None:
        self.edges_m = np.asarray(edges_m, dtype=np.float64)
        self.colour = np.asarray(colour, dtype=np.float64)
        self.counts = np.asarray(counts, dtype=np.int64)
        bins = self.edges_m.size - 1
        if bins < 1 or self.colour.shape != (bins, 3) or self.counts.shape != (bins,):
            raise ValueError(
                f"inconsistent lookup: {self.edges_m.size} edges, colour {self.colour.shape}, "
                f"counts {self.counts.shape}"
            )

    @classmethod
    def fit(cls, elevation_m: np.ndarray, rgb: np.ndarray, bins: int = 64) -> ElevationColourLookup:
        """Fit from training tiles: elevation (...,H,W) metres and rgb (...,H,W,3), uint8 or float [0,1]."""
        elev = np.asarray(elevation_m, dtype=np.float64)
        colours = np.asarray(rgb)
        if colours.shape != (*elev.shape, 3):
            raise ValueError(f"rgb shape {colours.shape} does not match elevation shape {elev.shape} + (3,)")
        colours = colours / 255.0 if colours.dtype == np.uint8 else colours.astype(np.float64)
        elev, colours = elev.ravel(), colours.reshape(-1, 3)
        ok = np.isfinite(elev)
        elev, colours = elev[ok], colours[ok]
        if elev.size == 0:
            raise ValueError("no finite elevations to fit the colour lookup")
        lo, hi = float(elev.min()), float(elev.max())
        if hi == lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
        idx = np.clip(np.searchsorted(edges, elev, side="right") - 1, 0, bins - 1)
        counts = np.bincount(idx, minlength=bins)
        sums = np.stack([np.bincount(idx, weights=colours[:, c], minlength=bins) for c in range(3)], axis=1)
        filled = counts > 0
        centres = (edges[:-1] + edges[1:]) / 2
        colour = np.empty((bins, 3))
        for c in range(3):
            colour[:, c] = np.interp(centres, centres[filled], sums[filled, c] / counts[filled])
        return cls(edges, colour, counts)

    def predict(self, elevation_m: np.ndarray) -> np.ndarray:
        """Colour (H,W,3) float in [0, 1] for an elevation array (H,W) in metres."""
        elev = np.asarray(elevation_m, dtype=np.float64)
        centres = (self.edges_m[:-1] + self.edges_m[1:]) / 2
        return np.stack([np.interp(elev, centres, self.colour[:, c]) for c in range(3)], axis=-1)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists for JSON."""
        return {
            "edges_m": self.edges_m.tolist(),
            "colour": self.colour.tolist(),
            "counts": self.counts.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ElevationColourLookup:
        """Inverse of :meth:`to_dict`."""
        return cls(np.array(data["edges_m"]), np.array(data["colour"]), np.array(data["counts"]))
