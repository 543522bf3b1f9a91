"""The `areograph` console script end to end on the offline sample: the installed entry point, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from rio_cogeo.cogeo import cog_validate

from areograph.cli import main

ROOT = Path(__file__).resolve().parents[1]
EDRS = sorted((ROOT / "data/sample/rovers/opportunity").glob("*.IMG"))
ENTRY_POINT = Path(sys.executable).parent / "areograph"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ENTRY_POINT), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_help_documents_both_commands(tmp_path: Path) -> None:
    top = _run("--help", cwd=tmp_path)
    assert top.returncode == 0 and "terraform" in top.stdout and "colourise" in top.stdout
    sub = _run("terraform", "--help", cwd=tmp_path)
    assert "--lon" in sub.stdout and "--tiles" in sub.stdout


def test_terraform_one_region_with_the_shipped_weights(tmp_path: Path) -> None:
    done = _run("terraform", "--lon", "137.8", "--lat", "-5.4", "--tiles", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "terraformed" / "mars_137.80E_5.40S"
    assert sorted(p.name for p in out.iterdir()) == [
        "quicklook.png", "side_by_side.png", "terraformed.geojson", "terraformed.tif"
    ]  # fmt: skip
    assert "terraformed/mars_137.80E_5.40S/terraformed.tif" in done.stdout.splitlines()
    assert cog_validate(str(out / "terraformed.tif"), strict=True)[0]
    with rasterio.open(out / "terraformed.tif") as src:
        assert (src.width, src.height) == (256, 256) and "Mars" in src.crs.to_wkt()
        rgb = src.read()
        assert rgb.std() > 5, "a picture, not a flat fill"
    feature = json.loads((out / "terraformed.geojson").read_text())["features"][0]
    assert feature["properties"]["product"] == "terraformed Mars"


def test_terraform_off_the_source_is_a_named_error_and_writes_nothing(tmp_path: Path, capsys) -> None:
    code = main(["terraform", "--lon", "20", "--lat", "60", "--tiles", "1", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2
    assert "mola_megdr_gale_128ppd.tif" in err and "outside" in err
    assert not (tmp_path / "x").exists()


def test_terraform_refuses_a_folder_with_other_files(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code = main(["terraform", "--lon", "137.8", "--lat", "-5.4", "--tiles", "1", "--out", str(tmp_path)])
    assert code == 2 and "notes.txt" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_bad_tiles_argument_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["terraform", "--lon", "1", "--lat", "1", "--tiles", "0"])
    assert "expected N or COLSxROWS" in capsys.readouterr().err


def test_colourise_edrs_and_an_image(tmp_path: Path) -> None:
    grey = tmp_path / "grey.jpg"
    Image.fromarray(np.tile(np.linspace(0, 255, 200, dtype=np.uint8), (150, 1))).save(grey)
    done = _run("colourise", str(EDRS[0]), str(EDRS[1]), str(grey), "--out", "col", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted((tmp_path / "col").iterdir())
    assert [p.name for p in written] == sorted(
        [f"{EDRS[0].stem}_colour.png", f"{EDRS[1].stem}_colour.png", "grey_colour.png"]
    )
    frame = np.asarray(Image.open(tmp_path / "col" / f"{EDRS[0].stem}_colour.png"))
    assert frame.shape == (1024, 1024, 3)
    chroma = np.abs(frame[..., 0].astype(int) - frame[..., 2].astype(int)).mean()
    assert chroma > 1, "colourised frames carry colour, not grey"
    assert np.asarray(Image.open(tmp_path / "col" / "grey_colour.png")).shape == (150, 200, 3)


def test_colourise_a_bad_file_names_it_and_writes_nothing(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    code = main(["colourise", str(EDRS[0]), str(broken), "--out", str(tmp_path / "col")])
    assert code == 2 and "broken.jpg: unreadable image" in capsys.readouterr().err
    assert not (tmp_path / "col").exists()


def _water_model(path: Path, conditioning: tuple[str, ...] = ("elevation", "water")) -> Path:
    """A tiny untrained generator that reads elevation and water (or ``conditioning``), in the project's
    self-describing format."""
    import torch

    from areograph.artefacts.model_dir import ModelMeta
    from areograph.models.init import init_weights
    from areograph.models.registry import build_model
    from areograph.training.checkpoint import save_model

    torch.manual_seed(0)
    kwargs = {"in_channels": len(conditioning), "out_channels": 3, "ngf": 4, "depth": 8, "dropout": 0.0,
              "upsample": "bilinear", "downsample": "blur"}  # fmt: skip
    spec = {"name": "unet", "kwargs": kwargs}
    meta = ModelMeta(task="terrain", kind="pix2pix", tile_px=256, conditioning=conditioning,
                     elevation_range_m=(-500.0, 9000.0),
                     earth_reference_quantiles_m=tuple(np.linspace(0, 4000, 101).tolist()))  # fmt: skip
    return save_model(path, spec, init_weights(build_model("unet", **kwargs)), 1, meta.to_dict())


def test_terraform_with_a_sea_level_floods_gale_below_it(tmp_path: Path) -> None:
    weights = _water_model(tmp_path / "water.pt")
    done = _run("terraform", "--lon", "137.8", "--lat", "-5.4", "--tiles", "2", "--sea-level", "-4200",
                "--weights", str(weights), "--out", "lake", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with rasterio.open(tmp_path / "lake" / "terraformed.tif") as src:
        assert src.tags()["AREOGRAPH_SEA_LEVEL_M"] == "-4200"


def test_a_sea_level_without_a_water_model_is_refused_before_any_work(tmp_path: Path, capsys) -> None:
    (tmp_path / "weights").mkdir()
    dry = _water_model(tmp_path / "weights" / "dry.pt", conditioning=("elevation",))
    work = tmp_path / "work"
    work.mkdir()
    out = work / "lake"
    code = main(["terraform", "--lon", "137.8", "--lat", "-5.4", "--tiles", "1", "--sea-level", "-4200",
                 "--weights", str(dry), "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--sea-level -4200" in err and "no water input" in err
    assert not out.exists() and not any(work.iterdir())
    with pytest.raises(SystemExit) as exit_info:  # argparse: outside Mars's relief
        main(["terraform", "--lon", "137.8", "--lat", "-5.4", "--sea-level", "-9000"])
    assert exit_info.value.code == 2 and "--sea-level" in capsys.readouterr().err
