"""The project's GeoTIFF writers and footprints, on real files: COG validity, masks, the Mars CRS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rio_cogeo.cogeo import cog_validate

from areograph.geo.crs import local_aeqd_crs
from areograph.geo.footprint import footprint_path, raster_footprint, write_footprint
from areograph.geo.geotiff import geotiff_to_cog, write_cog, write_geotiff
from areograph.geo.grid import region_grid


def _mars_region(lon: float = 137.8, lat: float = -5.4, px: int = 600) -> tuple[np.ndarray, dict, np.ndarray]:
    grid = region_grid("t", "mars", lon, lat, 1, 1, tile_px=px, gsd_m=200.0)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (3, px, px), dtype=np.uint8)
    valid = np.ones((px, px), bool)
    valid[:50] = False
    profile = {"crs": rasterio.crs.CRS.from_wkt(grid.crs.to_wkt()), "transform": grid.transform}
    return rgb, profile, valid


def test_write_cog_is_valid_keeps_data_mask_tags_and_has_overviews(tmp_path: Path) -> None:
    rgb, profile, valid = _mars_region()
    out = write_cog(tmp_path / "m.tif", rgb, profile | {"photometric": "RGB"}, valid, {"AREOGRAPH_X": "1"})
    ok, errors, warnings = cog_validate(str(out), strict=True)
    assert ok, (errors, warnings)
    with rasterio.open(out) as src:
        assert np.array_equal(src.read(), rgb)
        assert np.array_equal(src.read_masks(1) > 0, valid)
        assert src.tags()["AREOGRAPH_X"] == "1"
        assert src.overviews(1) == [2, 4] and src.block_shapes[0] == (256, 256)
        assert "Mars" in src.crs.to_wkt()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tif"]  # no temporaries left


def test_geotiff_to_cog_adds_overviews_until_one_block_holds_the_image(tmp_path: Path) -> None:
    """The planet's on-disk path: a 600 px tiled GeoTIFF becomes a COG with 300 and 150 px overviews."""
    rgb, profile, valid = _mars_region()
    tiled = profile | {"photometric": "RGB", "tiled": True, "blockxsize": 128, "blockysize": 128}
    staged = write_geotiff(tmp_path / "staged.tif", rgb, tiled, valid)
    out = geotiff_to_cog(staged, tmp_path / "cog.tif")
    ok, errors, warnings = cog_validate(str(out), strict=True)
    assert ok, (errors, warnings)
    with rasterio.open(out) as src:
        assert src.overviews(1) == [2, 4] and src.block_shapes[0] == (256, 256)
        assert np.array_equal(src.read(), rgb) and np.array_equal(src.read_masks(1) > 0, valid)


def test_plain_geotiff_is_not_a_cog(tmp_path: Path) -> None:
    """The validator really checks: the ordinary writer's striped output is refused."""
    rgb, profile, valid = _mars_region()
    out = write_geotiff(tmp_path / "plain.tif", rgb, profile, valid)
    ok, errors, _ = cog_validate(str(out), strict=True)
    assert not ok and errors


def test_footprint_in_mars_lonlat_around_the_centre(tmp_path: Path) -> None:
    rgb, profile, valid = _mars_region()
    tif = write_cog(tmp_path / "m.tif", rgb, profile, valid)
    out = write_footprint(tif)
    assert out == footprint_path(tif) == tmp_path / "m.geojson"
    feature = json.loads(out.read_text())["features"][0]
    props = feature["properties"]
    assert "Mars" in props["crs_name"] and props["width_px"] == 600 and props["gsd_m"] == pytest.approx(200)
    assert props["valid_fraction"] == pytest.approx(1 - 50 / 600, abs=0.01)
    ring = np.array(feature["geometry"]["coordinates"][0])
    assert np.array_equal(ring[0], ring[-1])
    # 120 km square on the Mars sphere: about 2.02 degrees of latitude a side.
    half_deg = np.degrees(60_000 / 3_396_190)
    assert ring[:, 1].max() == pytest.approx(-5.4 + half_deg, abs=0.01)
    assert ring[:, 0].min() == pytest.approx(137.8 - half_deg, abs=0.02)


def test_footprint_across_the_antimeridian_stays_one_ring(tmp_path: Path) -> None:
    rgb, profile, valid = _mars_region(lon=179.9, lat=10.0)
    ring = np.array(
        raster_footprint(write_cog(tmp_path / "a.tif", rgb, profile, valid))["geometry"]["coordinates"][0]
    )
    assert ring[:, 0].max() - ring[:, 0].min() < 5  # not a polygon wrapped round the planet
    assert ring[:, 0].max() > 180 > ring[:, 0].min()


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_footprint_without_crs_is_a_named_error(tmp_path: Path) -> None:
    tif = tmp_path / "nocrs.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8") as dst:
        dst.write(np.zeros((1, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"nocrs\.tif: no CRS"):
        raster_footprint(tif)


def test_local_aeqd_is_on_mars() -> None:
    assert "Mars" in local_aeqd_crs("mars", 137.8, -5.4).to_wkt()
