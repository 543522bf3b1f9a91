"""Judge the terraforming models as a user would: per validation region, against simple baselines.

For every validation region (its validation tiles; with whole-region splits, the whole region) each
generator and two baselines that need no network are scored:

* ``constant``: the training tiles' mean colour everywhere;
* ``lookup``: the mean training colour of each elevation bin (baselines.ElevationColourLookup).

The figures are the entries of ``metrics.TERRAIN_METRICS`` (per validation region) and of
``metrics.WHOLE_REGION_METRICS`` (held-out regions rendered whole, as the product is). Each model is
fed the inputs its own metadata names (elevation scaling, conditioning), never the config's guess."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from areograph.artefacts.packed import read_packed, read_split
from areograph.atomic import atomic_path
from areograph.data.conditioning import conditioning_stack, latitudes_from_corners
from areograph.data.elevation import scale_elevation
from areograph.evaluation import metrics as metric_table
from areograph.evaluation.baselines import ElevationColourLookup
from areograph.evaluation.figures import ExampleRow, example_grid, metrics_plot
from areograph.evaluation.image_metrics import unit_rgb
from areograph.evaluation.lattice import lattice_ratios_of_tiles, worst_lattice
from areograph.evaluation.tables import write_metrics_json
from areograph.geo.geotiff import read_rgb
from areograph.training.checkpoint import load_generator, model_scaling

log = logging.getLogger("areograph.evaluation")

BASELINES = ("constant", "lookup")


def _generator(path: Path, elevation_range_m: Sequence[float] | None):
    """A predict(elevation_m (H,W), corners (2,2), water (H,W)) -> (H,W,3) [0,1] function of a model file."""
    scale, conditioning = model_scaling(path, elevation_range_m)
    model = load_generator(path)

    def predict(elev: np.ndarray, corners: np.ndarray | None, water: np.ndarray | None) -> np.ndarray:
        lat = None if corners is None else latitudes_from_corners(corners, *elev.shape)
        cond = conditioning_stack(scale_elevation(elev, *scale), lat, conditioning, water)
        with torch.no_grad():
            out = model(torch.from_numpy(cond)[None])[0]
        return unit_rgb(out.numpy()).astype(np.float32)

    return predict


def whole_region_figures(
    real: np.ndarray,
    pictures: Mapping[str, np.ndarray],
    valid: np.ndarray,
    water: np.ndarray | None,
    seed: int,
) -> dict[str, Any]:
    """Lattice per period, realism and water IoU of every picture of one whole region, and of the real one.

    ``real`` and each picture are (H, W, 3) uint8 on the region's grid. The real imagery gets its own
    lattice, the realism test's real-vs-real control and its own water IoU (what the figures can reach).
    """
    water = np.zeros(valid.shape, bool) if water is None else water
    region = metric_table.WholeRegion(real, valid, water, seed)
    table = metric_table.WHOLE_REGION_METRICS
    out: dict[str, Any] = {"real": metric_table.figures(table, real, region, reference=True), "methods": {}}
    out["real"]["water_share"] = float(water[valid].mean())
    for name, rgb in pictures.items():
        out["methods"][name] = metric_table.figures(table, rgb, region)
    return out


def read_whole_region(folders: Mapping[str, str | Path]) -> dict[str, Any]:
    """A whole region from its tile-set folders (``elevation``, ``imagery``, optional ``water``):
    ``elev``, ``profile``, ``real`` (H, W, 3 uint8), ``valid`` (both layers valid) and ``water`` (or None).
    """
    from areograph.artefacts.tileset import region_raster
    from areograph.render.mosaic import read_elevation, read_water

    elev, valid, profile = read_elevation(region_raster(Path(folders["elevation"])))
    real, imagery_valid = read_rgb(region_raster(Path(folders["imagery"])))
    valid &= imagery_valid
    water_dir = folders.get("water")
    water = read_water(region_raster(Path(water_dir)), elev.shape) if water_dir else None
    return {"elev": elev, "profile": profile, "real": real, "valid": valid, "water": water}


def _whole_region_pictures(
    folders: Mapping[str, str | Path],
    model_paths: Mapping[str, str | Path],
    lookup: ElevationColourLookup,
    mean_colour: np.ndarray,
    overlap_px: int,
) -> dict[str, np.ndarray]:
    """The real imagery, every model's and baseline's picture of a whole region, its mask and water."""
    from areograph.render.mosaic import predict_earth_region

    region = read_whole_region(folders)
    elev, valid, real, water = region["elev"], region["valid"], region["real"], region["water"]
    filled = np.where(valid, elev, np.median(elev[valid]))
    out = {"real": real, "valid": valid, "water": water}
    for name, path in model_paths.items():
        out[name] = predict_earth_region(elev, valid, region["profile"], Path(path), None, overlap_px,
                                         water=water)  # fmt: skip
    out["constant"] = np.broadcast_to(np.round(mean_colour * 255).astype(np.uint8), real.shape).copy()
    out["lookup"] = np.round(lookup.predict(filled) * 255).astype(np.uint8)
    return out


def example_indices(n_tiles: int, n_rows: int) -> list[int]:
    """Up to ``n_rows`` tiles spread evenly over a region, each once (a region may have fewer tiles)."""
    return sorted({int(k) for k in np.linspace(0, n_tiles - 1, n_rows).round()})


def evaluate_terrain(
    packed: str | Path,
    model_paths: Mapping[str, str | Path],
    elevation_range_m: Sequence[float] | None,
    out_json: str | Path,
    out_examples: str | Path,
    out_plot: str | Path,
    n_examples: int = 4,
    seed: int = 0,
    whole_regions: Mapping[str, Mapping[str, str | Path]] | None = None,
    overlap_px: int = 96,
) -> dict[str, Any]:
    """Score every model and baseline per validation region; write the JSON, example grid and plot.

    ``whole_regions`` (held-out region -> its ``elevation``, ``imagery`` and ``water`` tile-set folders)
    are also rendered whole, as the product is (blended windows, ``overlap_px``), and judged as a person
    sees them: lattice, realism test and water placement (:func:`whole_region_figures`).
    """
    keys = ("split", "elevation", "imagery", "region", "tile_id", "lat_corners", "water")
    # both splits: fit on train, score val
    data = read_packed(packed, keys, optional={"lat_corners", "water"})
    split = data["split"]
    train_idx, val_idx = np.flatnonzero(split == "train"), np.flatnonzero(split == "val")
    if len(val_idx) == 0:
        raise ValueError(f"{packed}: no validation tiles; set a region's split to 'val' or 'blocks'")
    corners, water = data.get("lat_corners"), data.get("water")
    lookup = ElevationColourLookup.fit(data["elevation"][train_idx], data["imagery"][train_idx])
    mean_colour = data["imagery"][train_idx].reshape(-1, 3).mean(axis=0) / 255.0
    generators = {name: _generator(Path(p), elevation_range_m) for name, p in model_paths.items()}
    methods = [*generators, *BASELINES]
    regions = sorted(set(data["region"][val_idx].tolist()))
    result: dict[str, Any] = {
        "n_train_tiles": len(train_idx),
        "train_regions": sorted(set(data["region"][train_idx].tolist())),
        "methods": methods,
        "lower_is_better": metric_table.lower_is_better(metric_table.TERRAIN_METRICS),
        "regions": {},
    }
    examples = []
    for r, region in enumerate(regions):
        idx = val_idx[data["region"][val_idx] == region]
        truth = data["imagery"][idx].astype(np.float32) / 255.0
        elev = data["elevation"][idx]
        preds = {
            name: np.stack(
                [
                    g(elev[k], None if corners is None else corners[i], None if water is None else water[i])
                    for k, i in enumerate(idx)
                ]
            )
            for name, g in generators.items()
        }
        preds["constant"] = np.broadcast_to(mean_colour.astype(np.float32), truth.shape)
        preds["lookup"] = np.stack([lookup.predict(e) for e in elev]).astype(np.float32)
        scores = {m: metric_table.figures(metric_table.TERRAIN_METRICS, preds[m], truth, seed + r)
                  for m in methods}  # fmt: skip
        real = {"lattice": worst_lattice(lattice_ratios_of_tiles(data["imagery"][idx]))}
        result["regions"][region] = {"n_tiles": len(idx), "methods": scores, "real": real}
        log.info("region %s (%d tiles): %s", region, len(idx), json.dumps(scores))
        per_region = max(1, n_examples // len(regions))
        for k in example_indices(len(idx), per_region):
            panels = {"elevation": elev[k], "real": truth[k], **{m: preds[m][k] for m in methods}}
            examples.append(ExampleRow(str(data["tile_id"][idx[k]]), panels))
    for r, (region, folders) in enumerate(sorted((whole_regions or {}).items())):
        pictures = _whole_region_pictures(folders, model_paths, lookup, mean_colour, overlap_px)
        whole = whole_region_figures(
            pictures.pop("real"), pictures, pictures.pop("valid"), pictures.pop("water"), seed + r
        )
        result["regions"].setdefault(region, {"methods": {}})["whole"] = whole
        log.info("whole region %s: %s", region, json.dumps(whole))
    result["summary"] = summarise(result)
    write_metrics_json(out_json, result)
    # Rows of validation tiles: elevation (terrain colormap) | real | every method.
    example_grid(examples[:n_examples], ["elevation", "real", *methods], out_examples, cmap="terrain")
    terrain_metrics_plot(result, Path(out_plot))
    return result


def summarise(result: Mapping[str, Any], model: str | None = None) -> dict[str, Any]:
    """Per metric: the best method in each region, and how ``model`` (default: first) ranks."""
    model = model or result["methods"][0]
    out: dict[str, Any] = {"model": model, "best": {}}
    for metric, lower in metric_table.lower_is_better(metric_table.TERRAIN_METRICS).items():
        per_region = {}
        for region, entry in result["regions"].items():
            vals = {m: v[metric] for m, v in entry["methods"].items() if metric in v}
            if vals:
                per_region[region] = (min if lower else max)(vals, key=vals.get)
        out["best"][metric] = per_region
    for metric, lower in metric_table.lower_is_better(metric_table.WHOLE_REGION_METRICS).items():
        per_region = {}
        for region, entry in result["regions"].items():
            vals = {m: v[metric] for m, v in entry.get("whole", {}).get("methods", {}).items()}
            vals = {m: v for m, v in vals.items() if v == v}  # NaN (no water) never wins
            if vals:
                per_region[region] = (min if lower else max)(vals, key=vals.get)
        out["best"][f"whole_{metric}"] = per_region
    return out


def terrain_metrics_plot(result: Mapping[str, Any], out_png: Path) -> None:
    """A panel per terrain metric (the table's), bars per method, grouped by validation region."""
    regions = [r for r, e in result["regions"].items() if e["methods"]]
    values = {r: result["regions"][r]["methods"] for r in regions}
    metrics_plot(metric_table.TERRAIN_METRICS, values, result["methods"],
                 "Terraforming on validation regions never trained on", out_png)  # fmt: skip


def region_side_by_side(
    elevation_raster: str | Path,
    imagery_raster: str | Path,
    packed: str | Path,
    model_path: str | Path,
    window_px: int | None,
    overlap_px: int,
    out_png: str | Path,
    max_px: int = 768,
    window_override: bool = False,
    water_raster: str | Path | None = None,
) -> dict[str, Any]:
    """A whole validation region as a user sees it: elevation | real | model (blended windows) | lookup."""
    from matplotlib import colormaps
    from PIL import Image

    from areograph.render.mosaic import hillshade, predict_earth_region, read_elevation, read_water

    elev, valid, profile = read_elevation(Path(elevation_raster))
    water = read_water(None if water_raster is None else Path(water_raster), elev.shape)
    real, _ = read_rgb(imagery_raster)
    filled = np.where(valid, elev, np.median(elev[valid]))
    model_rgb = predict_earth_region(elev, valid, profile, Path(model_path), window_px, overlap_px,
                                     window_override, water)  # fmt: skip
    train = read_split(packed, "train", ("elevation", "imagery"), what="tiles")
    lookup = ElevationColourLookup.fit(train["elevation"], train["imagery"])
    lookup_rgb = np.round(lookup.predict(filled) * 255).astype(np.uint8)
    lo, hi = np.percentile(filled[valid], [1, 99])  # the region's own relief, not the model's whole range
    norm = np.clip((filled - lo) / max(hi - lo, 1.0), 0, 1)
    coloured = (colormaps["terrain"](norm)[..., :3] * 255).astype(np.uint8)
    shade = hillshade(filled, valid, abs(profile["transform"].a)).astype(np.float32) / 255.0
    relief = np.round(coloured * (0.55 + 0.45 * shade)).astype(np.uint8)
    panels = [relief, real, model_rgb, lookup_rgb]
    for p in panels:
        p[~valid] = 0
    gap = np.full((elev.shape[0], 8, 3), 255, np.uint8)
    strip = np.concatenate([x for p in panels for x in (p, gap)][:-1], axis=1)
    img = Image.fromarray(strip)
    img.thumbnail((4 * max_px, max_px), Image.Resampling.LANCZOS)
    with atomic_path(out_png) as tmp:
        img.save(tmp)
    return {"width": int(elev.shape[1]), "height": int(elev.shape[0])}
