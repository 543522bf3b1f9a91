"""Terraformed Mars: run the generator over a Mars region and write a georeferenced mosaic.

The region's elevation was reprojected once onto its azimuthal equidistant grid (geo/tiling.py), so the
mosaic shares that grid: its footprint is the requested region, in the Mars AEQD CRS. Inference runs as
overlapping windows blended with a smooth weight (render/windows.py): no tile seams.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from matplotlib.colors import LightSource
from PIL import Image
from rasterio.enums import ColorInterp

from areograph.artefacts.model_dir import ModelMeta
from areograph.artefacts.mosaic import hypsometry_json, read_hypsometry
from areograph.artefacts.tileset import WATER
from areograph.atomic import atomic_path
from areograph.data.conditioning import conditioning_stack, pixel_latitudes
from areograph.data.elevation import mars_with_sea, scale_elevation
from areograph.data.pairs import training_elevations
from areograph.evaluation.lattice import lattice_ratios
from areograph.geo.footprint import footprint_path, write_footprint
from areograph.geo.geotiff import write_cog
from areograph.render.predictor import generator_predictor
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator, load_model_meta, model_scaling

if TYPE_CHECKING:
    from torch import nn

log = logging.getLogger("areograph.render")

QUICKLOOK_MAX_PX = 1024


def read_elevation(path: Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """Elevation (float32 metres), validity mask and the raster profile of a region raster."""
    with rasterio.open(path) as src:
        elev = src.read(1).astype(np.float32)
        valid = src.read_masks(1) > 0
        profile = src.profile
    if not valid.any():
        raise ValueError(f"{path}: the region has no valid elevation")
    return elev, valid, profile


def read_water(path: Path | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A region's water raster (1 = water) as an (H, W) bool mask on the elevation's grid; None = no layer."""
    if path is None:
        return None
    with rasterio.open(path) as src:
        water = (src.read(1) == WATER) & (src.read_masks(1) > 0)
    if water.shape != tuple(shape):
        raise ValueError(f"{path}: water raster is {water.shape} px, the region's elevation {tuple(shape)}")
    return water


