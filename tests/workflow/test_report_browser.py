"""The run report and every map viewer of the tiny end-to-end run, in headless Chromium.

Each page must load without a console error or a failed request, over HTTP and (viewers) from file://,
and its screenshot must not be blank. tests/render/test_viewer.py shows these checks fail when they should.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from browser import assert_not_blank, open_page, serve
from tiny import snakemake


@pytest.fixture(scope="module")
def report_dir(tiny_workflow: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the tiny run (written outside its workdir), unpacked as `make report` does."""
    out = tmp_path_factory.mktemp("report")
    run = snakemake(tiny_workflow, "--report", str(out / "report.zip"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    with zipfile.ZipFile(out / "report.zip") as z:
        names = z.namelist()
        z.extractall(out)
    viewers = [n for n in names if n.endswith("/index.html")]
    assert len(viewers) == 2, f"the report should carry both viewers (gale, foothills): {viewers}"
    return out / "report"


@pytest.mark.slow
def test_report_loads_cleanly(browser: object, report_dir: Path, tmp_path: Path) -> None:
    with serve(report_dir) as url:
        visit = open_page(browser, f"{url}/report.html", tmp_path / "report.png", click="text=Map viewers")
    assert visit.problems == []
    assert_not_blank(visit.screenshot)


@pytest.mark.slow
@pytest.mark.parametrize("region", ["gale", "foothills"])
def test_each_viewer_loads_cleanly(browser: object, tiny_workflow: Path, region: str, tmp_path: Path) -> None:
    folder = tiny_workflow / "results" / "viewer" / region
    with serve(folder) as url:
        visit = open_page(browser, f"{url}/index.html", tmp_path / "http.png")
    assert visit.problems == []
    assert sum("/tiles/" in r for r in visit.requests) >= 2  # both layers drew
    assert_not_blank(visit.screenshot)
    local = open_page(browser, (folder / "index.html").as_uri(), tmp_path / "file.png")
    assert local.problems == []
    assert_not_blank(local.screenshot)


@pytest.mark.slow
def test_viewers_inside_the_report_load_cleanly(browser: object, report_dir: Path, tmp_path: Path) -> None:
    pages = sorted(report_dir.rglob("index.html"))
    assert pages
    for page in pages:
        visit = open_page(browser, page.as_uri(), tmp_path / f"{page.parent.name}.png")
        assert visit.problems == [], page
        assert_not_blank(visit.screenshot)
