"""The terraforming track, one function per workflow step (fetch, tile, pack, train, evaluate).

Each function takes paths and the few plain settings it needs, so the Snakemake adapters stay one call
and every step can be run and tested without Snakemake. Rendering Mars lives in render/mosaic.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from areograph.atomic import atomic_path
from areograph.config import tiles_shape
from areograph.data.elevation import scale_elevation
from areograph.data.pairs import PairDataset, pack_pairs
from areograph.geo.grid import RegionGrid, region_grid
from areograph.geo.tiling import MAX_DROPPED_FRACTION, TileReport, tile_region
from areograph.metrics import ElevationColourLookup, l1, psnr, ssim, unit_rgb
from areograph.models.specs import generator_specs
from areograph.sources import get_source
from areograph.training.checkpoint import load_generator
from areograph.training.trainer import TrainConfig, train

log = logging.getLogger("areograph.terraform")

# Resampling per input kind: DEMs are smooth fields (bilinear); imagery must be low-pass filtered when
# downsampled or it aliases (average).
RESAMPLING = {"elevation": "bilinear", "imagery": "average"}


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
) -> dict[str, TileReport]:
    """Reproject each raster of one region once onto its grid and cut it into tiles."""
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
) -> dict[str, Any]:
    """Pair elevation and imagery tiles of all Earth regions into one packed dataset."""
    summary = pack_pairs(
        [dict(r) for r in regions],
        [Path(p) for p in elevation_dirs],
        [Path(p) for p in imagery_dirs],
        Path(out_path),
    )
    log.info("packed pairs: %s", summary)
    return summary


def train_terrain(
    kind: str,
    packed: str | Path,
    models: Mapping[str, Any],
    training: Mapping[str, Any],
    tile_px: int,
    elevation_range_m: Sequence[float],
    out_dir: str | Path,
    threads: int = 1,
) -> Path:
    """Train pix2pix (cGAN + L1) or the seed baseline (MSE) on the packed Earth pairs."""
    torch.set_num_threads(max(1, threads))
    settings = dict(training)
    load_px = settings.pop("load_px", tile_px + tile_px // 8 * 2)
    dataset = PairDataset(
        Path(packed),
        "train",
        tuple(elevation_range_m),
        load_px=load_px,
        augment=True,
        seed=settings.get("seed", 0),
    )
    generator, discriminator = generator_specs(kind, 1, 3, models["pix2pix"], models["baseline"], tile_px)
    mode = {"pix2pix": {"mode": "pix2pix"}, "baseline": {"mode": "regression", "regression_loss": "mse"}}[
        kind
    ]
    cfg = TrainConfig(**settings, **mode)
    meta = {"task": "terrain", "kind": kind, "elevation_range_m": list(elevation_range_m), "tile_px": tile_px}
    return train(generator, discriminator, dataset, cfg, Path(out_dir), extra_meta=meta)


def _predict_tile(model: torch.nn.Module, cond: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        out = model(cond[None].float())[0]
    return unit_rgb(out.numpy()).astype(np.float32)


def evaluate_terrain(
    packed: str | Path,
    model_paths: Mapping[str, str | Path],
    elevation_range_m: Sequence[float],
    out_json: str | Path,
    out_png: str | Path,
    n_examples: int = 4,
) -> dict[str, Any]:
    """L1 / PSNR / SSIM on the validation tiles for each model and the colour-by-elevation lookup."""
    data = np.load(packed)
    train_idx = np.flatnonzero(data["split"] == "train")
    val_idx = np.flatnonzero(data["split"] == "val")
    if len(val_idx) == 0:
        raise ValueError(f"{packed}: no validation tiles; set a region's split to 'val' or 'blocks'")
    lookup = ElevationColourLookup.fit(data["elevation"][train_idx], data["imagery"][train_idx])
    models = {name: load_generator(Path(p)) for name, p in model_paths.items()}
    lo, hi = elevation_range_m
    scores: dict[str, dict[str, list[float]]] = {
        n: {"l1": [], "psnr": [], "ssim": []} for n in [*models, "lookup"]
    }
    examples = []
    for i in val_idx:
        elev = data["elevation"][i]
        truth = data["imagery"][i].astype(np.float32) / 255.0
        cond = torch.from_numpy(scale_elevation(elev, lo, hi)[None].astype(np.float32))
        preds = {name: _predict_tile(m, cond) for name, m in models.items()}
        preds["lookup"] = lookup.predict(elev)
        for name, pred in preds.items():
            scores[name]["l1"].append(l1(pred, truth))
            scores[name]["psnr"].append(psnr(pred, truth))
            scores[name]["ssim"].append(ssim(pred, truth))
        if len(examples) < n_examples:
            examples.append((str(data["tile_id"][i]), elev, truth, preds))
    metrics = {
        "n_val_tiles": len(val_idx),
        "n_train_tiles": len(train_idx),
        "models": {n: {k: float(np.mean(v)) for k, v in s.items()} for n, s in scores.items()},
    }
    best = metrics["models"]
    if "pix2pix" in best:
        metrics["pix2pix_beats_lookup_l1"] = best["pix2pix"]["l1"] < best["lookup"]["l1"]
    with atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    _example_grid(examples, elevation_range_m, Path(out_png))
    log.info("terrain metrics: %s", metrics)
    return metrics


def _example_grid(examples: list, elevation_range_m: Sequence[float], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(examples[0][3]) if examples else []
    cols = 2 + len(names)
    fig, axes = plt.subplots(len(examples), cols, figsize=(2.6 * cols, 2.6 * len(examples)), squeeze=False)
    for r, (tile_id, elev, truth, preds) in enumerate(examples):
        panels = [("elevation", elev), ("real", truth), *preds.items()]
        for c, (title, img) in enumerate(panels):
            ax = axes[r][c]
            if title == "elevation":
                ax.imshow(img, cmap="terrain", vmin=elevation_range_m[0], vmax=elevation_range_m[1])
            else:
                ax.imshow(np.clip(img, 0, 1))
            ax.set_title(title if r else f"{title}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(tile_id, fontsize=8)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