def to_uint8(x: np.ndarray) -> np.ndarray:
    """[-1, 1] channel-first floats to HxWx3 uint8."""
    return np.round((np.clip(x, -1, 1).transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8)


def hillshade(elev: np.ndarray, valid: np.ndarray, gsd_m: float) -> np.ndarray:
    """Grey hillshade (HxWx3 uint8) lit from the north-west, invalid pixels black."""
    shade = LightSource(azdeg=315, altdeg=45).hillshade(elev, vert_exag=2.0, dx=gsd_m, dy=gsd_m)
    grey = np.round(shade * 255).astype(np.uint8)
    grey[~valid] = 0
    return np.repeat(grey[..., None], 3, axis=2)


def predict_earth_region(
    elev: np.ndarray,
    valid: np.ndarray,
    profile: dict,
    model_path: Path,
    window_px: int | None,
    overlap_px: int,
    window_override: bool = False,
    water: np.ndarray | None = None,
    generator: nn.Module | None = None,
) -> np.ndarray:
    """The generator over a whole Earth region (HxWx3 uint8): its metres need no Mars mapping.

    The held-out side-by-side and the region's map viewer show this same picture. ``window_px`` None =
    the model's tile size (a set value must equal it). ``water`` (H, W) is the region's sea mask, for a
    model with a water input (None = all land). ``generator``: a network already built from the file's
    weights, used instead of loading them (a benchmark's variant of the same model); its file still
    gives the scaling, inputs and window.
    """
    meta = load_model_meta(Path(model_path))
    scale, conditioning = model_scaling(Path(model_path), None, meta)
    window_px = meta.window_px(window_px, model_path, override=window_override)
    filled = np.where(valid, elev, np.median(elev[valid]))
    latitudes = None
    if "latitude" in conditioning:
        latitudes = pixel_latitudes(profile["transform"], profile["crs"].to_wkt(), *elev.shape)
    cond = conditioning_stack(scale_elevation(filled, *scale), latitudes, conditioning, water)
    model = load_generator(Path(model_path)) if generator is None else generator.eval()
    return to_uint8(predict_blended(cond, generator_predictor(model), window_px, overlap_px))


HYPSOMETRY_LEVELS = 1001
HYPSOMETRY_MAX_VALUES = 4_000_000


def mars_hypsometry(region_rasters: Sequence[str | Path], out_json: str | Path) -> dict:
    """The Mars heights of every region of a run, as quantiles (artefacts.mosaic HYPSOMETRY), atomically.

    Each region adds its valid pixels, thinned to a common stride so that the whole run's sample holds
    at most a few million values and every region weighs by its area.
    """
    rasters = [Path(p) for p in region_rasters]
    if not rasters:
        raise ValueError("a Mars hypsometry needs at least one region raster")
    sizes = []
    for path in rasters:
        with rasterio.open(path) as src:
            sizes.append(src.width * src.height)
    stride = max(1, int(np.ceil(sum(sizes) / HYPSOMETRY_MAX_VALUES)))
    values = []
    for path in rasters:
        elev, valid, _ = read_elevation(path)
        values.append(elev[valid][::stride])
    pooled = np.concatenate(values).astype(np.float64)
    levels = (np.arange(HYPSOMETRY_LEVELS) + 0.5) / HYPSOMETRY_LEVELS
    quantiles = np.quantile(pooled, levels)
    with atomic_path(Path(out_json)) as tmp:
        tmp.write_text(hypsometry_json(quantiles, [p.parent.parent.name for p in rasters], int(pooled.size)))
    summary = {
        "regions": len(rasters),
        "n_values": int(pooled.size),
        "range_m": [float(pooled.min()), float(pooled.max())],
    }
    log.info("Mars hypsometry of %s", summary)
    return summary


def _save_png(rgb: np.ndarray, out: Path, max_px: int = QUICKLOOK_MAX_PX) -> None:
    img = Image.fromarray(rgb)
    img.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    with atomic_path(out) as tmp:
        img.save(tmp)


def region_conditioning(
    elev: np.ndarray,
    valid: np.ndarray,
    profile: dict,
    model_path: str | Path,
    earth_reference_m: np.ndarray | None,
    elevation_range_m: Sequence[float] | None,
    mars_rule: str,
    meta: ModelMeta | None = None,
    sea_level_m: float | None = None,
    mars_reference_m: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The generator input (C, H, W) for a Mars region and its water mask (H, W).

    Mars heights are mapped to Earth's above ``sea_level_m`` (None = a dry Mars; see
    ``data.elevation.mars_with_sea``) and scaled as trained. ``meta`` (the model's, when the caller
    already read it) saves reading the file again. A sea level needs a model with a water input.
    ``mars_reference_m``: the run's Mars hypsometry (one height map for every region); None = the
    region's own distribution.
    """
    filled = np.where(valid, elev, np.median(elev[valid]))
    meta = load_model_meta(Path(model_path)) if meta is None else meta
    elevation_range_m, conditioning = model_scaling(Path(model_path), elevation_range_m, meta)
    stored = meta.earth_reference_quantiles_m
    if stored is not None:  # the model's own training distribution, not this run's sample
        earth_reference_m = np.asarray(stored, dtype=np.float64)
    if earth_reference_m is None:
        raise ValueError(
            f"{model_path}: no Earth reference elevations stored (the Mars quantile rule needs them); "
            "re-export it with `make ship-terrain`, or set render.weights: null to render with a model "
            "trained here (the workflow then passes the packed Earth pairs)"
        )
    if sea_level_m is not None and "water" not in conditioning:
        raise ValueError(
            f"{model_path}: this model has no water input (its inputs: {list(conditioning)}), so it cannot "
            f"draw a sea at sea_level_m = {sea_level_m:g}; use a model trained with water, or no sea level"
        )
    mapped, water = mars_with_sea(filled, mars_rule, earth_reference_m, sea_level_m, mars_reference_m)
    water &= valid
    latitudes = None
    if "latitude" in conditioning:
        latitudes = pixel_latitudes(profile["transform"], profile["crs"].to_wkt(), *elev.shape)
    cond = conditioning_stack(scale_elevation(mapped, *elevation_range_m), latitudes, conditioning, water)
    return cond, water


def render_mars(
    region_raster: str | Path,
    model_path: str | Path,
    earth_reference_m: np.ndarray | None,
    elevation_range_m: Sequence[float] | None,
    mars_rule: str,
    window_px: int | None,
    overlap_px: int,
    out_tif: str | Path,
    out_quicklook: str | Path,
    out_side_by_side: str | Path,
    out_footprint: str | Path | None = None,
    batch_size: int = 8,
    window_override: bool = False,
    sea_level_m: float | None = None,
    hypsometry: str | Path | None = None,
    precision: str = "auto",
) -> dict:
    """Terraform one Mars region: a COG in the Mars AEQD CRS with its lon/lat footprint (``out_footprint``,
    default beside the COG), a quicklook PNG and a hillshade | terraformed PNG.

    The elevation scaling, inputs and window (``window_px`` None = the model's tile size) come from the
    model's metadata; a config value that disagrees is a ModelMismatchError before anything is written.
    ``sea_level_m`` (areoid metres; None = dry) floods everything below it. ``hypsometry`` (the run's
    hypsometry.json) makes the Mars -> Earth height map one for the whole run. ``precision``
    (render.precision): auto = bf16 where native (training/precision.py), or fp32.
    """
    region_raster = Path(region_raster)
    meta = load_model_meta(Path(model_path))
    window_px = meta.window_px(window_px, model_path, override=window_override)
    elev, valid, profile = read_elevation(region_raster)
    mars_reference = None if hypsometry is None else read_hypsometry(hypsometry)
    cond, water = region_conditioning(
        elev, valid, profile, model_path, earth_reference_m, elevation_range_m, mars_rule, meta, sea_level_m,
        mars_reference,
    )  # fmt: skip
    model = load_generator(Path(model_path))
    predict = generator_predictor(model, precision)
    blended = predict_blended(cond, predict, window_px, overlap_px, batch_size, progress=True)
    rgb = to_uint8(blended)
    rgb[~valid] = 0
    write_cog(
        Path(out_tif),
        rgb.transpose(2, 0, 1),
        {"crs": profile["crs"], "transform": profile["transform"], "photometric": "RGB"},
        valid=valid,
        tags={
            "AREOGRAPH_PRODUCT": "terraformed Mars",
            "AREOGRAPH_MODEL": Path(model_path).name,
            "AREOGRAPH_MARS_RULE": mars_rule,
            "AREOGRAPH_SEA_LEVEL_M": "none (dry)" if sea_level_m is None else f"{sea_level_m:g}",
            "AREOGRAPH_SOURCE_DEM": region_raster.name,
        },
        colorinterp=[ColorInterp.red, ColorInterp.green, ColorInterp.blue],
    )
    write_footprint(
        out_tif, out_footprint or footprint_path(out_tif), properties={"product": "terraformed Mars"}
    )
    _save_png(rgb, Path(out_quicklook))
    gsd = abs(profile["transform"].a)
    side = np.concatenate(
        [hillshade(elev, valid, gsd), np.full((rgb.shape[0], 8, 3), 255, np.uint8), rgb], axis=1
    )
    _save_png(side, Path(out_side_by_side), max_px=2 * QUICKLOOK_MAX_PX)
    summary = {
        "width": profile["width"],
        "height": profile["height"],
        "valid_fraction": float(valid.mean()),
        "mars_range_m": [float(elev[valid].min()), float(elev[valid].max())],
        "sea_level_m": sea_level_m,
        "water_fraction": float(water[valid].mean()),
        "lattice": {str(p): round(v, 2) for p, v in lattice_ratios(rgb, valid).items()},
    }
    log.info("rendered %s: %s", out_tif, summary)
    return summary


def render_mars_from_pack(packed: str | Path, **kwargs) -> dict:
    """``render_mars`` with the Earth reference elevations taken from the packed training pairs."""
    return render_mars(earth_reference_m=training_elevations(Path(packed)), **kwargs)
