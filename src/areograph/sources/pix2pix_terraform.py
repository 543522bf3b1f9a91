"""The terraforming seed's own training set (rkique/pix2pix-terraform), read in its published layout.

Layout of a clone (``options.root``)::

    data/TERRAFORM.qgz            the authors' QGIS project (a zip holding TERRAFORM.qgs)
    data/<REGION>/<row>,<col>.jpg  Sentinel-2 cloudless RGB, 256 px, pixel offsets in the region mosaic
    data/<REGION>/<row>,<col>c.jpg SRTM elevation rendered through the project's colour ramp

The tiles carry no georeferencing: each region's mosaic spans the ``<extent>`` of its elevation layer
in the project file (EPSG:4326 degrees), and metres are recovered by inverting the layer's
interpolated colour ramp (nearest ramp colour; JPEG noise is smoothed first, colours far from the
ramp become nodata, and the ramp's floor makes sea and land below 0 m indistinguishable). The sea has
no SRTM heights: the project renders it white, off the ramp, so the same tiles also give the sea as a
mask independent of the imagery (``earth_water``). All inputs are delivered exactly as the live
sources deliver them: a GeoTIFF in EPSG:4326 covering the requested box, elevation int16 metres with
nodata, imagery RGB uint8 with an internal mask, water uint8 (1 = sea, 0 = land).

Licence: imagery "Sentinel-2 cloudless - https://s2maps.eu by EOX IT Services GmbH (Contains modified
Copernicus Sentinel data 2020)", CC BY-NC-SA 4.0; SRTM public domain; the layout is MIT.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from xml.etree import ElementTree

import numpy as np
import rasterio
from PIL import Image
from rasterio.transform import from_bounds
from rasterio.windows import Window
from rasterio.windows import from_bounds as window_from_bounds
from scipy.ndimage import binary_dilation, binary_opening, median_filter
from scipy.spatial import cKDTree

from areograph.artefacts.tileset import LAND, WATER
from areograph.geo.geotiff import write_geotiff
from areograph.sources import BBox, Source, SourceError

log = logging.getLogger("areograph.sources")

PROJECT_FILE = "data/TERRAFORM.qgz"
TILE_PX = 256
ELEVATION_NODATA = -32768
IMAGERY_ATTRIBUTION = (
    "Sentinel-2 cloudless - https://s2maps.eu by EOX IT Services GmbH "
    "(Contains modified Copernicus Sentinel data 2020)"
)
LICENCE = "imagery CC BY-NC-SA 4.0; SRTM public domain; data set layout MIT (rkique/pix2pix-terraform)"
_TILE = re.compile(r"^(?P<row>\d+),(?P<col>\d+)(?P<c>c?)\.jpg$", re.IGNORECASE)
_LAYER = re.compile(r"^\d*(?P<region>[A-Za-z]+)$")
# The sea in the rendered elevation: white (every channel at least this, after the 3 x 3 median), far
# from every ramp colour. A 3 x 3 opening drops isolated white specks (JPEG ringing, snow-white labels).
SEA_MIN_RGB = 235


@dataclass(frozen=True, eq=False)
class ColourRamp:
    """An interpolated QGIS colour ramp: elevation stops (m) and their RGB colours."""

    values: np.ndarray  # (K,) metres, increasing
    colours: np.ndarray  # (K, 3) 0..255

    def dense(self, step_m: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """The ramp sampled every ``step_m`` metres, as QGIS interpolates it (linear in RGB)."""
        v = np.arange(self.values[0], self.values[-1] + step_m / 2, step_m)
        rgb = np.stack([np.interp(v, self.values, self.colours[:, k]) for k in range(3)], axis=1)
        return v, rgb

    @functools.cached_property
    def _tree(self) -> tuple[cKDTree, np.ndarray]:
        v, rgb = self.dense()
        return cKDTree(rgb), v

    def invert(self, rgb: np.ndarray, max_distance: float) -> np.ndarray:
        """Metres for each (..., 3) colour: the nearest ramp colour's value; NaN beyond ``max_distance``.

        Each distinct colour is looked up once (a JPEG mosaic repeats its colours many times over).
        """
        tree, values = self._tree
        flat = np.asarray(rgb, dtype=np.uint8).reshape(-1, 3)
        packed = (flat[:, 0].astype(np.int32) << 16) | (flat[:, 1].astype(np.int32) << 8) | flat[:, 2]
        present = np.zeros(1 << 24, dtype=bool)
        present[packed] = True
        unique = np.flatnonzero(present)
        colours = np.stack([(unique >> 16) & 255, (unique >> 8) & 255, unique & 255], axis=1)
        dist, idx = tree.query(colours.astype(np.float32), workers=1)
        lut = np.full(1 << 24, np.nan, dtype=np.float32)
        lut[unique] = np.where(dist > max_distance, np.nan, values[idx])
        return lut[packed].reshape(np.shape(rgb)[:-1])


@dataclass(frozen=True, eq=False)
class CorpusRegion:
    """One region of the data set: its folder, its layer's lon/lat extent and its colour ramp."""

    name: str  # folder under data/, e.g. CALI
    layer: str  # layer name in the project, e.g. 12CALI
    extent: tuple[float, float, float, float]  # west, south, east, north (EPSG:4326)
    ramp: ColourRamp

    def intersects(self, box: BBox) -> bool:
        w, s, e, n = self.extent
        return box.west < e and box.east > w and box.south < n and box.north > s


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


