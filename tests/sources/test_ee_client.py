"""A service-account key given as *content* in EARTHENGINE_SERVICE_ACCOUNT_KEY never leaks.

Each run is a real subprocess that logs like a workflow job (areograph.logs.log_to); afterwards every
file it wrote, and its stdout and stderr, are searched for any piece of the key. The key is a real
RSA key, so Google's library really parses and signs with it; its token URI is a local server that
answers as Google does for a key it does not know, so ``ee.Initialize`` fails (the failed run). The
successful run replaces only ``ee.Initialize`` and ``ee.Image`` (the calls that need Google) with ones
that hand out URLs of a local chunk server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rasterio
from localserver import LocalServer

from areograph.sources.ee_client import ENV_KEY
from tests.sources.test_earthengine import BOX, ee_chunk

RUN = """
import sys
from pathlib import Path
from areograph.logs import log_to
from areograph.sources import BBox, get_source
mode, workdir, server = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if mode == "ok":
    import ee
    from urllib.parse import urlencode

    class Image:
        def __init__(self, asset): pass
        def select(self, bands): return self
        def unmask(self, *args): return self
        def toInt16(self): return self
        def getDownloadURL(self, p):
            w, h = p["dimensions"]
            return server + "?" + urlencode({"t": ",".join(map(repr, p["crs_transform"])), "w": w, "h": h})

    ee.Initialize, ee.Image = (lambda *args, **kwargs: None), Image
with log_to(workdir / "logs" / "fetch.log"):
    box = BBox(*(float(v) for v in sys.argv[4:8]))
    source = get_source("earthengine", {"retries": 0, "max_request_bytes": 80000})
    source.fetch_raster("earth_elevation", box, workdir / "results" / "srtm.tif")
print("done")
"""


@pytest.fixture(scope="module")
def srv() -> Iterator[LocalServer]:
    refused = json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    with LocalServer() as server:
        server.add("/ee/download", ee_chunk)
        server.add("/token", lambda req: (400, refused.encode(), "application/json"))
        yield server


@pytest.fixture(scope="module")
def key(srv: LocalServer) -> dict[str, str]:
    pytest.importorskip("ee")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    return {
        "type": "service_account",
        "project_id": "areograph-test",
        "private_key_id": "5f0c2d9e41b7a3c8d6e2f1a0b9c8d7e6f5a4b3c2",
        "private_key": pem,
        "client_email": "fetcher@areograph-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": srv.url("/token"),
    }


def _pieces(key: dict[str, str]) -> list[str]:
    """Every fragment that would betray the key: each line of the PEM body, its id, the raw JSON."""
    body = [line for line in key["private_key"].splitlines() if line and "-----" not in line]
    return [*body, key["private_key_id"], "PRIVATE KEY", json.dumps(key)[:40]]


def _run(mode: str, workdir: Path, server: str, key_value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, ENV_KEY: key_value}
    env.pop("EARTHENGINE_PROJECT", None)
    cmd = [sys.executable, "-c", RUN, mode, str(workdir), server]
    cmd += [str(v) for v in (BOX.west, BOX.south, BOX.east, BOX.north)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def _leaks(workdir: Path, run: subprocess.CompletedProcess, pieces: list[str]) -> list[str]:
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in workdir.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("latin-1")
    return [f"{where}: {piece[:12]}..." for where, text in texts.items() for piece in pieces if piece in text]


def test_a_key_given_as_content_never_reaches_any_output_of_a_failed_or_successful_run(
    srv: LocalServer, key: dict[str, str], tmp_path: Path
) -> None:
    content = json.dumps(key, indent=2)
    url = srv.url("/ee/download")
    failed = _run("offline", tmp_path / "failed", url, content)  # the real ee.Initialize
    assert failed.returncode != 0
    log = (tmp_path / "failed" / "logs" / "fetch.log").read_text()
    assert "Earth Engine authentication with the service-account key given inline" in log, log[-2000:]
    assert not _leaks(tmp_path / "failed", failed, _pieces(key))

    done = _run("ok", tmp_path / "ok", url, content)
    assert done.returncode == 0, done.stderr[-3000:]
    with rasterio.open(tmp_path / "ok" / "results" / "srtm.tif") as ds:
        assert ds.width > 0
    assert not _leaks(tmp_path / "ok", done, _pieces(key))

    garbled = content.replace('"type"', "type")  # not valid JSON any more: still never echoed
    broken = _run("offline", tmp_path / "garbled", url, garbled)
    assert broken.returncode != 0
    garbled_log = (tmp_path / "garbled" / "logs" / "fetch.log").read_text()
    assert "not a JSON service-account key (content not shown)" in garbled_log
    assert not _leaks(tmp_path / "garbled", broken, _pieces(key))
