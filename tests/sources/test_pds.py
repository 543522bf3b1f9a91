"""PDS adapter against a local server laid out like the MER HazCam volume, serving a real-format
index (tests/fixtures/sources/pds) and the real sample EDRs."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from localserver import LocalServer

from areograph.images.pds3 import read_frame
from areograph.sources import SourceError, get_source
from areograph.sources.pds import evenly_spaced, parse_table_label, product_path

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources" / "pds"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "rovers" / "opportunity"
SOLS = {
    "1F483288473EFFCMUFP1214L0M1": 4000,
    "1F483644096EFFCMX8P1214L0M1": 4004,
    "1F484710941EFFCNBHP1214L0M1": 4016,
    "1F490747543EFFCNY9P1214L0M1": 4084,
    "1F498644828EFFCONGP1214L0M1": 4173,
    "1F517554350EFFCQG7P1214L0M1": 4386,
}


@pytest.fixture
def srv():
    with LocalServer() as server:
        server.add_file(
            "/mer1ho_0xxx/index/edrindex.lbl", FIXTURES / "edrindex.lbl", content_type="text/plain"
        )
        server.add_file(
            "/mer1ho_0xxx/index/edrindex.tab", FIXTURES / "edrindex.tab", content_type="text/plain"
        )
        for pid, sol in SOLS.items():
            server.add_file(f"/mer1ho_0xxx/data/sol{sol}/edr/{pid.lower()}.img", SAMPLE / f"{pid}.IMG")
        yield server


def options(srv, **extra):
    return {
        "volume_url": srv.url("/mer1ho_0xxx/"),
        "sol_min": 4000,
        "sol_max": 4500,
        "backoff_s": 0.01,
        "retries": 2,
        **extra,
    }


def manifest(folder: Path) -> list[dict[str, str]]:
    with open(folder / "MANIFEST.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_selects_front_left_full_frames_by_sol(srv, tmp_path):
    out = get_source("pds", options(srv)).fetch_collection("rover_grey", tmp_path / "grey")
    rows = manifest(out)
    assert [(r["file"], r["camera"], int(r["sol"])) for r in rows] == [
        (f"{pid}.IMG", "FRONT_HAZCAM_LEFT", sol) for pid, sol in SOLS.items()
    ]  # not the right eye, the rear camera, the EDN product or sol 4867
    for r in rows:
        assert (out / r["file"]).read_bytes() == (SAMPLE / r["file"]).read_bytes()
        assert r["origin"] == srv.url(f"/mer1ho_0xxx/data/sol{r['sol']}/edr/{r['file'].lower()}")
        assert read_frame(out / r["file"]).sol == int(r["sol"])  # the pipeline's reader accepts them
    assert sorted(p.name for p in out.iterdir()) == sorted([r["file"] for r in rows] + ["MANIFEST.csv"])


def test_sol_range_eye_and_cap(srv, tmp_path):
    rows = manifest(
        get_source("pds", options(srv, sol_min=4010, sol_max=4100)).fetch_collection(
            "rover_grey", tmp_path / "a"
        )
    )
    assert [int(r["sol"]) for r in rows] == [4016, 4084]
    rows = manifest(
        get_source("pds", options(srv, max_images=3)).fetch_collection("rover_grey", tmp_path / "b")
    )
    assert [int(r["sol"]) for r in rows] == [4000, 4016, 4386]  # spread over the range
    with pytest.raises(SourceError, match="no FRONT_HAZCAM eye R products"):  # the one right frame: sol 4000
        get_source("pds", options(srv, eye="R", sol_min=4001)).fetch_collection("rover_grey", tmp_path / "c")


def test_failures_are_retried_and_resumed(srv, tmp_path):
    srv.add_file("/mer1ho_0xxx/index/edrindex.lbl", FIXTURES / "edrindex.lbl", fail_times=1)
    srv.add_file(
        "/mer1ho_0xxx/index/edrindex.tab",
        FIXTURES / "edrindex.tab",
        fail_times=1,
        fail_status=429,
        retry_after="0",
    )
    img = "/mer1ho_0xxx/data/sol4000/edr/1f483288473effcmufp1214l0m1.img"
    route = srv.add_file(img, SAMPLE / "1F483288473EFFCMUFP1214L0M1.IMG", cut_times=1, cut_at=700_000)
    out = get_source("pds", options(srv)).fetch_collection("rover_grey", tmp_path / "grey")
    assert route.range_headers == [None, "bytes=700000-"]
    assert (out / "1F483288473EFFCMUFP1214L0M1.IMG").read_bytes() == (
        SAMPLE / "1F483288473EFFCMUFP1214L0M1.IMG"
    ).read_bytes()
    get_source("pds", options(srv)).fetch_collection("rover_grey", tmp_path / "grey")  # re-run
    assert route.hits == 2  # complete files are not fetched again


def test_missing_product_fails_naming_it_and_publishes_nothing(srv, tmp_path):
    srv.routes.pop("/mer1ho_0xxx/data/sol4084/edr/1f490747543effcny9p1214l0m1.img")
    with pytest.raises(SourceError, match=r"sol4084/edr/1f490747543effcny9p1214l0m1\.img failed: HTTP 404"):
        get_source("pds", options(srv)).fetch_collection("rover_grey", tmp_path / "grey")
    assert not (tmp_path / "grey").exists()
    assert not [p for p in tmp_path.rglob("*.part")]


def test_label_without_needed_columns_is_rejected(srv, tmp_path):
    text = (FIXTURES / "edrindex.lbl").read_text().replace("PLANET_DAY_NUMBER", "SOL_NUMBER")
    srv.add("/mer1ho_0xxx/index/edrindex.lbl", text.encode())
    with pytest.raises(
        SourceError, match=r"edrindex\.lbl: index table has no column\(s\) \['PLANET_DAY_NUMBER'\]"
    ):
        get_source("pds", options(srv)).fetch_collection("rover_grey", tmp_path / "grey")
    srv.add("/mer1ho_0xxx/index/edrindex.lbl", b"PDS_VERSION_ID = PDS3\r\nEND\r\n")
    with pytest.raises(SourceError, match="no TABLE object"):
        get_source("pds", options(srv)).fetch_collection("rover_grey", tmp_path / "grey")


def test_label_parsing_and_paths():
    layout = parse_table_label((FIXTURES / "edrindex.lbl").read_text(), "edrindex.lbl")
    assert layout.row_bytes == len((FIXTURES / "edrindex.tab").read_bytes().split(b"\n")[0]) + 1
    assert layout.columns["VOLUME_ID"] == (1, 11)
    row = (FIXTURES / "edrindex.tab").read_text().splitlines()[0]
    start, width = layout.columns["PRODUCT_ID"]
    assert row[start : start + width] == "1F483288473EFFCMUFP1214L0M1"
    vol = "https://planetarydata.jpl.nasa.gov/img/data/mer/opportunity/mer1ho_0xxx/"
    assert product_path({"PATH_NAME": "/mer1ho_0xxx/data/sol0001/edr/", "FILE_NAME": "a.img"}, vol) == (
        "data/sol0001/edr/a.img"
    )
    assert product_path({"FILE_SPECIFICATION_NAME": "DATA/SOL0001/A.IMG"}, vol) == "DATA/SOL0001/A.IMG"
    assert evenly_spaced(list(range(10)), 4) == [0, 3, 6, 9]
