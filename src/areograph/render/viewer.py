"""A self-contained map viewer per region: two tile pyramids, Leaflet, one index.html, no network.

Mars regions show the terraformed mosaic over the MOLA hillshade; held-out Earth regions show the
generated picture over the real imagery. The folder holds ``index.html``, the vendored Leaflet
(``leaflet/``, from the npm registry, see vendor/leaflet/README) and ``tiles/<layer>/{z}/{x}/{y}.png``,
all linked by relative URLs, so it works from file:// as well as over HTTP and inside the report zip.
Every region's raster has square pixels on its own azimuthal equidistant grid, so the viewer uses
``L.CRS.Simple`` and its scale bar is computed from the raster's ground sample distance (Leaflet's own
scale control assumes Web Mercator on Earth).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from areograph.artefacts.tileset import region_raster
from areograph.artefacts.viewer import LEAFLET_DIR, TILES_DIR, viewer_page
from areograph.atomic import atomic_dir
from areograph.geo.geotiff import read_rgb
from areograph.render.mosaic import hillshade, predict_earth_region, read_elevation, read_water
from areograph.render.pyramid import TILE_PX, write_pyramid

log = logging.getLogger("areograph.viewer")

TEMPLATE = "viewer.html"
CONFIG_TOKEN = "__VIEWER_CONFIG__"
TITLE_TOKEN = "__VIEWER_TITLE__"


@dataclass(frozen=True)
class Layer:
    """One picture of the region: a key (its tile folder), a label for the viewer, HxWx4 RGBA pixels."""

    key: str
    label: str
    rgba: np.ndarray


def rgba(rgb: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """RGB plus an alpha that hides the pixels outside the region's valid data."""
    return np.concatenate([rgb, np.where(valid, 255, 0).astype(np.uint8)[..., None]], axis=2)


def write_viewer(
    out_dir: str | Path,
    name: str,
    planet: str,
    lon: float,
    lat: float,
    gsd_m: float,
    base: Layer,
    overlay: Layer,
    caption: str = "",
) -> dict[str, Any]:
    """Write the viewer folder (atomically: a failed build leaves no half-written viewer)."""
    if base.rgba.shape != overlay.rgba.shape:
        raise ValueError(f"{name}: layers differ in size ({base.rgba.shape} vs {overlay.rgba.shape})")
    height, width = base.rgba.shape[:2]
    with atomic_dir(out_dir) as tmp:
        layers = (base, overlay)
        zooms = {layer.key: write_pyramid(layer.rgba, tmp / TILES_DIR / layer.key) for layer in layers}
        vendor = resources.files("areograph.render").joinpath("vendor", "leaflet")
        with resources.as_file(vendor) as src:
            shutil.copytree(src, tmp / LEAFLET_DIR)
        config = {
            "name": name,
            "planet": planet,
            "lon": lon,
            "lat": lat,
            "gsd_m": gsd_m,
            "width": width,
            "height": height,
            "tile_px": TILE_PX,
            "max_zoom": zooms[base.key],
            "base": {"key": base.key, "label": base.label},
            "overlay": {"key": overlay.key, "label": overlay.label},
            "caption": caption,
        }
        template = resources.files("areograph.render").joinpath(TEMPLATE).read_text()
        # "</" cannot end the JSON's <script> block early once escaped.
        text = template.replace(CONFIG_TOKEN, json.dumps(config).replace("</", "<\\/"))
        text = text.replace(TITLE_TOKEN, f"{name} ({planet}) map viewer")
        viewer_page(tmp).write_text(text, encoding="utf-8")
    log.info("viewer %s: %d x %d px, zoom 0-%d", out_dir, width, height, config["max_zoom"])
    return config


def _gsd(profile: Mapping[str, Any]) -> float:
    transform = profile["transform"]
    if not np.isclose(abs(transform.a), abs(transform.e)):
        raise ValueError(f"pixels are not square ({transform.a} x {transform.e} m): no one scale bar fits")
    return float(abs(transform.a))


def mars_viewer(
    region: Mapping[str, Any], elevation_raster: str | Path, terraformed_tif: str | Path, out_dir: str | Path
) -> dict[str, Any]:
    """Terraformed mosaic (top, opacity slider) over the MOLA hillshade it was made from."""
    elev, valid, profile = read_elevation(Path(elevation_raster))
    rgb, mosaic_valid = read_rgb(terraformed_tif)
    if rgb.shape[:2] != elev.shape:
        raise ValueError(f"{terraformed_tif}: {rgb.shape[:2]} px, but {elevation_raster} is {elev.shape}")
    gsd = _gsd(profile)
    return write_viewer(
        out_dir,
        region["name"],
        "mars",
        region["lon"],
        region["lat"],
        gsd,
        Layer("hillshade", "MOLA hillshade", rgba(hillshade(elev, valid, gsd), valid)),
        Layer("terraformed", "terraformed", rgba(rgb, mosaic_valid)),
        caption=f"{Path(terraformed_tif).name}, rendered from the MOLA elevation",
    )


def earth_viewer(
    region: Mapping[str, Any],
    elevation_raster: str | Path,
    imagery_raster: str | Path,
    model_path: str | Path,
    window_px: int | None,
    overlap_px: int,
    out_dir: str | Path,
    window_override: bool = False,
    water_raster: str | Path | None = None,
) -> dict[str, Any]:
    """A held-out Earth region: the generator's picture (top, opacity slider) over the real imagery."""
    elev, valid, profile = read_elevation(Path(elevation_raster))
    water = read_water(None if water_raster is None else Path(water_raster), elev.shape)
    real, _ = read_rgb(imagery_raster)
    if real.shape[:2] != elev.shape:
        raise ValueError(f"{imagery_raster}: {real.shape[:2]} px, but {elevation_raster} is {elev.shape}")
    generated = predict_earth_region(elev, valid, profile, Path(model_path), window_px, overlap_px,
                                     window_override, water)  # fmt: skip
    return write_viewer(
        out_dir,
        region["name"],
        "earth",
        region["lon"],
        region["lat"],
        _gsd(profile),
        Layer("real", "real imagery", rgba(real, valid)),
        Layer("generated", "generated", rgba(generated, valid)),
        caption=f"generated by {Path(model_path).name} from the elevation alone; held out of training",
    )


def region_viewer(
    region: Mapping[str, Any],
    inputs: Mapping[str, str],
    window_px: int | None,
    overlap_px: int,
    out_dir: str | Path,
    window_override: bool = False,
) -> dict[str, Any]:
    """The viewer of one region, by planet (the rule's inputs differ: see rules/report.smk)."""
    tif = region_raster(Path(inputs["elevation"]))
    if region["planet"] == "mars":
        return mars_viewer(region, tif, inputs["mosaic"], out_dir)
    imagery = region_raster(Path(inputs["imagery"]))
    model = inputs["model"]
    water = region_raster(Path(inputs["water"])) if inputs.get("water") else None
    return earth_viewer(region, tif, imagery, model, window_px, overlap_px, out_dir, window_override, water)

