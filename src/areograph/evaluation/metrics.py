"""The metric tables: every figure an evaluation publishes, one entry each.

An entry names the figure, the function that computes it, whether lower is better, its unit and a
one-line description. The metrics JSON (its keys, in table order, and the terrain's
``lower_is_better``), the metrics plot (a panel per entry), the report's HTML table (its columns and
their legend) and the model cards all read these tables, so adding a metric is one entry here.

Each table fixes its functions' signature:

* ``TERRAIN_METRICS``: ``fn(preds, truth, seed)`` on one validation region's tiles, (N, H, W, 3)
  float RGB in [0, 1]; per-tile figures are averaged over the tiles.
* ``WHOLE_REGION_METRICS``: ``fn(picture, region)`` on a whole held-out region rendered as the
  product is (:class:`WholeRegion`); ``reference`` measures the real imagery itself where ``fn`` on
  the real imagery would be meaningless (the realism test's real-vs-real control). A function may
  return a mapping: its ``name`` key is the figure, the other keys a breakdown published beside it.
* ``COLOUR_METRICS``: ``fn(pred, truth)`` on one rover frame, (H, W, 3) float RGB in [0, 1];
  summaries give each figure's mean over frames, and its median too where ``median`` is set.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from areograph.evaluation.image_metrics import ciede2000, colourfulness_ratio, l1, psnr, ssim
from areograph.evaluation.lattice import lattice_ratios, lattice_ratios_of_tiles, worst_lattice
from areograph.evaluation.realism import real_vs_real_accuracy, realism_accuracy
from areograph.evaluation.shoreline import water_agreement
from areograph.evaluation.texture import block_l1, palette_swd, texture_swd

log = logging.getLogger("areograph.evaluation")


@dataclass(frozen=True)
class Metric:
    """One published figure: ``name`` (its JSON key), how it is computed and how to read it.

    ``log_scale`` draws its plot panel on a log axis (figures spanning decades); ``median`` also
    publishes ``<name>_median`` in per-frame summaries; ``fmt`` is how tables and cards print it;
    ``best_at`` names the ideal value of a figure that is best neither low nor high (a ratio to the
    truth: 1), which the tables then state instead of a direction.
    """

    name: str
    fn: Callable[..., Any]
    lower_is_better: bool
    unit: str
    description: str
    log_scale: bool = False
    median: bool = False
    fmt: str = ".4g"
    reference: Callable[..., Any] | None = None
    best_at: float | None = None

    @property
    def direction(self) -> str:
        """Which way is better, as the plot and the tables say it."""
        if self.best_at is not None:
            return f"best at {self.best_at:g}"
        return "lower is better" if self.lower_is_better else "higher is better"


def lower_is_better(table: Sequence[Metric]) -> dict[str, bool]:
    """{name: lower is better} in table order (the terrain JSON's ``lower_is_better``)."""
    return {m.name: m.lower_is_better for m in table}


def columns(table: Sequence[Metric]) -> list[tuple[str, Metric]]:
    """The (JSON key, entry) pairs a summary holds: each figure, then its median where it has one."""
    out = []
    for m in table:
        out.append((m.name, m))
        if m.median:
            out.append((f"{m.name}_median", m))
    return out


def _per_tile(fn: Callable[[np.ndarray, np.ndarray], float]) -> Callable[..., float]:
    """A per-image metric as a region figure: its mean over the region's tiles."""

    def mean(preds: np.ndarray, truth: np.ndarray, seed: int) -> float:
        return float(np.mean([fn(p, t) for p, t in zip(preds, truth, strict=True)]))

    return mean


TERRAIN_METRICS: tuple[Metric, ...] = (
    Metric("l1", _per_tile(l1), True, "RGB [0, 1]", "mean absolute pixel difference per tile"),
    Metric("psnr", _per_tile(psnr), False, "dB", "peak signal-to-noise ratio per tile"),
    Metric("ssim", _per_tile(ssim), False, "0-1", "structural similarity per tile (1 = identical)"),
    Metric(
        "block_l1",
        lambda preds, truth, seed: block_l1(preds, truth),
        True,
        "RGB [0, 1]",
        "L1 of 8 x 8 px block means (1.6 km): land cover roughly in place",
    ),
    Metric(
        "texture",
        lambda preds, truth, seed: texture_swd(preds, truth, seed=seed)["mean"],
        True,
        "SWD x 1e3",
        "sliced Wasserstein distance of Laplacian-pyramid patches, the region's tiles pooled",
    ),
    Metric(
        "palette",
        lambda preds, truth, seed: palette_swd(preds, truth, seed=seed),
        True,
        "Delta E",
        "sliced Wasserstein distance of CIELAB pixel colours, the region's tiles pooled",
    ),
    Metric(
        "lattice",
        lambda preds, truth, seed: worst_lattice(lattice_ratios_of_tiles(np.round(np.asarray(preds) * 255))),
        True,
        "ratio",
        "worst spectral spike over periods 2-64 px against its ring's median (a printed grid)",
        log_scale=True,
    ),
)


@dataclass(frozen=True)
class WholeRegion:
    """A held-out region rendered whole: real (H, W, 3) uint8 imagery, valid pixels, water, the seed."""

    real: np.ndarray
    valid: np.ndarray
    water: np.ndarray
    seed: int


def _lattice(picture: np.ndarray, region: WholeRegion) -> dict[str, Any]:
    periods = lattice_ratios(picture, region.valid)
    return {"lattice": worst_lattice(periods), "lattice_periods": {str(p): v for p, v in periods.items()}}


def _realism(test: Callable[..., float], *args: Any, seed: int) -> float:
    """NaN when the region is too small to cut patches for both parts of the test."""
    try:
        return test(*args, seed=seed)
    except ValueError as err:
        log.warning("no realism test: %s", err)
        return math.nan


WHOLE_REGION_METRICS: tuple[Metric, ...] = (
    Metric(
        "lattice",
        _lattice,
        True,
        "ratio",
        "worst spectral spike over periods 2-64 px on 512 px crops (per period in lattice_periods)",
        log_scale=True,
    ),
    Metric(
        "realism",
        lambda picture, region: _realism(
            realism_accuracy, region.real, picture, region.valid, seed=region.seed
        ),
        True,
        "accuracy",
        "a small CNN telling the picture's patches from the real ones (0.5 = indistinguishable)",
        reference=lambda real, region: _realism(real_vs_real_accuracy, real, region.valid, seed=region.seed),
    ),
    Metric(
        "water_iou",
        lambda picture, region: water_agreement(picture, region.water, region.valid)["iou"],
        False,
        "IoU",
        "water-looking pixels against the water mask (NaN without water)",
    ),
)


COLOUR_METRICS: tuple[Metric, ...] = (
    Metric(
        "ciede2000",
        ciede2000,
        True,
        "Delta E 2000",
        "mean colour difference per frame (1 ~ just noticeable)",
        median=True,
        fmt=".2f",
    ),
    Metric(
        "colourfulness_ratio",
        colourfulness_ratio,
        False,
        "ratio",
        "Hasler-Suesstrunk colourfulness over the truth's (< 1 washed out, > 1 too colourful)",
        median=True,
        fmt=".2f",
        best_at=1.0,
    ),
    Metric("psnr", psnr, False, "dB", "peak signal-to-noise ratio of the RGB result", fmt=".2f"),
    Metric("ssim", ssim, False, "0-1", "structural similarity of the RGB result", fmt=".3f"),
)


def figures(table: Sequence[Metric], *args: Any, reference: bool = False) -> dict[str, Any]:
    """Every entry of ``table`` computed on ``args``, in table order (breakdowns after their figure).

    ``reference`` uses an entry's ``reference`` function where it has one (the real imagery's control).
    """
    out: dict[str, Any] = {}
    for m in table:
        fn = m.reference if reference and m.reference is not None else m.fn
        value = fn(*args)
        out |= dict(value) if isinstance(value, Mapping) else {m.name: value}
    return out


def table_for(metrics: Mapping[str, Any]) -> tuple[Metric, ...]:
    """The table a metrics JSON was written with: terrain (``regions``) or colour (``summary``)."""
    if "regions" in metrics:
        return TERRAIN_METRICS
    if "summary" in metrics:
        return COLOUR_METRICS
    raise ValueError("metrics: neither a terrain (regions) nor a colour (summary) evaluation")
