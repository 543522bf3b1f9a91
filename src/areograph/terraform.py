"""The terraforming track, one function per workflow step (fetch, tile, pack, train); see terrain_eval.

Each function takes paths and the few plain settings it needs, so the Snakemake adapters stay one call
and every step can be run and tested without Snakemake. Rendering Mars lives in render/mosaic.py.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from areograph.artefacts.model_dir import TERRAIN_TASK, ModelMeta
from areograph.artefacts.mosaic import MOSAIC_FILES, mosaic_files
from areograph.artefacts.tileset import region_raster
from areograph.atomic import atomic_dir, check_destination
from areograph.config import region_source, sea_level_for, tiles_shape, window_override
from areograph.data.pairs import PairDataset, pack_pairs, training_elevations
from areograph.geo.grid import RegionGrid, check_region_name, region_grid
from areograph.geo.tiling import MAX_DROPPED_FRACTION, TileReport, tile_region
from areograph.models.specs import SpecInputs
from areograph.render.mosaic import render_mars
from areograph.sources import get_source
from areograph.training.kinds import terrain_kind
from areograph.training.trainer import TrainConfig, check_arithmetic, train

log = logging.getLogger("areograph.terraform")

# Resampling per input kind: DEMs are smooth fields (bilinear); imagery must be low-pass filtered when
# downsampled or it aliases (average).
# Water (1 = sea) is averaged and rounded: the majority of each 200 m pixel.
RESAMPLING = {"elevation": "bilinear", "imagery": "average", "water": "average"}


def grid_for(region: Mapping[str, Any], tiles: Mapping[str, Any]) -> RegionGrid:
    """The region's AEQD tile grid from its config entry and the tile settings."""
    cols, rows = tiles_shape(region)
    return region_grid(
        region["name"],
        region["planet"],
        region["lon"],
        region["lat"],
        cols,
        rows,
        tiles["size_px"],
        tiles["gsd_m"],
    )


def fetch_region_raster(
    input_name: str,
    region: Mapping[str, Any],
    tiles: Mapping[str, Any],
    source: Mapping[str, Any],
    out_path: str | Path,
) -> Path:
    """Download (or copy from the sample) one raster input covering the region's planned box."""
    box = grid_for(region, tiles).download_box(tiles["box_margin_m"])
    log.info("%s for %s: planned box %s via %s", input_name, region["name"], box, source["adapter"])
    adapter = get_source(source["adapter"], source.get("options"))
    return adapter.fetch_raster(input_name, box, Path(out_path))


def tile_region_inputs(
    region: Mapping[str, Any],
    tiles: Mapping[str, Any],
    rasters: Mapping[str, str | Path],
    out_dirs: Mapping[str, str | Path],
    sea_raster: str | Path | None = None,
) -> dict[str, TileReport]:
    """Reproject each raster of one region once onto its grid and cut it into tiles.

    ``sea_raster`` (the region's water input) puts the sea at 0 m in its elevation, so coastal tiles stay.
    """
    grid = grid_for(region, tiles)
    reports = {}
    for kind, raster in rasters.items():
        report = tile_region(
            Path(raster),
            grid,
            Path(out_dirs[kind]),
            RESAMPLING[kind],
            tiles["max_nodata_fraction"],
            tiles.get("max_dropped_fraction", MAX_DROPPED_FRACTION),
            sea_raster=Path(sea_raster) if sea_raster and kind == "elevation" else None,
        )
        log.info(
            "%s %s: kept %d tiles, dropped %d", region["name"], kind, len(report.kept), len(report.dropped)
        )
        reports[kind] = report
    return reports


def pack_terrain_pairs(
    regions: Sequence[Mapping[str, Any]],
    elevation_dirs: Sequence[str | Path],
    imagery_dirs: Sequence[str | Path],
    out_path: str | Path,
    water_dirs: Sequence[str | Path] | None = None,
) -> dict[str, Any]:
    """Pair elevation, imagery and water tiles of all Earth regions into one packed dataset."""
    summary = pack_pairs(
        [dict(r) for r in regions],
        [Path(p) for p in elevation_dirs],
        [Path(p) for p in imagery_dirs],
        Path(out_path),
        None if water_dirs is None else [Path(p) for p in water_dirs],
    )
    log.info("packed pairs: %s", summary)
    return summary


# Quantiles of the training elevations stored with every model: the Mars ``quantile`` rule's reference.
N_REFERENCE_QUANTILES = 1001


