"""Inference takes scaling, tile size, inputs and colour space from the model's metadata; a disagreeing
config is a named error (ModelMismatchError) before anything is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch

from areograph.artefacts.model_dir import ModelMeta
from areograph.artefacts.types import ModelMismatchError
from areograph.geo.grid import region_grid
from areograph.geo.tiling import reproject_to_grid
from areograph.images.lab import COLOUR_SPACE
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.render.frames import load_colouriser
from areograph.render.mosaic import render_mars
from areograph.training.checkpoint import load_model_meta, save_model

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
        "task": "terrain",
        "elevation_range_m": [-500.0, 9000.0],
        "tile_px": 64,
        "conditioning": ["elevation", "latitude"],
        "earth_reference_quantiles_m": np.linspace(0, 3000, 101).tolist(),
    }
    return save_model(tmp_path_factory.mktemp("m") / "model.pt", SPEC, net, 10, extra_meta=meta)


def _render(region: Path, model: Path, out: Path, elevation_range_m, window_px=64, **kwargs):
    return render_mars(
        region, model, None, elevation_range_m, "quantile", window_px, 16,
        out / "t.tif", out / "q.png", out / "s.png", **kwargs,
    )  # fmt: skip


def test_mismatched_config_range_is_a_named_error(region: Path, model: Path, tmp_path: Path) -> None:
    expected = r"model\.pt: trained with elevation range \(m\) \[-500\.0, 9000\.0\], but elevation\.earth_r"
    with pytest.raises(ModelMismatchError, match=expected):
        _render(region, model, tmp_path, [-500, 4500])
    assert not (tmp_path / "t.tif").exists()


def test_metadata_alone_renders_like_an_agreeing_config(region: Path, model: Path, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _render(region, model, tmp_path / "a", None)  # two input channels: elevation and latitude
    _render(region, model, tmp_path / "b", [-500, 9000])
    with rasterio.open(tmp_path / "a/t.tif") as a, rasterio.open(tmp_path / "b/t.tif") as b:
        assert np.array_equal(a.read(), b.read()) and a.read().std() > 0


def test_a_window_other_than_the_model_tile_is_a_named_error(region: Path, model: Path, tmp_path: Path):
    expected = r"model\.pt: trained with tile size \(px\) 64, but render\.window_px asks for 128"
    with pytest.raises(ModelMismatchError, match=expected):
        _render(region, model, tmp_path, None, window_px=128)
    assert list(tmp_path.iterdir()) == []


def test_the_window_defaults_to_the_model_tile_and_an_override_must_be_explicit(
    region: Path, model: Path, tmp_path: Path
) -> None:
    runs = (("default", None, False), ("restated", 64, False), ("override", 128, True))
    for name, window, override in runs:
        (tmp_path / name).mkdir()
        _render(region, model, tmp_path / name, None, window_px=window, window_override=override)
    read = {n: rasterio.open(tmp_path / n / "t.tif").read() for n in ("default", "restated", "override")}
    assert np.array_equal(read["default"], read["restated"])
    assert not np.array_equal(read["default"], read["override"])  # the override did run another window


def test_metadata_naming_other_inputs_than_the_network_reads_is_an_error(tmp_path: Path) -> None:
    net = init_weights(build_model(SPEC["name"], **SPEC["kwargs"]))  # two input channels
    meta = {"task": "terrain", "conditioning": ["elevation"]}
    path = save_model(tmp_path / "model.pt", SPEC, net, 1, extra_meta=meta)
    with pytest.raises(ModelMismatchError, match=r"model\.pt: metadata names 1 input channels \['elev"):
        load_model_meta(path)


def test_a_colouriser_from_another_colour_space_is_refused(tmp_path: Path) -> None:
    kwargs = {"in_channels": 1, "out_channels": 2, "ngf": 4, "depth": 5, "dropout": 0.5}
    spec = {"name": "unet", "kwargs": kwargs}
    net = init_weights(build_model(spec["name"], **spec["kwargs"]))
    other = {**COLOUR_SPACE, "ab_scale": 110.0}
    meta = ModelMeta(task="colourise", kind="colouriser", tile_px=32, conditioning=("L",), colour_space=other)
    bad = save_model(tmp_path / "bad.pt", spec, net, 1, extra_meta=meta.to_dict())
    with pytest.raises(ModelMismatchError, match=r"bad\.pt: trained in colour space .*'ab_scale': 110\.0"):
        load_colouriser(bad)
    old = {"task": "colourise", "patch_px": 32}
    legacy = save_model(tmp_path / "legacy.pt", spec, net, 1, extra_meta=old)
    _, read = load_colouriser(legacy)  # files from before the field: the one colour space there was
    assert (read.tile_px, read.conditioning, read.colour_space) == (32, ("L",), None)


def test_model_meta_round_trips_and_keeps_unknown_keys() -> None:
    meta = ModelMeta(task="terrain", kind="pix2pix", tile_px=256, conditioning=("elevation", "latitude"),
                     elevation_range_m=(-500.0, 9000.0), train_regions=("andes",), n_train_tiles=3,
                     extra={"note": "kept"})  # fmt: skip
    assert ModelMeta.from_dict(meta.to_dict()) == meta
    assert meta.to_dict()["note"] == "kept" and "colour_space" not in meta.to_dict()
