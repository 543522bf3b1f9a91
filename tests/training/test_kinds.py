"""Model kinds (training/kinds.py): one table maps each kind to its network family, loss and PatchGAN;
a new kind is one entry there, and the shipped weights still load and compute what they did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.transform import from_origin

from areograph.artefacts.model_dir import COLOUR_TASK, TERRAIN_TASK
from areograph.config import ConfigError, load_config, validate_config
from areograph.data.pairs import pack_pairs
from areograph.geo.grid import region_grid
from areograph.geo.tiling import reproject_to_grid
from areograph.models.registry import MODELS
from areograph.models.specs import FAMILIES, SpecInputs
from areograph.render.mosaic import render_mars
from areograph.terraform import train_terrain
from areograph.training.checkpoint import load_file, load_generator, load_model_meta
from areograph.training.kinds import KINDS, ModelKind, colour_kind, kinds_for, terrain_kind
from areograph.training.trainer import UPDATES, TrainConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"ngf": 4, "ndf": 4, "depth": None, "d_layers": 3, "dropout": 0.5}
PX = 32


def test_every_kind_builds_and_trains_with_what_it_names() -> None:
    """Each entry's family is a registered network, its loss a trainer update; a PatchGAN iff adversarial."""
    data = {"global_px": 16, "ab_hist": np.eye(4), "ab_edges": np.linspace(-1, 1, 5)}
    for name, kind in KINDS.items():
        x = SpecInputs(1 + len(kind.extra_inputs), 2, PX, SIZES, {"width": 4}, data)
        generator, discriminator = kind.specs(x)
        assert generator["name"] == kind.family in MODELS, name
        update = UPDATES[kind.trainer["mode"]]
        assert (discriminator is not None) == kind.adversarial == update.adversarial, name
        cfg = TrainConfig(steps=1, **kind.trainer)
        assert cfg.regression_loss == (kind.loss if cfg.mode == "regression" else "l1"), name
    assert set(FAMILIES) <= set(MODELS)


def test_the_terrain_kinds_are_what_configs_name() -> None:
    assert kinds_for(TERRAIN_TASK) == ["pix2pix", "unet_l1", "baseline"]
    assert terrain_kind("unet_l1") == ModelKind("unet", "l1", adversarial=False)
    assert terrain_kind("pix2pix").trainer == {"mode": "pix2pix"}
    assert terrain_kind("baseline").trainer == {"mode": "regression", "regression_loss": "mse"}
    with pytest.raises(ValueError, match="unknown terrain model kind 'ab_bins'"):
        terrain_kind("ab_bins")  # a colour kind


@pytest.mark.parametrize(
    ("keys", "family", "mode"),
    [
        ({}, "unet", "regression"),
        ({"adversarial": True}, "unet", "pix2pix"),
        ({"loss": "classification"}, "ab_bins_unet", "classification"),
        ({"loss": "l1_colourfulness"}, "unet", "regression"),
        ({"global_view": True}, "global_unet", "regression"),
        ({"global_view": True, "loss": "l1_colourfulness"}, "global_unet", "regression"),
        ({"global_view": True, "adversarial": True}, "global_unet", "pix2pix"),
    ],
)
def test_the_colouriser_keys_select_one_colour_kind(keys: dict, family: str, mode: str) -> None:
    kind = colour_kind("colouriser", {"ngf": 4, "dropout": 0.5, **keys})
    assert (kind.family, kind.trainer["mode"]) == (family, mode)
    assert COLOUR_TASK in kind.products
    assert colour_kind("baseline", {"loss": "classification", "global_view": True}) == KINDS["baseline"]


def test_a_colouriser_combination_no_kind_trains_is_a_named_error() -> None:
    with pytest.raises(ValueError, match=r"rovers.colouriser: no colour model has loss 'classification', "
                                         r"adversarial True and global_view False"):  # fmt: skip
        colour_kind("colouriser", {"loss": "classification", "adversarial": True})
    with pytest.raises(ValueError, match="adversarial kind trains with loss 'l1'"):
        ModelKind("unet", "mse", adversarial=True)


