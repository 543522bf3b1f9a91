"""The map viewer: tile pyramid geometry, and the page in headless Chromium (and that the check can fail)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser import assert_not_blank, blankness, open_page, serve
from PIL import Image

from areograph.render.pyramid import max_zoom, write_pyramid
from areograph.render.viewer import Layer, rgba, write_viewer


def _layers(h: int = 300, w: int = 520) -> tuple[Layer, Layer]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w]
    grey = ((np.sin(xx / 17) * np.cos(yy / 23) + 1) * 120).astype(np.uint8)
    base = np.repeat(grey[..., None], 3, axis=2)
    colour = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    valid = np.ones((h, w), bool)
    valid[:20, :20] = False
    return (
        Layer("hillshade", "hillshade", rgba(base, valid)),
        Layer("terraformed", "terraformed", rgba(colour, valid)),
    )


def test_pyramid_levels_cover_the_raster_down_to_one_tile(tmp_path: Path) -> None:
    base, _ = _layers()
    top = write_pyramid(base.rgba, tmp_path)
    assert top == max_zoom(520, 300) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1", "2"]
    assert [p.name for p in (tmp_path / "0").rglob("*.png")] == ["0.png"]
    assert len(list((tmp_path / "2").rglob("*.png"))) == 3 * 2  # ceil(520/256) x ceil(300/256)
    with Image.open(tmp_path / "2" / "2" / "1.png") as edge:  # padded edge tile: transparent outside
        a = np.asarray(edge)[..., 3]
    assert edge.size == (256, 256) and a[: 300 - 256, : 520 - 512].min() == 255 and a[50:, 10:].max() == 0


def test_viewer_config_carries_scale_and_region(tmp_path: Path) -> None:
    base, top = _layers()
    cfg = write_viewer(tmp_path / "v", "gale", "mars", 137.8, -5.4, 200.0, base, top)
    html = (tmp_path / "v" / "index.html").read_text()
    embedded = json.loads(re.search(r'type="application/json">(.*?)</script>', html, re.S)[1])
    assert embedded == cfg and cfg["gsd_m"] == 200.0 and cfg["max_zoom"] == 2
    assert (tmp_path / "v" / "leaflet" / "leaflet.js").is_file()
    assert (tmp_path / "v" / "leaflet" / "LICENSE").is_file()
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the viewer must not load from the network"


def test_mismatched_layers_leave_no_viewer(tmp_path: Path) -> None:
    base, top = _layers()
    small = Layer("terraformed", "t", top.rgba[:100])
    with pytest.raises(ValueError, match="differ in size"):
        write_viewer(tmp_path / "v", "gale", "mars", 0, 0, 200.0, base, small)
    assert not (tmp_path / "v").exists()


@pytest.fixture(scope="module")
def viewer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base, top = _layers()
    out = tmp_path_factory.mktemp("viewer") / "gale"
    write_viewer(out, "gale", "mars", 137.8, -5.4, 200.0, base, top)
    return out


def test_viewer_loads_cleanly_in_chromium(browser: object, viewer_dir: Path, tmp_path: Path) -> None:
    with serve(viewer_dir) as url:
        visit = open_page(browser, f"{url}/index.html", tmp_path / "shot.png")
    assert visit.problems == []
    assert any("/tiles/terraformed/" in r for r in visit.requests)
    assert any("/tiles/hillshade/" in r for r in visit.requests)
    assert_not_blank(visit.screenshot)


def test_viewer_works_from_file_urls(browser: object, viewer_dir: Path, tmp_path: Path) -> None:
    visit = open_page(browser, (viewer_dir / "index.html").as_uri(), tmp_path / "shot.png")
    assert visit.problems == []
    assert_not_blank(visit.screenshot)


def test_a_missing_tile_is_caught(browser: object, viewer_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(viewer_dir, broken)
    (broken / "tiles" / "terraformed" / "2" / "1" / "0.png").unlink()  # zoom 2 shows at 1000 x 700
    with serve(broken) as url:
        visit = open_page(browser, f"{url}/index.html", tmp_path / "shot.png")
    assert any("terraformed/2/1/0.png" in p for p in visit.problems), visit.problems


def test_a_script_error_is_caught(browser: object, viewer_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(viewer_dir, broken)
    page = broken / "index.html"
    page.write_text(page.read_text().replace("L.CRS.Simple", "L.CRS.Nope.Simple"))
    visit = open_page(browser, page.as_uri(), tmp_path / "shot.png")
    assert any("page error" in p for p in visit.problems), visit.problems


def test_a_blank_screenshot_is_caught(tmp_path: Path) -> None:
    Image.new("RGB", (400, 300), (17, 17, 17)).save(tmp_path / "blank.png")
    assert blankness(tmp_path / "blank.png") == (0.0, 1)
    with pytest.raises(AssertionError, match="looks blank"):
        assert_not_blank(tmp_path / "blank.png")
