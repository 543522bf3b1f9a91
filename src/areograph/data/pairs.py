"""Packed elevation/imagery pair datasets, spatial train/validation splits, and the training Dataset.

Tiles arrive as one GeoTIFF per tile (``<dir>/<tile_id>.tif``, ids like ``sierra_r01_c00``) for
elevation and for imagery. :func:`pack_pairs` pairs them by id, checks that both halves of a pair
cover the same ground, and writes everything into one uncompressed ``.npz`` so that training reads
plain arrays instead of decoding images every step. Splits are spatial (contiguous tile blocks),
never random, so no ground is both trained on and validated on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from areograph.artefacts.packed import read_split
from areograph.artefacts.tileset import WATER, kept_positions, tile_files
from areograph.atomic import atomic_path
from areograph.data.conditioning import (
    DEFAULT_CONDITIONING,
    check_conditioning,
    conditioning_stack,
    corner_latitudes,
    latitudes_from_corners,
)
from areograph.data.dataset import PackedSplitDataset
from areograph.data.elevation import scale_elevation

logger = logging.getLogger("areograph.data")

SPLITS = ("train", "val", "blocks")
_TILE_ID = re.compile(r"^(?P<region>.+)_r(?P<row>\d+)_c(?P<col>\d+)$")


def assign_splits(
    rows: Sequence[int], cols: Sequence[int], split: str, block_tiles: int = 1, val_every: int = 4
) -> list[str]:
    """Label each tile "train" or "val" so that validation ground never touches training ground.

    ``split`` "train" or "val" labels every tile that way (a whole region held out). ``"blocks"``
    groups tiles into contiguous ``block_tiles x block_tiles`` blocks (by ``row // block_tiles``,
    ``col // block_tiles``), orders the blocks row-major (north to south, west to east) and makes
    every ``val_every``-th block (the 1-based ``val_every``-th, ``2*val_every``-th, ...) validation.
    The labels depend only on the tile positions, not on the order the tiles are given in.
    """
    if len(rows) != len(cols):
        raise ValueError(f"rows and cols differ in length ({len(rows)} vs {len(cols)})")
    if split in ("train", "val"):
        return [split] * len(rows)
    if split != "blocks":
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
    if block_tiles < 1 or val_every < 2:
        raise ValueError(f"need block_tiles >= 1 and val_every >= 2, got {block_tiles}, {val_every}")
    keys = [(int(r) // block_tiles, int(c) // block_tiles) for r, c in zip(rows, cols, strict=True)]
    order = {key: i for i, key in enumerate(sorted(set(keys)))}
    labels = ["val" if (order[k] + 1) % val_every == 0 else "train" for k in keys]
    if keys and "val" not in labels:
        logger.warning(
            "split 'blocks' gave no validation tiles: %d block(s) of %dx%d tiles, val_every=%d",
            len(order),
            block_tiles,
            block_tiles,
            val_every,
        )
    return labels


def _position(tile_id: str, positions: dict[str, tuple[int, int]] | None, where: Path) -> tuple[int, int]:
    if positions is not None and tile_id in positions:
        return positions[tile_id]
    match = _TILE_ID.match(tile_id)
    if match is None:
        raise ValueError(f"{where}: tile id {tile_id!r} is not of the form <region>_r<row>_c<col>")
    return int(match["row"]), int(match["col"])


def _same_georef(a: rasterio.DatasetReader, b: rasterio.DatasetReader) -> bool:
    """Same CRS, same pixel size/rotation (to 1e-6 px) and same origin (to 1e-3 px)."""
    ta, tb = a.transform, b.transform
    px = max(abs(ta.a), abs(ta.e), 1e-12)
    linear = all(abs(x - y) <= 1e-6 * px for x, y in ((ta.a, tb.a), (ta.b, tb.b), (ta.d, tb.d), (ta.e, tb.e)))
    origin = abs(ta.c - tb.c) <= 1e-3 * px and abs(ta.f - tb.f) <= 1e-3 * px
    return a.crs == b.crs and linear and origin


def _read_water(path: Path | None, shape: tuple[int, int]) -> np.ndarray:
    """A water tile as (H, W) uint8 0/1; no tile (a region without a water layer) = all land."""
    if path is None:
        return np.zeros(shape, np.uint8)
    with rasterio.open(path) as w:
        water = w.read(1)
    if water.shape != shape:
        raise ValueError(f"{path}: water tile is {water.shape} px, its elevation tile {shape}")
    return (water == WATER).astype(np.uint8)


def _read_pair(elev_path: Path, img_path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one pair (elevation, RGB, corner latitudes), refusing pairs that are not the same pixels."""
    with rasterio.open(elev_path) as e, rasterio.open(img_path) as i:
        if (e.height, e.width) != (i.height, i.width):
            raise ValueError(
                f"tile shape mismatch: {elev_path} is {e.height}x{e.width} px but {img_path} is "
                f"{i.height}x{i.width} px"
            )
        if not _same_georef(e, i):
            raise ValueError(
                f"georeferencing mismatch: {elev_path} (CRS {e.crs}, transform {tuple(e.transform)[:6]}) vs "
                f"{img_path} (CRS {i.crs}, transform {tuple(i.transform)[:6]})"
            )
        if e.count != 1:
            raise ValueError(f"{elev_path}: elevation tile must have 1 band, has {e.count}")
        if i.count != 3 or i.dtypes[0] != "uint8":
            raise ValueError(f"{img_path}: imagery must be 3-band uint8, is {i.count}-band {i.dtypes[0]}")
        elev = e.read(1).astype(np.float32)
        nodata = e.nodata
        bad = ~np.isfinite(elev)
        if nodata is not None and not np.isnan(nodata):
            bad |= elev == nodata
        if np.any(bad):
            raise ValueError(
                f"{elev_path}: {int(bad.sum())} nodata/non-finite pixel(s); fill tiles before packing"
            )
        rgb = np.moveaxis(i.read(), 0, -1)
        corners = corner_latitudes(e.transform, e.crs.to_wkt(), e.height, e.width)
    return elev, rgb, corners


def pack_pairs(
    regions: Sequence[dict[str, Any]],
    elevation_dirs: Sequence[Path],
    imagery_dirs: Sequence[Path],
    out_path: Path,
    water_dirs: Sequence[Path] | None = None,
) -> dict[str, Any]:
    """Pair elevation and imagery tiles by id across regions and write one packed ``.npz`` atomically.

    ``regions[k]`` (keys ``name``, ``split``, optional ``block_tiles``/``val_every``) describes the
    tiles in ``elevation_dirs[k]`` and ``imagery_dirs[k]``. Only ids present in both folders (and
    kept in ``index.geojson`` when one exists) are paired; the rest are reported as unpaired. Pairs
    whose shape or georeferencing differ raise ``ValueError`` naming both files, and nothing is
    written. Arrays: ``elevation`` float32 (N,H,W) metres, ``imagery`` uint8 (N,H,W,3), ``lat_corners``
    float32 (N,2,2) latitudes of each tile's corner pixels (see data/conditioning.py), ``water`` uint8
    (N,H,W) 1 = water, from ``water_dirs[k]`` (a region's water tile set; none = all land), and
    ``tile_id``, ``region``, ``row``, ``col``, ``split`` (N,). Returns a JSON-able summary.
    """
    if not (len(regions) == len(elevation_dirs) == len(imagery_dirs)):
        raise ValueError(
            f"need one elevation and one imagery folder per region: {len(regions)} regions, "
            f"{len(elevation_dirs)} elevation and {len(imagery_dirs)} imagery folders"
        )
    water_dirs = [None] * len(regions) if water_dirs is None else list(water_dirs)
    if len(water_dirs) != len(regions):
        raise ValueError(f"need one water folder per region: {len(regions)} regions, {len(water_dirs)} folders")
    elevations, images, latitudes, waters, meta = [], [], [], [], []
    summary: dict[str, Any] = {"regions": {}, "unpaired": {}}
    seen: dict[str, str] = {}
    for region, elev_dir, img_dir, water_dir in zip(
        regions, elevation_dirs, imagery_dirs, water_dirs, strict=True
    ):
        name = region["name"]
        elev_dir, img_dir = Path(elev_dir), Path(img_dir)
        elev_files, img_files = tile_files(elev_dir), tile_files(img_dir)
        water_files = {} if water_dir is None else tile_files(Path(water_dir))
        kept = kept_positions(elev_dir)
        both = sorted(set(elev_files) & set(img_files))
        ids = [t for t in both if kept is None or t in kept]
        summary["unpaired"][name] = {
            "elevation_only": sorted(set(elev_files) - set(img_files)),
            "imagery_only": sorted(set(img_files) - set(elev_files)),
            "not_kept_in_index": sorted(set(both) - set(ids)),
        }
        positions = [_position(t, kept, elev_dir) for t in ids]
        labels = assign_splits(
            [p[0] for p in positions],
            [p[1] for p in positions],
            region["split"],
            region.get("block_tiles", 1),
            region.get("val_every", 4),
        )
        for tile_id, (row, col), label in zip(ids, positions, labels, strict=True):
            if tile_id in seen:
                raise ValueError(f"tile id {tile_id!r} appears in regions {seen[tile_id]!r} and {name!r}")
            seen[tile_id] = name
            elev, rgb, corners = _read_pair(elev_files[tile_id], img_files[tile_id])
            if water_dir is not None and tile_id not in water_files:
                raise ValueError(f"{water_dir}: no water tile {tile_id!r} for {elev_files[tile_id]}")
            water = _read_water(water_files.get(tile_id), elev.shape)
            if elevations and elev.shape != elevations[0].shape:
                raise ValueError(
                    f"{elev_files[tile_id]}: tile is {elev.shape} px, earlier tiles {elevations[0].shape}"
                )
            elevations.append(elev)
            images.append(rgb)
            latitudes.append(corners)
            waters.append(water)
            meta.append((tile_id, name, row, col, label))
        summary["regions"][name] = {s: labels.count(s) for s in ("train", "val")}
    if not meta:
        raise ValueError(f"no tile id is in both the elevation and imagery folders: {summary['unpaired']}")
    tile_id, region_col, row, col, split = (np.array(c) for c in zip(*meta, strict=True))
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            elevation=np.stack(elevations),
            imagery=np.stack(images),
            lat_corners=np.stack(latitudes).astype(np.float32),
            water=np.stack(waters),
            tile_id=tile_id.astype(str),
            region=region_col.astype(str),
            row=row.astype(np.int32),
            col=col.astype(np.int32),
            split=split.astype(str),
        )
    summary["n_pairs"] = len(meta)
    summary["splits"] = {s: int(np.count_nonzero(split == s)) for s in ("train", "val")}
    summary["tile_px"] = list(elevations[0].shape)
    summary["water_fraction"] = float(np.mean([w.mean() for w in waters]))
    logger.info("packed %d pairs into %s: %s", len(meta), out_path, summary["splits"])
    return summary


