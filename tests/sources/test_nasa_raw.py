"""NASA raw-image adapter against local servers speaking the real Curiosity / Perseverance JSON feeds.

The feed records are in tests/fixtures/sources/nasa_raw (the real schemas); the servers filter and
page them the way mars.nasa.gov does, and serve the real sample frames as the images.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest
from localserver import LocalServer, Request

from areograph.sources import SourceError, adapter_options_schema, get_source

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sources" / "nasa_raw"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "rovers" / "colour"
REAL_HOST = "https://mars.nasa.gov"


def _records(name: str, base: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text().replace(REAL_HOST, base))


def _select(records: list[dict], q: dict[str, str], instrument) -> list[dict]:
    cams = set(q["search"].split("|"))
    lo = int(q["condition_2"].split(":")[0])
    hi = int(q["condition_3"].split(":")[0])
    assert q["condition_2"].endswith(":sol:gte") and q["condition_3"].endswith(":sol:lte")
    return [r for r in records if instrument(r) in cams and lo <= r["sol"] <= hi]


def curiosity_api(base: str, empty_after: int | None = None):
    records = _records("msl_raw_image_items.json", base)

    def handler(req: Request) -> tuple[int, bytes, str]:
        q = req.query
        if q.get("condition_1") != "msl:mission":
            return 400, b'{"error": "mission condition missing"}', "application/json"
        rows = _select(records, q, lambda r: r["instrument"])
        per_page, page = int(q["per_page"]), int(q["page"])
        items = rows[page * per_page : (page + 1) * per_page]
        if empty_after is not None and page >= empty_after:
            items = []  # the API sometimes claims more pages and then serves an empty one
        more = (page + 1) * per_page < len(rows)
        body = {"items": items, "more": more, "total": len(rows), "page": page, "per_page": per_page}
        return 200, json.dumps(body).encode(), "application/json"

    return handler


def perseverance_api(base: str):
    records = _records("m2020_raw_images.json", base)

    def handler(req: Request) -> tuple[int, bytes, str]:
        q = req.query
        assert (q["feed"], q["category"], q["feedtype"]) == ("raw_images", "mars2020", "json")
        rows = _select(records, q, lambda r: r["camera"]["instrument"])
        num, page = int(q["num"]), int(q["page"])
        body = {
            "images": rows[page * num : (page + 1) * num],
            "per_page": str(num),
            "total_results": len(rows),
            "page": page,
            "mission": "mars2020",
            "total_images": 412345,
        }
        return 200, json.dumps(body).encode(), "application/json"

    return handler


def serve_images(srv: LocalServer, **behaviour) -> None:
    """Serve every fixture frame that exists in the sample at its (rewritten) URL path."""
    for name, key in (("msl_raw_image_items.json", "url"), ("m2020_raw_images.json", None)):
        for rec in _records(name, srv.base_url):
            url = rec[key] if key else rec["image_files"]["full_res"]
            path = url[len(srv.base_url) :]
            if (SAMPLE / Path(path).name).is_file():
                srv.add_file(path, SAMPLE / Path(path).name, content_type="image/jpeg", **behaviour)


@pytest.fixture
def srv():
    with LocalServer() as server:
        server.add(
            "/api/v1/raw_image_items/", curiosity_api(server.base_url), content_type="application/json"
        )
        server.add("/rss/api/", perseverance_api(server.base_url), content_type="application/json")
        serve_images(server)
        yield server


def options(srv, **extra):
    return {
        "curiosity_url": srv.url("/api/v1/raw_image_items/"),
        "perseverance_url": srv.url("/rss/api/"),
        "sol_min": 40,
        "sol_max": 100,
        "per_page": 2,
        "backoff_s": 0.01,
        "retries": 2,
        **extra,
    }


def read_manifest(folder: Path) -> list[dict[str, str]]:
    with open(folder / "MANIFEST.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_both_missions_full_frames_only(srv, tmp_path):
    out = get_source("nasa_raw", options(srv)).fetch_collection("rover_colour", tmp_path / "colour")
    rows = read_manifest(out)
    assert list(rows[0]) == ["file", "camera", "sol", "origin"]
    assert [(r["file"], r["camera"], r["sol"]) for r in rows] == [
        ("0064MR0002850660103244E01_DRCL.JPG", "MSL Mastcam-Right (M-100)", "64"),
        ("0066ML0002960250102468E01_DRCL.JPG", "MSL Mastcam-Left (M-34)", "66"),
        ("0077MR0005750510103826E01_DRCL.JPG", "MSL Mastcam-Right (M-100)", "77"),
        ("0078MR0005760520103887E01_DRCL.JPG", "MSL Mastcam-Right (M-100)", "78"),
        ("ZL0_0053_0671642352_402ECM_N0032046ZCAM05025_110085J01.jpg", "M2020 Mastcam-Z Left", "53"),
    ]  # no thumbnail, subframe, Navcam, out-of-range sol or narrow-band Mastcam-Z frame
    assert all(r["origin"].startswith(srv.base_url) for r in rows)
    for r in rows:
        assert (out / r["file"]).read_bytes() == (SAMPLE / r["file"]).read_bytes()
    assert sorted(p.name for p in out.iterdir()) == sorted([r["file"] for r in rows] + ["MANIFEST.csv"])
    api = srv.routes["/api/v1/raw_image_items/"]
    assert [q["page"] for q in api.queries] == ["0", "1", "2"]  # 6 matching records, 2 per page
    assert api.queries[0]["search"] == "MAST_LEFT|MAST_RIGHT"
    assert api.queries[0]["extended"] == "sample_type::full,"


def test_api_500_and_429_are_retried(srv, tmp_path):
    srv.add("/api/v1/raw_image_items/", curiosity_api(srv.base_url), fail_times=1)
    srv.add("/rss/api/", perseverance_api(srv.base_url), fail_times=1, fail_status=429, retry_after="0.2")
    out = get_source("nasa_raw", options(srv)).fetch_collection("rover_colour", tmp_path / "colour")
    assert len(read_manifest(out)) == 5


def test_image_cut_mid_body_is_resumed_and_rerun_skips(srv, tmp_path):
    serve_images(srv, cut_times=1, cut_at=2000)
    src = get_source("nasa_raw", options(srv, missions=["curiosity"]))
    out = src.fetch_collection("rover_colour", tmp_path / "colour")
    route = srv.routes["/msl-raw-images/msss/00077/mcam/0077MR0005750510103826E01_DRCL.JPG"]
    assert route.range_headers == [None, "bytes=2000-"]
    assert (out / "0077MR0005750510103826E01_DRCL.JPG").read_bytes() == (
        SAMPLE / "0077MR0005750510103826E01_DRCL.JPG"
    ).read_bytes()
    src.fetch_collection("rover_colour", tmp_path / "colour")  # re-run: pages again, images skipped
    assert route.hits == 2


def test_empty_result_fails_clearly_and_writes_nothing(srv, tmp_path):
    with pytest.raises(SourceError, match=r"no full-resolution frames .* sols 500\.\.600"):
        get_source("nasa_raw", options(srv, sol_min=500, sol_max=600)).fetch_collection(
            "rover_colour", tmp_path / "colour"
        )
    assert list(tmp_path.iterdir()) == []


def test_empty_page_ends_pagination(srv, tmp_path):
    srv.add("/api/v1/raw_image_items/", curiosity_api(srv.base_url, empty_after=1))
    out = get_source("nasa_raw", options(srv, missions=["curiosity"])).fetch_collection(
        "rover_colour", tmp_path / "colour"
    )
    assert [r["sol"] for r in read_manifest(out)] == ["78"]  # page 0 only; page 1 came back empty
    assert len(srv.routes["/api/v1/raw_image_items/"].queries) == 2


def test_malformed_json_names_the_url(srv, tmp_path):
    srv.add("/rss/api/", b'{"images": [{"imageid": "ZL0_', content_type="application/json")
    with pytest.raises(SourceError, match=r"/rss/api/\?feed=raw_images.*malformed JSON"):
        get_source("nasa_raw", options(srv)).fetch_collection("rover_colour", tmp_path / "colour")
    assert not (tmp_path / "colour").exists()


def test_unexpected_layout_and_cap(srv, tmp_path):
    srv.add("/rss/api/", b'{"photos": []}', content_type="application/json")
    with pytest.raises(SourceError, match="unexpected response layout"):
        get_source("nasa_raw", options(srv, missions=["perseverance"])).fetch_collection(
            "rover_colour", tmp_path / "c"
        )
    out = get_source("nasa_raw", options(srv, missions=["curiosity"], max_images=2)).fetch_collection(
        "rover_colour", tmp_path / "colour"
    )
    assert [r["sol"] for r in read_manifest(out)] == ["77", "78"]


def test_retired_mars_photos_adapter_says_so(tmp_path):
    with pytest.raises(SourceError, match="retired in 2025"):
        get_source("mars_photos").fetch_collection("rover_colour", tmp_path / "colour")


def test_options_schema_rejects_unknown_keys():
    schema = adapter_options_schema("nasa_raw")
    jsonschema.validate({"missions": ["curiosity"], "sol_min": 1, "sol_max": 30, "max_images": 100}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"api_key": "DEMO_KEY"}, schema)