def _tile(path: Path, data: np.ndarray, row: int, col: int) -> None:
    """One 32 px tile of a regular 200 m grid (UTM 11N), bands first."""
    transform = from_origin(300_000 + col * PX * 200.0, 4_200_000 - row * PX * 200.0, 200.0, 200.0)
    with rasterio.open(path, "w", driver="GTiff", height=PX, width=PX, count=data.shape[0], dtype=data.dtype,
                       crs="EPSG:32611", transform=transform) as dst:  # fmt: skip
        dst.write(data)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny packed pair set: 2 x 2 tiles whose imagery follows the elevation."""
    root = tmp_path_factory.mktemp("pairs")
    elev, img = root / "elevation", root / "imagery"
    elev.mkdir()
    img.mkdir()
    rng = np.random.default_rng(0)
    for r in range(2):
        for c in range(2):
            v = rng.integers(0, 226, size=(PX, PX)).astype(np.uint8)
            _tile(elev / f"s_r{r:02d}_c{c:02d}.tif", (v.astype(np.float32) * 20.0)[None], r, c)
            _tile(img / f"s_r{r:02d}_c{c:02d}.tif", np.stack([v, 255 - v, np.full_like(v, 7)]), r, c)
    out = root / "pairs.npz"
    pack_pairs([{"name": "s", "split": "train"}], [elev], [img], out)
    return out


def test_a_new_kind_is_one_entry(monkeypatch, pairs: Path, sample_dir: Path, tmp_path: Path) -> None:
    """A conv stack on L1 (no such kind ships): one table entry, and configs accept it, the trainer trains it
    with that loss, the model file records it and the Mars renderer renders it."""
    config = load_config(ROOT / "config.yaml")
    config["terrain_models"]["dummy"] = {"kind": "baseline_l1", "conditioning": ["elevation"]}
    with pytest.raises(ConfigError, match=r"terrain_models.dummy.kind: value 'baseline_l1' is not one of"):
        validate_config(config)
    monkeypatch.setitem(KINDS, "baseline_l1", ModelKind("baseline", "l1", products=(TERRAIN_TASK,)))
    validate_config(config)

    training = {"steps": 3, "batch_size": 2, "checkpoint_every": 3, "seed": 0, "device": "cpu"}
    model = train_terrain("baseline_l1", pairs, {"pix2pix": SIZES, "baseline": {"width": 4}}, training, PX,
                          [0, 4500], tmp_path / "dummy")  # fmt: skip
    stored = load_file(model)
    assert stored["generator"]["spec"]["name"] == "baseline"
    assert (stored["train_config"]["mode"], stored["train_config"]["regression_loss"]) == ("regression", "l1")
    assert load_model_meta(model).kind == "baseline_l1"
    assert "discriminator" not in load_file(tmp_path / "dummy" / "checkpoints" / "latest.pt")
    assert (tmp_path / "dummy" / "losses.csv").read_text().splitlines()[0] == "step,lr,loss"
    assert load_generator(model)(torch.zeros(1, 1, PX, PX)).shape == (1, 3, PX, PX)

    grid = region_grid("gale", "mars", 137.8, -5.4, 1, 1, 64, 200)
    mola = sample_dir / "mars/mola_megdr_gale_128ppd.tif"
    region = reproject_to_grid(mola, grid, tmp_path / "r.tif", "bilinear")
    out = tmp_path / "mars"
    out.mkdir()
    # The window and the elevation scaling come from the model file (window None: its 32 px tile).
    files = (out / "t.tif", out / "q.png", out / "s.png")
    render_mars(region, model, None, None, "quantile", None, PX // 2, *files)
    with rasterio.open(out / "t.tif") as src:
        rgb = src.read()
    assert rgb.shape == (3, 64, 64) and rgb.std() > 0


# The shipped generators' output on a fixed input, recorded when each file was shipped: the terrain
# generator's second stage (blur_up 1), the colouriser reshipped by make colouriser-weights' rule after
# the trainer went channels-last. New weights shipped (make ship-terrain / colouriser-weights) need new
# figures.
SHIPPED = {
    "terrain_pix2pix": ("unet", [-0.94566, -0.7234, -0.81411],
                        [-0.79727, -0.93122, -0.8868, -0.90965, -0.88011, -0.89157]),
    "colouriser": ("global_unet", [0.20532, 0.3518], [0.1114, 0.22097, 0.2147, 0.35995, 0.30048]),
}  # fmt: skip


@pytest.mark.parametrize("product", sorted(SHIPPED))
def test_shipped_weights_load_and_compute_what_they_did(product: str) -> None:
    path = ROOT / "weights" / product / "model.pt"
    name, means, samples = SHIPPED[product]
    spec = load_file(path)["generator"]["spec"]
    net, px = load_generator(path), load_model_meta(path).tile_px
    seeded = torch.Generator().manual_seed(0)
    x = torch.rand(1, spec["kwargs"]["in_channels"], px, px, generator=seeded) * 2 - 1
    with torch.no_grad():
        y = net(x)[0]
    assert spec["name"] == name
    np.testing.assert_allclose(y.mean(dim=(1, 2)).numpy(), means, atol=2e-4)
    np.testing.assert_allclose(y[:, ::37, ::41].flatten()[::7][: len(samples)].numpy(), samples, atol=2e-4)