@functools.lru_cache(maxsize=4)
def read_project(root: Path) -> dict[str, CorpusRegion]:
    """Regions of the clone at ``root``: elevation layers of the project that have a tile folder.

    An elevation layer is one whose renderer holds an interpolated ``colorrampshader``; its region
    folder is the layer name without the leading tile count (``15ANDES`` -> ``ANDES``). Cached per
    process: a fetch reads it for the box lookup and again for the mosaic.
    """
    path = Path(root) / PROJECT_FILE
    if not path.is_file():
        raise SourceError(f"{path}: QGIS project missing; is {root} a clone of rkique/pix2pix-terraform?")
    try:
        with zipfile.ZipFile(path) as z:
            qgs = next((n for n in z.namelist() if n.endswith(".qgs")), None)
            if qgs is None:
                raise SourceError(f"{path}: no .qgs project inside the .qgz archive")
            xml = ElementTree.fromstring(z.read(qgs))
    except (zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise SourceError(f"{path}: not a readable QGIS project ({exc})") from exc
    regions: dict[str, CorpusRegion] = {}
    for layer in xml.iter("maplayer"):
        shader = layer.find(".//colorrampshader")
        name = layer.findtext("layername") or ""
        match = _LAYER.match(name)
        if shader is None or match is None or shader.get("colorRampType") != "INTERPOLATED":
            continue
        folder = match["region"].upper()
        if not (Path(root) / "data" / folder).is_dir():
            continue  # the project names regions this copy does not ship
        ext = layer.find("extent")
        try:
            extent = tuple(float(ext.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
            items = sorted((float(i.get("value")), _hex_rgb(i.get("color"))) for i in shader.iter("item"))
        except (AttributeError, TypeError, ValueError) as exc:
            raise SourceError(f"{path}: layer {name!r} has an unreadable extent or ramp ({exc})") from exc
        if len(items) < 2:
            raise SourceError(f"{path}: layer {name!r} ramp has {len(items)} stop(s)")
        ramp = ColourRamp(np.array([v for v, _ in items]), np.array([c for _, c in items], dtype=float))
        regions[folder] = CorpusRegion(folder, name, extent, ramp)  # type: ignore[arg-type]
    if not regions:
        raise SourceError(f"{path}: no elevation layer with a colour ramp matches a folder in {root}/data")
    return regions


def _tiles(folder: Path) -> dict[tuple[int, int], dict[str, Path]]:
    tiles: dict[tuple[int, int], dict[str, Path]] = {}
    for p in folder.iterdir():
        m = _TILE.match(p.name)
        if m:
            tiles.setdefault((int(m["row"]), int(m["col"])), {})["elevation" if m["c"] else "imagery"] = p
    if not tiles:
        raise SourceError(f"{folder}: no <row>,<col>.jpg tiles")
    return tiles


def _read_jpg(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except OSError as exc:
        raise SourceError(f"{path}: not a readable JPEG ({exc})") from exc
    if rgb.shape[:2] != (TILE_PX, TILE_PX):
        raise SourceError(f"{path}: tile is {rgb.shape[1]}x{rgb.shape[0]} px, expected {TILE_PX}x{TILE_PX}")
    return rgb


@functools.lru_cache(maxsize=2)
def region_mosaic(root: Path, name: str, max_colour_distance: float) -> dict[str, np.ndarray]:
    """The region's full mosaic: ``imagery`` (H,W,3) uint8, ``elevation`` (H,W) float32 m (NaN = nodata),
    ``sea`` (H,W) bool.

    Missing tiles are nodata in all. JPEG noise: the rendered elevation is median-filtered (3 x 3)
    per channel before the ramp lookup, which removes the ringing around colour edges without moving
    them; ``imagery_valid`` and ``elevation_valid`` mark pixels that came from a tile.
    """
    region = read_project(root)[name]
    tiles = _tiles(Path(root) / "data" / region.name)
    n_rows = max(r for r, _ in tiles) // TILE_PX + 1
    n_cols = max(c for _, c in tiles) // TILE_PX + 1
    imagery = np.zeros((n_rows * TILE_PX, n_cols * TILE_PX, 3), np.uint8)
    rendered = np.zeros_like(imagery)
    have = {"imagery": np.zeros(imagery.shape[:2], bool), "elevation": np.zeros(imagery.shape[:2], bool)}
    for (row, col), files in sorted(tiles.items()):
        sl = np.s_[row : row + TILE_PX, col : col + TILE_PX]
        for kind, target in (("imagery", imagery), ("elevation", rendered)):
            if kind in files:
                target[sl] = _read_jpg(files[kind])
                have[kind][sl] = True
    smooth = np.stack([median_filter(rendered[..., k], size=3) for k in range(3)], axis=-1)
    elevation = region.ramp.invert(smooth, max_colour_distance)
    elevation[~have["elevation"]] = np.nan
    sea = binary_opening(smooth.min(axis=-1) >= SEA_MIN_RGB, structure=np.ones((3, 3), bool))
    # The shoreline's JPEG blend of white and ramp colour is off the ramp too: sea, up to 2 px out.
    sea |= binary_dilation(sea, iterations=2) & np.isnan(elevation)
    sea &= have["elevation"]
    elevation[sea] = np.nan  # the sea has no height (white is never a ramp colour, but be explicit)
    missing = n_rows * n_cols - len(tiles)
    log.info(
        "%s: %d x %d tiles (%d missing), %.2f %% of rendered elevation off the ramp",
        region.name,
        n_cols,
        n_rows,
        missing,
        100 * float(np.isnan(elevation[have["elevation"]]).mean()),
    )
    return {
        "imagery": imagery,
        "imagery_valid": have["imagery"],
        "elevation": elevation,
        "elevation_valid": have["elevation"],
        "sea": sea,
    }


class Pix2PixTerraformSource(Source):
    """Serves ``earth_elevation``, ``earth_imagery`` and ``earth_water`` from a clone of the seed's set."""

    name: ClassVar[str] = "pix2pix_terraform"
    inputs: ClassVar[frozenset[str]] = frozenset({"earth_elevation", "earth_imagery", "earth_water"})
    options_schema: ClassVar[dict] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["root"],
        "properties": {
            "root": {"type": "string", "description": "folder of a clone of rkique/pix2pix-terraform"},
            "max_colour_distance": {"type": "number", "exclusiveMinimum": 0},
        },
    }
    default_max_colour_distance: ClassVar[float] = 20.0

    @property
    def root(self) -> Path:
        return Path(self.options["root"]).expanduser()

    def regions(self) -> dict[str, CorpusRegion]:
        """The data set's regions in this clone, by folder name."""
        return read_project(self.root)

    def fetch_raster(self, input_name: str, box: BBox, out_path: Path) -> Path:
        """Crop the region mosaic under ``box`` (whole pixels, nodata where the data set has none)."""
        if input_name not in self.inputs:
            return super().fetch_raster(input_name, box, out_path)
        regions = self.regions()
        hits = [r for r in regions.values() if r.intersects(box)]
        if not hits:
            have = ", ".join(f"{r.name} {tuple(round(x, 3) for x in r.extent)}" for r in regions.values())
            raise SourceError(f"{self.root}: box {box} lies outside every region of the data set ({have})")
        region = hits[0]
        distance = float(self.options.get("max_colour_distance", self.default_max_colour_distance))
        mosaic = region_mosaic(self.root, region.name, distance)
        height, width = mosaic["elevation"].shape
        transform = from_bounds(*region.extent, width, height)
        win = window_from_bounds(box.west, box.south, box.east, box.north, transform)
        c0, r0 = math.floor(win.col_off), math.floor(win.row_off)
        c1, r1 = math.ceil(win.col_off + win.width), math.ceil(win.row_off + win.height)
        # The requested box, whole pixels; parts beyond the mosaic are nodata, as a service answers.
        out_h, out_w = r1 - r0, c1 - c0
        src = Window(0, 0, width, height).intersection(Window(c0, r0, out_w, out_h))
        ys = np.s_[int(src.row_off) - r0 : int(src.row_off + src.height) - r0]
        xs = np.s_[int(src.col_off) - c0 : int(src.col_off + src.width) - c0]
        rs = np.s_[int(src.row_off) : int(src.row_off + src.height)]
        cs = np.s_[int(src.col_off) : int(src.col_off + src.width)]
        profile = {
            "driver": "GTiff",
            "crs": "EPSG:4326",
            "width": out_w,
            "height": out_h,
            "transform": transform @ rasterio.Affine.translation(c0, r0),
            "compress": "deflate",
        }
        tags = {
            "AREOGRAPH_SOURCE": f"pix2pix_terraform:{region.name}",
            "AREOGRAPH_LICENCE": LICENCE,
        }
        if input_name == "earth_elevation":
            elev = np.full((out_h, out_w), np.nan, np.float32)
            elev[ys, xs] = mosaic["elevation"][rs, cs]
            data = np.where(np.isnan(elev), ELEVATION_NODATA, np.rint(elev)).astype(np.int16)[None]
            profile |= {"count": 1, "dtype": "int16", "nodata": ELEVATION_NODATA}
            valid = None
            tags["AREOGRAPH_ELEVATION"] = f"inverted from the {region.layer} colour ramp (floor 0 m)"
        elif input_name == "earth_water":
            water = np.zeros((out_h, out_w), np.uint8)
            ok = np.zeros((out_h, out_w), bool)
            water[ys, xs] = np.where(mosaic["sea"][rs, cs], WATER, LAND)
            ok[ys, xs] = mosaic["elevation_valid"][rs, cs]
            data, valid = water[None], ok
            profile |= {"count": 1, "dtype": "uint8"}
            tags["AREOGRAPH_WATER"] = f"1 = sea: white (no SRTM height) in the {region.layer} render"
        else:
            rgb = np.zeros((out_h, out_w, 3), np.uint8)
            ok = np.zeros((out_h, out_w), bool)
            rgb[ys, xs] = mosaic["imagery"][rs, cs]
            ok[ys, xs] = mosaic["imagery_valid"][rs, cs]
            data, valid = np.moveaxis(rgb, -1, 0), ok
            profile |= {"count": 3, "dtype": "uint8", "photometric": "RGB"}
            tags["AREOGRAPH_ATTRIBUTION"] = IMAGERY_ATTRIBUTION
        write_geotiff(Path(out_path), data, profile, valid, tags)
        return out_path
