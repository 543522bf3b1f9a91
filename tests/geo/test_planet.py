"""The whole-planet plan (coverage, overlap, distortion) and the global assembly on the Gale sample."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import yaml

from areograph.config import ConfigError, validate_config
from areograph.geo.crs import MARS_EQUIRECTANGULAR, geographic_crs, local_aeqd_crs, mean_radius_m
from areograph.geo.geotiff import write_geotiff
from areograph.geo.grid import region_grid
from areograph.geo.planet import aeqd_scale_error, max_angular_radius, plan_planet
from areograph.render.mosaic import render_mars
from areograph.render.planet import assemble_planet, outline, region_footprint
from areograph.terraform import fetch_region_raster, tile_region_inputs

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "weights" / "terrain_pix2pix" / "model.pt"
TILES = {"size_px": 64, "gsd_m": 200, "max_nodata_fraction": 0.02, "box_margin_m": 2000}


def test_max_angular_radius_meets_the_bound() -> None:
    c = max_angular_radius(0.01)
    assert aeqd_scale_error(c) == pytest.approx(0.01, rel=1e-6)
    assert aeqd_scale_error(0.99 * c) < 0.01 < aeqd_scale_error(1.01 * c)


def _inside_margin(regions: list[dict], half_m: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """For each point, the largest margin (m) by which it lies inside any region's square."""
    best = np.full(lons.shape, -np.inf)
    for r in regions:
        to_xy = pyproj.Transformer.from_crs(
            geographic_crs("mars"), local_aeqd_crs("mars", r["lon"], r["lat"]), always_xy=True
        )
        x, y = to_xy.transform(lons, lats)
        best = np.maximum(best, half_m - np.maximum(np.abs(x), np.abs(y)))
    return best


def test_plan_covers_the_whole_planet_with_overlap_within_the_distortion_bound() -> None:
    overlap = 20_000.0
    plan = plan_planet(0.01, overlap, 256, 200)
    tile_m = 256 * 200
    half = plan.tiles_per_side * tile_m / 2
    assert plan.max_scale_error <= 0.01
    # one more tile per side would break the bound: the regions are as large as it allows
    assert aeqd_scale_error(math.hypot(half + tile_m / 2, half + tile_m / 2) / mean_radius_m("mars")) > 0.01
    names = [r["name"] for r in plan.regions]
    assert len(set(names)) == len(names) and {"planet_north", "planet_south"} <= set(names)
    assert all(r["tiles_per_side"] == plan.tiles_per_side and r["split"] == "render" for r in plan.regions)
    # fewer regions than the area bound allows twice over: the bands are not wasteful
    area_ratio = 4 * math.pi * mean_radius_m("mars") ** 2 / (2 * (half - overlap)) ** 2
    assert area_ratio < len(plan.regions) < 2 * area_ratio
    # a Fibonacci lattice of points over the sphere, plus both poles and the date line
    n = 4000
    k = np.arange(n) + 0.5
    lats = np.degrees(np.arcsin(1 - 2 * k / n))
    lons = (np.degrees(np.pi * (1 + 5**0.5) * k) % 360.0) - 180.0
    lons = np.concatenate([lons, [0.0, 0.0, 180.0, -180.0, 179.99]])
    lats = np.concatenate([lats, [90.0, -90.0, 0.0, 45.0, -60.0]])
    margin = _inside_margin(plan.regions, half, lons, lats)
    assert margin.min() >= overlap * 0.999, f"worst point {lons[margin.argmin()]}, {lats[margin.argmin()]}"


def test_plan_extent_keeps_only_the_regions_meeting_it() -> None:
    whole = plan_planet(0.01, 20_000.0, 256, 200)
    part = plan_planet(0.01, 20_000.0, 256, 200, extent=[170.0, -5.0, 190.0, 5.0])  # across the date line
    assert 0 < len(part.regions) < 10 and {r["name"] for r in part.regions} <= {
        r["name"] for r in whole.regions
    }
    assert {r["lon"] > 0 for r in part.regions} == {True, False}


def _render_regions(tmp: Path, regions: list[dict]) -> list[Path]:
    out = []
    for r in regions:
        raw = fetch_region_raster(
            "mars_elevation", r, TILES, {"adapter": "sample"}, tmp / r["name"] / "raw.tif"
        )
        tile_region_inputs(r, TILES, {"elevation": raw}, {"elevation": tmp / r["name"] / "tiles"})
        tif = tmp / r["name"] / "terraformed.tif"
        render_mars(
            tmp / r["name"] / "tiles" / "region.tif",
            MODEL,
            None,
            None,
            "quantile",
            256,
            128,
            tif,
            tmp / r["name"] / "q.png",
            tmp / r["name"] / "s.png",
        )
        out.append(tif)
    return out


