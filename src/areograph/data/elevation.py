"""The one elevation scaling shared by Earth and Mars, and the rules that bring Mars into Earth's range.

The generator only ever sees elevations through :func:`scale_elevation`: metres in a fixed Earth
training range ``[lo_m, hi_m]`` map linearly to ``[-1, 1]``, the value range of the tanh images it
is trained against. Mars elevations (about -8 km to +21 km relative to the areoid) are first mapped
into that Earth range by :func:`mars_to_earth_elevation`, so both planets pass through the same
function and the same numbers mean the same terrain height to the model.

Out-of-range policy ("never clip silently"): values outside ``[lo_m, hi_m]`` are clipped to
``[-1, 1]``, because the network has never seen conditioning values beyond that interval, and every
clip is reported as a WARNING on the ``areograph.data`` logger stating the clipped fraction, the
data's range and the training range. Non-finite elevations are an error, never a silent NaN.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger("areograph.data")

MARS_RULES = ("offset", "quantile")


def _check_range(lo_m: float, hi_m: float) -> None:
    if not (np.isfinite(lo_m) and np.isfinite(hi_m) and lo_m < hi_m):
        raise ValueError(f"elevation range must be finite with lo < hi, got [{lo_m}, {hi_m}]")


def scale_elevation(elev_m: np.ndarray, lo_m: float, hi_m: float) -> np.ndarray:
    """Map metres linearly so that ``lo_m -> -1`` and ``hi_m -> +1`` (float32).

    This is the single definition of the model's elevation input, used for Earth training tiles
    and for Mars alike. Values outside the range are clipped with a logged warning (fraction and
    ranges); NaN or infinite values raise ``ValueError`` because nodata must be filled upstream.
    """
    _check_range(lo_m, hi_m)
    elev = np.asarray(elev_m, dtype=np.float64)
    if elev.size and not np.all(np.isfinite(elev)):
        bad = int(np.count_nonzero(~np.isfinite(elev)))
        raise ValueError(f"elevation has {bad} non-finite value(s) of {elev.size}; fill nodata first")
    scaled = 2.0 * (elev - lo_m) / (hi_m - lo_m) - 1.0
    outside = (scaled < -1.0) | (scaled > 1.0)
    if np.any(outside):
        fraction = np.count_nonzero(outside) / outside.size
        logger.warning(
            "clipping %.4f%% of elevations (%d of %d px) to the training range [%g, %g] m; "
            "data range is [%g, %g] m",
            100.0 * fraction,
            int(np.count_nonzero(outside)),
            outside.size,
            lo_m,
            hi_m,
            float(elev.min()),
            float(elev.max()),
        )
        scaled = np.clip(scaled, -1.0, 1.0)
    return scaled.astype(np.float32)


def unscale_elevation(x: np.ndarray, lo_m: float, hi_m: float) -> np.ndarray:
    """Inverse of :func:`scale_elevation`: ``[-1, 1] -> [lo_m, hi_m]`` metres (float32, no clipping)."""
    _check_range(lo_m, hi_m)
    x = np.asarray(x, dtype=np.float64)
    return ((x + 1.0) * 0.5 * (hi_m - lo_m) + lo_m).astype(np.float32)


def _quantile_map(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Monotone map of ``values`` onto the distribution of ``reference`` (empirical quantiles).

    Each value's mid-rank ``p = (rank - 0.5) / n`` (ties share the average rank, so equal inputs give
    equal outputs) is looked up in the reference's piecewise-linear quantile function.
    """
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    # average rank of each run of equal values
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    ends = np.r_[starts[1:], sorted_vals.size]
    mid_ranks = np.repeat((starts + ends - 1) / 2.0, ends - starts)  # 0-based average rank
    p_sorted = (mid_ranks + 0.5) / values.size
    ref_sorted = np.sort(reference)
    ref_levels = (np.arange(ref_sorted.size) + 0.5) / ref_sorted.size
    mapped = np.empty_like(values)
    mapped[order] = np.interp(p_sorted, ref_levels, ref_sorted)
    return mapped


