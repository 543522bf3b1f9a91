"""Water: the sea labelled without the picture (GSHHG, the seed's white sea), kept in tiles, and on Mars."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from areograph.config import ConfigError, validate_config
from areograph.data.conditioning import conditioning_stack
from areograph.data.elevation import mars_with_sea
from areograph.geo.grid import region_grid
from areograph.geo.tiling import tile_region
from areograph.sources import BBox, get_source

LIGURIAN_COAST = BBox(8.6, 43.9, 9.4, 44.5)  # Genoa: the Apennines and the Ligurian Sea


def _read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def test_landmask_marks_the_ligurian_sea_and_not_the_apennines(tmp_path: Path) -> None:
    out = get_source("landmask", {"step_deg": 0.005}).fetch_raster(
        "earth_water", LIGURIAN_COAST, tmp_path / "w.tif"
    )
    with rasterio.open(out) as src:
        water = src.read(1)
        assert src.crs.to_epsg() == 4326 and src.dtypes[0] == "uint8"
        row_sea, col_sea = src.index(9.0, 44.0)  # 40 km off Genoa
        row_land, col_land = src.index(9.0, 44.45)  # the Apennines above Genoa
    assert set(np.unique(water)) == {0, 1}
    assert water[row_sea, col_sea] == 1 and water[row_land, col_land] == 0
    assert 0.2 < water.mean() < 0.8  # the box is part sea, part land


def test_seed_data_set_sea_is_its_white_render(corpora_dir: Path, tmp_path: Path) -> None:
    """The seed's ITALY elevation render is white over the sea: that, not the imagery, is the mask."""
    src = get_source("pix2pix_terraform", {"root": str(corpora_dir / "pix2pix-terraform")})
    water = _read(src.fetch_raster("earth_water", LIGURIAN_COAST, tmp_path / "w.tif"))
    gshhg = _read(get_source("landmask", {}).fetch_raster("earth_water", LIGURIAN_COAST, tmp_path / "g.tif"))
    assert 0.2 < water.mean() < 0.8
    # two independent shorelines agree on the sea's share of the box within a few per cent
    assert abs(water.mean() - gshhg.mean()) < 0.05


def test_a_coastal_tile_is_kept_with_its_sea_at_sea_level(corpora_dir: Path, tmp_path: Path) -> None:
    root = {"root": str(corpora_dir / "pix2pix-terraform")}
    grid = region_grid("genoa", "earth", 9.0, 44.35, 1, 1)
    box = BBox(8.5, 43.8, 9.5, 44.6)
    src = get_source("pix2pix_terraform", root)
    elev = src.fetch_raster("earth_elevation", box, tmp_path / "elev.tif")
    water = src.fetch_raster("earth_water", box, tmp_path / "water.tif")
    dry = tile_region(elev, grid, tmp_path / "dry", "bilinear", 0.02, 1.0)
    assert dry.dropped and not dry.kept  # without the water layer the sea is nodata: the tile is lost
    wet = tile_region(elev, grid, tmp_path / "wet", "bilinear", 0.02, 1.0, sea_raster=water)
    assert wet.kept == ["genoa_r00_c00"]
    tile_region(water, grid, tmp_path / "water", "average", 0.02, 1.0)
    heights, sea = (
        _read(tmp_path / "wet" / "genoa_r00_c00.tif"),
        _read(tmp_path / "water" / "genoa_r00_c00.tif"),
    )
    assert 0.2 < (sea == 1).mean() < 0.8
    assert np.all(heights[sea == 1] == 0)  # heights above the water level: the sea is at 0 m
    assert np.median(heights[sea == 0]) > 50


def test_mars_sea_level_floods_below_and_puts_the_shore_at_zero() -> None:
    mars = np.array([[-4600.0, -4300.0, -4100.0], [-3000.0, 0.0, np.nan]])
    heights, water = mars_with_sea(mars, "offset", None, -4200.0)
    assert water.tolist() == [[True, True, False], [False, False, False]]
    assert (
        heights[0, 0] == 0 and heights[0, 2] == pytest.approx(100.0) and heights[1, 1] == pytest.approx(4200)
    )
    assert np.isnan(heights[1, 2])
    reference = np.linspace(0, 3000, 1001)
    q, _ = mars_with_sea(mars, "quantile", reference, -4200.0)
    assert q[0, 0] == 0 and 0 <= q[0, 2] < q[1, 0] < q[1, 1] <= 3000
    dry_heights, dry = mars_with_sea(mars, "offset", None, None)
    assert not dry.any() and dry_heights[0, 0] == 0  # no sea level: today's dry Mars
    with pytest.raises(ValueError, match="outside Mars's relief"):
        mars_with_sea(mars, "offset", None, -9000.0)


def test_water_channel_is_minus_one_on_land_and_plus_one_on_water() -> None:
    elev = np.zeros((2, 2), np.float32)
    stack = conditioning_stack(elev, None, ("elevation", "water"), np.array([[1, 0], [0, 0]]))
    assert stack.shape == (2, 2, 2) and stack[1].tolist() == [[1, -1], [-1, -1]]
    assert conditioning_stack(elev, None, ("elevation", "water"))[1].min() == -1  # no mask: dry land


def test_schema_rejects_a_sea_level_outside_mars_relief(repo_root: Path) -> None:
    import yaml

    config = yaml.safe_load((repo_root / "config.yaml").read_text())
    config["render"]["sea_level_m"] = -4200
    validate_config(config)
    config["render"]["sea_level_m"] = 25000
    with pytest.raises(ConfigError, match=r"render.sea_level_m: value 25000 is invalid"):
        validate_config(config)
    config["render"]["sea_level_m"] = None
    config["regions"][1]["sea_level_m"] = -9000
    with pytest.raises(ConfigError, match=r"regions\[1\].sea_level_m"):
        validate_config(config)
    config["regions"][1]["sea_level_m"] = None
    config["regions"][0]["sea_level_m"] = 0  # the Earth region
    with pytest.raises(ConfigError, match=r"regions\[0\].sea_level_m: 'sierra' is on earth"):
        validate_config(config)


def test_a_sea_level_with_dry_render_weights_is_refused_before_any_job(repo_root: Path) -> None:
    import yaml

    config = yaml.safe_load((repo_root / "config.yaml").read_text())
    validate_config(config, base_dirs=[repo_root])  # dry Mars: the shipped weights are fine
    config["render"]["sea_level_m"] = -4200
    with pytest.raises(ConfigError, match=r"gale asks for a sea, but render.weights .* has no water input"):
        validate_config(config, base_dirs=[repo_root])
