"""Terraformed Mars: run the generator over a Mars region and write a georeferenced mosaic.

The region's elevation was reprojected once onto its azimuthal equidistant grid (geo/tiling.py), so the
mosaic shares that grid: its footprint is the requested region, in the Mars AEQD CRS. Inference runs as
overlapping windows blended with a smooth weight (render/windows.py): no tile seams.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import rasterio
import torch
from matplotlib.colors import LightSource
from PIL import Image

from areograph.atomic import atomic_path
from areograph.data.conditioning import conditioning_stack, pixel_latitudes
from areograph.data.elevation import mars_to_earth_elevation, scale_elevation
from areograph.data.pairs import training_elevations
from areograph.render.windows import predict_blended
from areograph.training.checkpoint import load_generator, load_model_meta, model_scaling
from areograph.training.trainer import autocast_for

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


def generator_predictor(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a generator as a numpy batch -> numpy batch function for window inference (eval mode).

    Batches run in inference mode on the model's device, channels_last (NHWC convolutions), with bf16
    autocast on CUDA (as in training; fp32 on CPU, where bf16 changes the rendered colours).
    """
    model.eval()
    device = next(model.parameters()).device
    model.to(memory_format=torch.channels_last)

    def predict(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).float().to(device, memory_format=torch.channels_last)
        with torch.inference_mode(), autocast_for(device):
            out = model(x)
        return out.float().clamp(-1, 1).contiguous().cpu().numpy()

    return predict


def to_uint8(x: np.ndarray) -> np.ndarray:
    """[-1, 1] channel-first floats to HxWx3 uint8."""
    return np.round((np.clip(x, -1, 1).transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8)


def hillshade(elev: np.ndarray, valid: np.ndarray, gsd_m: float) -> np.ndarray:
    """Grey hillshade (HxWx3 uint8) lit from the north-west, invalid pixels black."""
    shade = LightSource(azdeg=315, altdeg=45).hillshade(elev, vert_exag=2.0, dx=gsd_m, dy=gsd_m)
    grey = np.round(shade * 255).astype(np.uint8)
    grey[~valid] = 0
    return np.repeat(grey[..., None], 3, axis=2)


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
) -> np.ndarray:
    """The generator input (C, H, W) for a Mars region: Mars heights mapped to Earth's, scaled as trained."""
    filled = np.where(valid, elev, np.median(elev[valid]))
    meta = load_model_meta(Path(model_path))
    elevation_range_m, conditioning = model_scaling(Path(model_path), elevation_range_m, meta)
    stored = meta.get("earth_reference_quantiles_m")
    if stored is not None:  # the model's own training distribution, not this run's sample
        earth_reference_m = np.asarray(stored, dtype=np.float64)
    if earth_reference_m is None:
        raise ValueError(f"{model_path}: no Earth reference elevations stored; pass the packed pairs")
    mapped = mars_to_earth_elevation(filled, mars_rule, earth_reference_m)
    latitudes = None
    if "latitude" in conditioning:
        latitudes = pixel_latitudes(profile["transform"], profile["crs"].to_wkt(), *elev.shape)
    cond = conditioning_stack(scale_elevation(mapped, *elevation_range_m), latitudes, conditioning)
    return cond


def render_mars(
    region_raster: str | Path,
    model_path: str | Path,
    earth_reference_m: np.ndarray | None,
    elevation_range_m: Sequence[float] | None,
    mars_rule: str,
    window_px: int,
    overlap_px: int,
    out_tif: str | Path,
    out_quicklook: str | Path,
    out_side_by_side: str | Path,
    batch_size: int = 8,
) -> dict:
    """Terraform one Mars region: GeoTIFF (Mars AEQD CRS), quicklook PNG and hillshade | terraformed PNG."""
    region_raster = Path(region_raster)
    elev, valid, profile = read_elevation(region_raster)
    cond = region_conditioning(
        elev, valid, profile, model_path, earth_reference_m, elevation_range_m, mars_rule
    )
    model = load_generator(Path(model_path))
    predict = generator_predictor(model)
    blended = predict_blended(cond, predict, window_px, overlap_px, batch_size, progress=True)
    rgb = to_uint8(blended)
    rgb[~valid] = 0
    out_profile = {
        "driver": "GTiff",
        "width": profile["width"],
        "height": profile["height"],
        "count": 3,
        "dtype": "uint8",
        "crs": profile["crs"],
        "transform": profile["transform"],
        "compress": "deflate",
        "photometric": "RGB",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with atomic_path(out_tif) as tmp, rasterio.open(tmp, "w", **out_profile) as dst:
        dst.write(rgb.transpose(2, 0, 1))
        dst.write_mask(np.where(valid, 255, 0).astype(np.uint8))
        dst.update_tags(
            AREOGRAPH_PRODUCT="terraformed Mars",
            AREOGRAPH_MODEL=Path(model_path).name,
            AREOGRAPH_MARS_RULE=mars_rule,
            AREOGRAPH_SOURCE_DEM=region_raster.name,
        )
        dst.colorinterp = [
            rasterio.enums.ColorInterp.red,
            rasterio.enums.ColorInterp.green,
            rasterio.enums.ColorInterp.blue,
        ]
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
    }
    log.info("rendered %s: %s", out_tif, summary)
    return summary


def render_mars_from_pack(packed: str | Path, **kwargs) -> dict:
    """``render_mars`` with the Earth reference elevations taken from the packed training pairs."""
    return render_mars(earth_reference_m=training_elevations(Path(packed)), **kwargs)
