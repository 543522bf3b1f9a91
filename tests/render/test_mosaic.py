"""One Mars -> Earth height map for a whole run: neighbouring regions agree where they overlap."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from areograph.artefacts.mosaic import read_hypsometry
from areograph.data.elevation import mars_with_sea
from areograph.render.mosaic import mars_hypsometry

EARTH = np.linspace(0.0, 4000.0, 1001)  # an Earth land distribution to map onto


@pytest.fixture(scope="module")
def gale(sample_dir: Path) -> np.ndarray:
    with rasterio.open(sample_dir / "mars" / "mola_megdr_gale_128ppd.tif") as src:
        return src.read(1).astype(np.float64)


def _write(path: Path, elev: np.ndarray) -> Path:
    transform = rasterio.transform.from_origin(135.0, -3.0, 0.01, 0.01)
    profile = {"driver": "GTiff", "width": elev.shape[1], "height": elev.shape[0], "count": 1,
               "dtype": "float32", "crs": "EPSG:4326", "transform": transform}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(elev.astype(np.float32)[None])
    return path


@pytest.mark.parametrize("sea_level_m", [None, -4200.0])
def test_overlapping_regions_map_the_same_height_to_the_same_earth_height(gale, tmp_path, sea_level_m):
    w = gale.shape[1]
    west, east = gale[:, : 2 * w // 3], gale[:, w // 3 :]  # two regions sharing the middle third
    overlap_w, overlap_e = np.s_[:, w // 3 : 2 * w // 3], np.s_[:, : 2 * w // 3 - w // 3]
    # each region's own distribution: the two maps disagree on the shared ground
    own_w, _ = mars_with_sea(west, "quantile", EARTH, sea_level_m)
    own_e, _ = mars_with_sea(east, "quantile", EARTH, sea_level_m)
    assert np.abs(own_w[overlap_w] - own_e[overlap_e]).mean() > 50
    # the run's hypsometry (both regions pooled): one map, exact agreement
    path = tmp_path / "hypsometry.json"
    mars_hypsometry([_write(tmp_path / "w.tif", west), _write(tmp_path / "e.tif", east)], path)
    reference = read_hypsometry(path)
    assert json.loads(path.read_text())["regions"] and reference.size == 1001
    run_w, water_w = mars_with_sea(west, "quantile", EARTH, sea_level_m, reference)
    run_e, water_e = mars_with_sea(east, "quantile", EARTH, sea_level_m, reference)
    np.testing.assert_allclose(run_w[overlap_w], run_e[overlap_e], atol=1e-3)
    assert (water_w[overlap_w] == water_e[overlap_e]).all()
    assert run_w.min() >= 0 and run_w.max() <= 4000


def test_a_broken_hypsometry_file_is_named(tmp_path):
    bad = tmp_path / "hypsometry.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match=r"hypsometry\.json: not a readable Mars hypsometry"):
        read_hypsometry(bad)


def test_an_earth_region_renders_with_a_generator_built_from_the_files_weights():
    """predict_earth_region(generator=...): the same weights give the same picture; another network
    built from them (a blur before the two finest upsamplings, not one) gives its own."""
    import torch

    from areograph.models.registry import build_model
    from areograph.render.mosaic import predict_earth_region
    from areograph.training.checkpoint import init_from_file, load_file, load_generator

    torch.set_num_threads(1)
    weights = Path(__file__).resolve().parents[2] / "weights" / "terrain_pix2pix" / "model.pt"
    yy, xx = np.mgrid[0:256, 0:256]
    elev = (1500 + 900 * np.sin(yy / 23.0) * np.cos(xx / 31.0)).astype(np.float32)
    valid = np.ones(elev.shape, bool)
    water = elev < 800
    render = {"profile": {}, "model_path": weights, "window_px": None, "overlap_px": 128, "water": water}
    plain = predict_earth_region(elev, valid, **render)
    same = predict_earth_region(elev, valid, **render, generator=load_generator(weights))
    spec = load_file(weights)["generator"]["spec"]
    blurred = build_model(spec["name"], **(spec["kwargs"] | {"blur_up": 2}))
    init_from_file({"generator": blurred}, weights)
    other = predict_earth_region(elev, valid, **render, generator=blurred)
    assert plain.shape == (256, 256, 3) and np.array_equal(plain, same)
    assert np.abs(plain.astype(int) - other.astype(int)).mean() > 0.5