def training_elevations(packed: Path, max_values: int = 1_000_000, seed: int = 0) -> np.ndarray:
    """A random sample (at most ``max_values``) of the train split's land elevations in metres.

    This is the Earth reference distribution for the Mars ``quantile`` rule (Mars land is mapped onto
    Earth land; water is not ground); sampling keeps it small while matching the quantiles closely.
    """
    arrays = read_split(packed, "train", ("elevation", "water"), what="tiles", optional=("water",))
    elev = arrays["elevation"]
    if arrays.get("water") is not None:
        elev = elev[arrays["water"] == 0]
    elev = elev.ravel()
    if elev.size > max_values:
        elev = np.random.default_rng(seed).choice(elev, size=max_values, replace=False)
    return elev


class PairDataset(PackedSplitDataset):
    """One split of a packed dataset as (scaled elevation, RGB) tensor pairs for pix2pix.

    Items are ``{"cond": (C,H,W) float32 in [-1,1], "target": (3,H,W) float32 in [-1,1],
    "tile_id": str}``; the C channels are ``conditioning`` (scaled elevation first, then e.g. latitude,
    built by data/conditioning.py). With ``augment`` the pair is resized to ``load_px``, randomly cropped back
    to the tile size and randomly flipped, with one draw shared by both images. Without it the
    tiles come as they are (validation). Draws come from a generator keyed on ``seed``, the index and
    the draw number the trainer's sampler passes in (:class:`~areograph.data.augment.ItemKey`): a pure
    function of the step, so a resumed run repeats every crop exactly, in any worker or rank (the
    recipe is :class:`~areograph.data.dataset.PackedSplitDataset`'s).
    """

    what = "tiles"
    size_name = "tile size"

    def __init__(
        self,
        packed: Path,
        split: str,
        elevation_range_m: tuple[float, float],
        load_px: int = 286,
        augment: bool = True,
        seed: int = 0,
        conditioning: tuple[str, ...] = DEFAULT_CONDITIONING,
    ) -> None:
        super().__init__(packed, split, augment, seed)
        self.conditioning = check_conditioning(conditioning)
        arrays = self.read(
            ("elevation", "imagery", "tile_id", "region", "lat_corners", "water"),
            optional=("lat_corners", "water"),
        )
        elevation = arrays["elevation"]
        self.imagery = np.ascontiguousarray(arrays["imagery"])
        self.tile_ids = [str(t) for t in arrays["tile_id"]]
        self.regions = [str(r) for r in arrays["region"]]
        corners = arrays.get("lat_corners")
        if "latitude" in self.conditioning and corners is None:
            raise ValueError(f"{self.packed}: packed before latitudes were stored; re-run pack_terrain_pairs")
        water = arrays.get("water")
        if "water" in self.conditioning and water is None:
            raise ValueError(f"{self.packed}: packed before water was stored; re-run pack_terrain_pairs")
        lo, hi = elevation_range_m
        scaled = scale_elevation(elevation, lo, hi)  # one clip warning for the whole split
        self.tile_px = int(elevation.shape[1])
        h, w = elevation.shape[1:]
        self.cond = np.stack(
            [
                conditioning_stack(
                    scaled[k],
                    None if corners is None else latitudes_from_corners(corners[k], h, w),
                    self.conditioning,
                    None if water is None else water[k],
                )
                for k in range(len(scaled))
            ]
        )
        self.set_sizes(load_px, self.tile_px)

    def __len__(self) -> int:
        return len(self.tile_ids)

    def raw_pair(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        target = np.moveaxis(self.imagery[index], -1, 0).astype(np.float32) / 127.5 - 1.0
        return self.cond[index], target

    def labels(self, index: int) -> dict[str, Any]:
        return {"tile_id": self.tile_ids[index]}