def _table_quantile_map(values: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Monotone map of ``values`` through two quantile tables: the level of each value in ``source``
    (e.g. the whole run's Mars heights), then the height at that level in ``target`` (Earth's)."""
    src = np.sort(np.asarray(source, dtype=np.float64).ravel())
    tgt = np.sort(np.asarray(target, dtype=np.float64).ravel())
    levels_src = (np.arange(src.size) + 0.5) / src.size
    levels_tgt = (np.arange(tgt.size) + 0.5) / tgt.size
    return np.interp(np.interp(values, src, levels_src), levels_tgt, tgt)


def mars_to_earth_elevation(
    mars_m: np.ndarray,
    rule: str,
    earth_reference_m: np.ndarray | None = None,
    mars_reference_m: np.ndarray | None = None,
) -> np.ndarray:
    """Bring one Mars region's elevations into the Earth training range (float32 metres).

    Mars relief is larger than any Earth training region and sits around an arbitrary datum, so
    the raw numbers would fall mostly outside the range the model learnt. Rules:

    * ``"offset"``: subtract the region's minimum, so its lowest point becomes 0 m (sea level);
      relief is kept in metres (tall regions may then exceed the training range and be clipped,
      with a warning, by :func:`scale_elevation`).
    * ``"quantile"``: monotone quantile matching onto ``earth_reference_m`` (the Earth training
      elevations): the p-th percentile of the region becomes the p-th percentile of Earth. The
      output lies within the reference's range, so nothing is clipped later. With
      ``mars_reference_m`` (the Mars heights of the whole run, e.g. every region of the planet) the
      percentile is taken in that distribution instead of the region's own: one map for every region,
      so neighbouring regions agree where they overlap.

    NaN inputs (nodata) stay NaN and are ignored by the statistics.
    """
    mars = np.asarray(mars_m, dtype=np.float64)
    finite = np.isfinite(mars)
    if not np.any(finite):
        raise ValueError("Mars elevation has no finite values")
    out = np.full(mars.shape, np.nan)
    if rule == "offset":
        out[finite] = mars[finite] - mars[finite].min()
    elif rule == "quantile":
        if earth_reference_m is None:
            raise ValueError("mars rule 'quantile' needs earth_reference_m (the Earth training elevations)")
        ref = np.asarray(earth_reference_m, dtype=np.float64).ravel()
        ref = ref[np.isfinite(ref)]
        if ref.size == 0:
            raise ValueError("earth_reference_m has no finite values")
        if mars_reference_m is None:
            out[finite] = _quantile_map(mars[finite], ref)
        else:
            out[finite] = _table_quantile_map(mars[finite], mars_reference_m, ref)
    else:
        raise ValueError(f"unknown Mars elevation rule {rule!r}; expected one of {list(MARS_RULES)}")
    return out.astype(np.float32)


# Mars's relief, areoid metres (MOLA: Hellas floor about -8,200 m, Olympus Mons +21,229 m): a sea level
# outside it is a dry or a drowned planet, never what a user meant.
MARS_RELIEF_M = (-8200.0, 21229.0)


def mars_with_sea(
    mars_m: np.ndarray,
    rule: str,
    earth_reference_m: np.ndarray | None,
    sea_level_m: float | None,
    mars_reference_m: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mars heights as Earth heights above a chosen sea level, and the water mask (float32 m, bool).

    ``sea_level_m`` None = a dry Mars (every pixel land: today's picture). Otherwise pixels below the
    level are water at 0 m (the sea surface, as Earth's sea is in the training tiles) and the land's
    heights above the level are brought into the Earth range by ``rule`` (:func:`mars_to_earth_elevation`)
    with the shoreline at 0 m: ``offset`` keeps metres above the level, ``quantile`` maps the land onto
    the Earth land distribution (which starts at the coast). ``mars_reference_m``: the run's Mars heights
    (see :func:`mars_to_earth_elevation`); its land above the level is the distribution mapped from.
    NaN (nodata) stays NaN and is never water.
    """
    mars = np.asarray(mars_m, dtype=np.float64)
    finite = np.isfinite(mars)
    if sea_level_m is None:
        dry = mars_to_earth_elevation(mars, rule, earth_reference_m, mars_reference_m)
        return dry, np.zeros(mars.shape, bool)
    lo, hi = MARS_RELIEF_M
    if not lo <= sea_level_m <= hi:
        raise ValueError(f"sea level {sea_level_m:g} m is outside Mars's relief [{lo:g}, {hi:g}] m")
    water = finite & (mars < sea_level_m)
    land = finite & ~water
    out = np.full(mars.shape, np.nan)
    out[water] = 0.0
    if land.any():
        above = np.where(land, mars - sea_level_m, np.nan)
        reference = None
        if mars_reference_m is not None:
            ref = np.asarray(mars_reference_m, dtype=np.float64)
            reference = ref[ref >= sea_level_m] - sea_level_m
            reference = reference if reference.size >= 2 else None
        if rule == "offset":
            out[land] = above[land]  # metres above the sea; the shoreline is 0 m
        else:
            mapped = mars_to_earth_elevation(above, rule, earth_reference_m, reference)
            out[land] = np.maximum(mapped[land], 0.0)  # land never below its own sea
    return out.astype(np.float32), water