def _gradient_energy(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean absolute RGB difference between horizontal and between vertical neighbours."""
    f = rgb.astype(np.float32)
    return np.abs(np.diff(f, axis=2)).mean(axis=0), np.abs(np.diff(f, axis=1)).mean(axis=0)


def test_gale_regions_assemble_into_a_seamless_equirectangular_cog(tmp_path: Path) -> None:
    plan = plan_planet(
        0.01, 3000.0, TILES["size_px"], TILES["gsd_m"], tiles_max=2, extent=[137.6, -5.5, 137.9, -5.2]
    )
    assert 4 <= len(plan.regions) <= 9
    tifs = _render_regions(tmp_path, plan.regions)
    out = tmp_path / "planet" / "terraformed_mars.tif"
    summary = assemble_planet(tifs, out, gsd_m=200.0, feather_m=3000.0, block_px=128)
    with rasterio.open(out) as ds:
        assert pyproj.CRS(ds.crs.to_wkt()).equals(pyproj.CRS(MARS_EQUIRECTANGULAR))
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        # overviews halve until one 256 px block holds the image (geotiff.py's COG options)
        assert ds.overviews(1) == [2**k for k in range(1, 12) if max(ds.shape) > 256 * 2 ** (k - 1)]
        rgb, valid = ds.read(), ds.read_masks(1) > 0
        transform = ds.transform
    assert summary["regions"] == len(plan.regions)
    # no holes inside the union: every pixel of the core cells of the plan is covered
    deg_m = math.pi * mean_radius_m("mars") / 180.0
    col0, row0 = ~transform @ (137.6 * deg_m, -5.2 * deg_m)
    col1, row1 = ~transform @ (137.9 * deg_m, -5.5 * deg_m)
    core = (slice(int(row0), int(row1)), slice(int(col0), int(col1)))
    assert valid[core].all()
    # seams: gradient energy on the pixels where one region's edge passes vs. everywhere in the core
    seam = np.zeros(valid.shape, bool)
    for tif in tifs:
        with rasterio.open(tif) as src:
            to_eqc = pyproj.Transformer.from_crs(
                pyproj.CRS(src.crs.to_wkt()), pyproj.CRS(MARS_EQUIRECTANGULAR), always_xy=True
            )
            b = src.bounds
        cols, rows = ~transform @ to_eqc.transform(*outline(*b, densify=400))
        inside = (rows >= 0) & (rows < valid.shape[0]) & (cols >= 0) & (cols < valid.shape[1])
        seam[rows[inside].astype(int), cols[inside].astype(int)] = True
    gx, gy = _gradient_energy(rgb)
    energy = gx[:-1, :] + gy[:, :-1]
    in_core = np.zeros(valid.shape, bool)
    in_core[core] = True
    in_core = in_core[:-1, :-1]
    seam = seam[:-1, :-1] & in_core
    assert seam.sum() > 100  # region edges do cross the core
    ratio = energy[seam].mean() / energy[in_core].mean()
    # feathered over 3 km: 1.08; pasted with a 1 px feather the same regions give 1.74
    assert ratio < 1.2, f"gradient energy on region edges is {ratio:.2f} x the mean"


def _dry_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "-n", "--cores", "1", "--quiet", "rules", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )


def test_planet_target_plans_one_render_job_per_region() -> None:
    run = _dry_run("--configfile", "configs/planet.yaml", "--", "planet")
    assert run.returncode == 0, run.stderr
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, re.MULTILINE))
    plan = plan_planet(0.01, 20_000.0, 256, 200)
    assert int(jobs["render_mars"]) == len(
        plan.regions
    )  # the sample config has no other Mars region to render
    assert jobs["assemble_planet"] == "1"


def test_planet_target_without_planet_enabled_says_so() -> None:
    run = _dry_run("--", "planet")
    assert run.returncode != 0 and "planet.enabled: true" in run.stdout + run.stderr


def test_planet_config_rejects_unknown_keys() -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["planet"] = {"enabled": True, "overlap": 20}
    with pytest.raises(ConfigError, match=r"planet: unknown key\(s\) \['overlap'\]"):
        validate_config(config)


def test_polar_cap_grid_and_download_box_cover_the_pole() -> None:
    plan = plan_planet(0.01, 20_000.0, 256, 200)
    cap = next(r for r in plan.regions if r["name"] == "planet_north")
    grid = region_grid(
        cap["name"], "mars", cap["lon"], cap["lat"], cap["tiles_per_side"], cap["tiles_per_side"]
    )
    box = grid.download_box(2000)
    assert (box.west, box.east, box.north) == (-180.0, 180.0, 90.0)
    ring = np.array(grid.footprint_lonlat())
    assert ring[:, 1].min() > box.south  # the cap's corners, its most equatorward points, are inside
    assert ring[:, 1].min() < plan.cap_lat  # and it reaches the first band


def test_polar_cap_assembles_into_the_top_rows_of_the_mosaic(tmp_path: Path) -> None:
    grid = region_grid("planet_north", "mars", 0.0, 90.0, 4, 4, tile_px=64, gsd_m=2000)  # 512 km a side
    rng = np.random.default_rng(0)
    rgb = np.full((3, grid.height, grid.width), 120, np.uint8) + rng.integers(
        0, 10, (3, grid.height, grid.width), dtype=np.uint8
    )
    profile = {"crs": rasterio.crs.CRS.from_wkt(grid.crs.to_wkt()), "transform": grid.transform}
    tif = write_geotiff(tmp_path / "cap.tif", rgb, profile, valid=np.ones(rgb.shape[1:], bool))
    footprint = region_footprint(tif)
    assert (footprint.west, footprint.east, footprint.north) == (-180.0, 180.0, 90.0)
    out = tmp_path / "planet.tif"
    summary = assemble_planet([tif], out, gsd_m=10_000.0, feather_m=20_000.0, block_px=256)
    assert summary["width"] == round(2 * math.pi * mean_radius_m("mars") / 10_000.0)
    with rasterio.open(out) as ds:
        valid = ds.read_masks(1) > 0
        top = ds.read(1)[0]
    assert valid[0].all() and valid[:, 0].sum() == valid[:, -1].sum()  # the pole's row, every longitude
    assert abs(float(top.mean()) - 124.5) < 6
