"""Rendering takes the scaling and inputs from the model's own metadata; a disagreeing config is an error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

from areograph.geo.grid import region_grid
from areograph.geo.tiling import reproject_to_grid
from areograph.models.init import build_model, init_weights
from areograph.render.mosaic import render_mars
from areograph.training.checkpoint import save_model

SPEC = {"name": "unet", "kwargs": {"in_channels": 2, "out_channels": 3, "ngf": 4, "depth": 6, "dropout": 0.5}}


@pytest.fixture(scope="module")
def region(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    grid = region_grid("gale", "mars", 137.8, -5.4, 1, 1, 64, 200)
    out = tmp_path_factory.mktemp("gale") / "region.tif"
    return reproject_to_grid(sample_dir / "mars/mola_megdr_gale_128ppd.tif", grid, out, "bilinear")


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    net = init_weights(build_model(SPEC["name"], **SPEC["kwargs"]))
    meta = {
        "elevation_range_m": [-500.0, 9000.0],
        "conditioning": ["elevation", "latitude"],
        "earth_reference_quantiles_m": np.linspace(0, 3000, 101).tolist(),
    }
    return save_model(tmp_path_factory.mktemp("m") / "model.pt", SPEC, net, 10, extra_meta=meta)


def _render(region: Path, model: Path, out: Path, elevation_range_m):
    return render_mars(
        region, model, None, elevation_range_m, "quantile", 64, 32,
        out / "t.tif", out / "q.png", out / "s.png",
    )  # fmt: skip


def test_mismatched_config_range_is_a_named_error(region: Path, model: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"model\.pt: trained with elevation range \[-500\.0, 9000\.0\] m"):
        _render(region, model, tmp_path, [-500, 4500])
    assert not (tmp_path / "t.tif").exists()


def test_metadata_alone_renders_like_an_agreeing_config(region: Path, model: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _render(region, model, tmp_path / "a", None)  # two input channels: elevation and latitude
    _render(region, model, tmp_path / "b", [-500, 9000])
    with rasterio.open(tmp_path / "a/t.tif") as a, rasterio.open(tmp_path / "b/t.tif") as b:
        assert np.array_equal(a.read(), b.read()) and a.read().std() > 0