def train_terrain(
    kind: str,
    packed: str | Path,
    models: Mapping[str, Any],
    training: Mapping[str, Any],
    tile_px: int,
    elevation_range_m: Sequence[float],
    out_dir: str | Path,
    threads: int = 1,
    conditioning: Sequence[str] = ("elevation",),
) -> Path:
    """Train a terrain kind (training/kinds.py: pix2pix, unet_l1, baseline) on the packed Earth pairs."""
    torch.set_num_threads(max(1, threads))
    check_arithmetic(training)  # a refused precision stops here, before the data are read
    model_kind = terrain_kind(kind)  # which network and how it trains: training/kinds.py
    settings = dict(training)
    load_px = settings.pop("load_px", tile_px + tile_px // 8 * 2)
    dataset = PairDataset(
        Path(packed),
        "train",
        tuple(elevation_range_m),
        load_px=load_px,
        augment=True,
        seed=settings.get("seed", 0),
        conditioning=tuple(conditioning),
    )
    generator, discriminator = model_kind.specs(
        SpecInputs(len(dataset.conditioning), 3, tile_px, models["pix2pix"], models["baseline"])
    )
    cfg = TrainConfig(**settings, **model_kind.trainer)
    reference = np.quantile(training_elevations(Path(packed)), np.linspace(0, 1, N_REFERENCE_QUANTILES))
    meta = ModelMeta(
        task=TERRAIN_TASK,
        kind=kind,
        tile_px=tile_px,
        conditioning=dataset.conditioning,
        elevation_range_m=(float(elevation_range_m[0]), float(elevation_range_m[1])),
        earth_reference_quantiles_m=tuple(round(float(v), 2) for v in reference),
        train_regions=tuple(sorted(set(dataset.regions))),
        n_train_tiles=len(dataset),
    ).to_dict()
    return train(generator, discriminator, dataset, cfg, Path(out_dir), extra_meta=meta)


@contextlib.contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Silence a logger's warnings for a block, unless it is logging at INFO (the CLI's --verbose)."""
    target = logging.getLogger(logger)
    before = target.level
    if not target.isEnabledFor(logging.INFO):
        target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(before)


class PartialCoverage(ValueError):
    """The source holds data for only part of the requested region (and partial output was not asked)."""


def coverage_line(report: TileReport, source: str) -> str:
    """``18 of 36 tiles (50 %) of region X have data in the sample source``: coverage in the user's terms."""
    kept, total = len(report.kept), report.n_tiles
    return (
        f"{kept} of {total} tiles ({kept / total:.0%}) of region {report.region!r} have data in the "
        f"{source} source"
    )


def check_region_request(region: Mapping[str, Any], tiles: Mapping[str, Any]) -> RegionGrid:
    """The region's grid and download box, planned before any work: a bad name or size fails here."""
    check_region_name(region["name"])
    grid = grid_for(region, tiles)
    grid.download_box(tiles["box_margin_m"])
    return grid


def terraform_region(
    region: Mapping[str, Any],
    config: Mapping[str, Any],
    weights: str | Path,
    out_dir: str | Path,
    allow_partial: bool = False,
) -> dict[str, Path]:
    """Fetch, tile and render one Mars region as the workflow does, into ``out_dir`` (all or nothing).

    The same three package steps as the rules fetch_raster, tile_layer and render_mars, run in a
    staging folder beside ``out_dir`` (so on the same file system, and removed on every exit path);
    only the products land in ``out_dir``, swapped in whole when every step succeeded. A region the
    source covers only in part is a :class:`PartialCoverage` error before rendering unless
    ``allow_partial`` (then the uncovered tiles render black); the workflow's limit,
    ``tiles.max_dropped_fraction``, holds either way.
    """
    out_dir = check_destination(out_dir, "output folder")
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in MOSAIC_FILES.values()) \
        if out_dir.is_dir() else []  # fmt: skip
    if foreign:  # the folder is replaced whole: never one that holds anything else
        raise ValueError(f"{out_dir}: holds other files ({', '.join(foreign[:3])}); choose an empty folder")
    check_region_request(region, config["tiles"])
    source = region_source(config, region, "mars_elevation")
    render = config["render"]
    with atomic_dir(out_dir) as tmp:
        scratch = tmp / ".work"  # inside the staging folder: one place to remove, beside the output
        try:
            products = mosaic_files(tmp)
            raw = scratch / "raw.tif"
            fetch_region_raster("mars_elevation", region, config["tiles"], source, raw)
            tiles = scratch / "tiles"
            with _quiet("areograph.geo"):  # its per-tile warning is replaced by the one coverage line below
                report = tile_region_inputs(region, config["tiles"], {"elevation": raw}, {"elevation": tiles})
            coverage = report["elevation"]
            if coverage.dropped and not allow_partial:
                raise PartialCoverage(
                    f"only {coverage_line(coverage, source['adapter'])}; move or shrink the region, or "
                    "render it with the uncovered tiles black (--allow-partial)"
                )
            if coverage.dropped:
                log.warning("%s; the other tiles are left black", coverage_line(coverage, source["adapter"]))
            render_mars(
                region_raster(tiles),
                weights,
                earth_reference_m=None,  # the shipped model stores its own Earth distribution
                elevation_range_m=None,
                mars_rule=config["elevation"]["mars_rule"],
                window_px=render.get("window_px"),
                overlap_px=render["overlap_px"],
                batch_size=render.get("batch_size", 8),
                window_override=window_override(render),
                sea_level_m=sea_level_for(config, region),
                precision=render.get("precision", "auto"),
                out_tif=products["tif"],
                out_quicklook=products["quicklook"],
                out_side_by_side=products["side_by_side"],
                out_footprint=products["footprint"],
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return mosaic_files(out_dir)
