"""The resilient downloader against a real local HTTP server that misbehaves on purpose."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

import pytest
from localserver import LocalServer, Request
from urllib3 import HTTPResponse
from urllib3.exceptions import MaxRetryError, ProtocolError

from areograph.download import (
    DownloadError,
    DownloadItem,
    DownloadPolicy,
    download_file,
    download_many,
    get_bytes,
    get_json,
    policy_from_options,
    redact,
)

FAST = DownloadPolicy(retries=3, backoff_s=0.01, timeout_s=5, progress=False)
PAYLOAD = bytes(range(256)) * 400  # 100 kB, every byte position distinguishable


@pytest.fixture
def srv():
    with LocalServer() as server:
        yield server


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_plain_download_leaves_only_the_final_file(srv, tmp_path):
    srv.add("/f.bin", PAYLOAD)
    out = download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert out.read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["f.bin"]


def test_500_then_success(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD, fail_times=2)
    download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert route.hits == 3
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_429_honours_retry_after(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD, fail_times=1, fail_status=429, retry_after="1")
    download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert route.hits == 2
    # the backoff alone would have waited 0.01 s; the server asked for 1 s
    assert route.times[1] - route.times[0] >= 0.95


def test_connection_cut_mid_body_resumes_with_range(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD, cut_times=1, cut_at=30_000)
    download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert route.range_headers == [None, "bytes=30000-"]
    assert route.bytes_sent == len(PAYLOAD)  # nothing fetched twice
    assert leftovers(tmp_path) == ["f.bin"]


def test_server_ignoring_range_restarts_cleanly(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD, ranges=False, cut_times=1)
    download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert route.hits == 2


def test_body_shorter_than_content_length_is_resumed(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD, short_times=1)
    download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD
    assert route.range_headers[1] == f"bytes={len(PAYLOAD) // 2}-"


def test_persistently_short_body_fails_and_leaves_nothing(srv, tmp_path):
    srv.add("/f.bin", PAYLOAD, short_times=1000)
    with pytest.raises(DownloadError, match=r"/f\.bin failed after 4 attempts"):
        download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert leftovers(tmp_path) == []


def test_persistent_500_names_url_and_status(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD, fail_times=1000)
    with pytest.raises(DownloadError) as err:
        download_file(srv.url("/f.bin"), tmp_path / "f.bin", policy=FAST)
    assert srv.url("/f.bin") in str(err.value)
    assert "HTTP 500" in str(err.value)
    assert route.hits == FAST.retries + 1
    assert leftovers(tmp_path) == []


def test_404_is_not_retried(srv, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(srv.url("/missing.bin"), tmp_path / "m.bin", policy=FAST)
    assert leftovers(tmp_path) == []


def test_timeout_is_retried_then_reported(srv, tmp_path):
    route = srv.add("/slow.bin", PAYLOAD, latency_s=0.6)
    policy = DownloadPolicy(retries=1, backoff_s=0.01, timeout_s=0.2, progress=False)
    with pytest.raises(DownloadError, match="connection error"):
        download_file(srv.url("/slow.bin"), tmp_path / "s.bin", policy=policy)
    assert route.hits == 2
    assert leftovers(tmp_path) == []


def test_size_and_checksum_are_checked_before_rename(srv, tmp_path):
    srv.add("/f.bin", PAYLOAD)
    with pytest.raises(DownloadError, match="expected 99"):
        download_file(srv.url("/f.bin"), tmp_path / "a.bin", size=99, policy=FAST)
    with pytest.raises(DownloadError, match="checksum"):
        download_file(srv.url("/f.bin"), tmp_path / "b.bin", checksum="md5:" + "0" * 32, policy=FAST)
    assert leftovers(tmp_path) == []
    good = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    download_file(srv.url("/f.bin"), tmp_path / "c.bin", checksum=good, size=len(PAYLOAD), policy=FAST)
    assert leftovers(tmp_path) == ["c.bin"]


def test_rerun_skips_complete_files_but_refetches_wrong_ones(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD)
    items = [DownloadItem(srv.url("/f.bin"), tmp_path / "f.bin", size=len(PAYLOAD))]
    download_many(items, policy=FAST)
    download_many(items, policy=FAST)
    assert route.hits == 1
    (tmp_path / "f.bin").write_bytes(b"truncated")
    download_many(items, policy=FAST)
    assert route.hits == 2
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_parallelism_is_bounded(srv, tmp_path):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(req: Request) -> bytes:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.1)
        with lock:
            state["now"] -= 1
        return req.path.encode()

    for i in range(12):
        srv.add(f"/f{i}", slow)
    items = [DownloadItem(srv.url(f"/f{i}"), tmp_path / f"f{i}") for i in range(12)]
    policy = DownloadPolicy(retries=0, workers=3, progress=False)
    download_many(items, policy=policy)
    assert state["max"] == 3
    assert all((tmp_path / f"f{i}").read_bytes() == f"/f{i}".encode() for i in range(12))


def test_download_many_reports_every_failure_and_keeps_the_rest(srv, tmp_path):
    srv.add("/ok.bin", PAYLOAD)
    srv.add("/bad.bin", PAYLOAD, fail_times=1000, fail_status=503)
    items = [
        DownloadItem(srv.url("/ok.bin"), tmp_path / "ok.bin"),
        DownloadItem(srv.url("/bad.bin"), tmp_path / "bad.bin"),
        DownloadItem(srv.url("/gone.bin"), tmp_path / "gone.bin"),
    ]
    with pytest.raises(DownloadError) as err:
        download_many(items, policy=FAST)
    msg = str(err.value)
    assert "2 of 3 downloads failed" in msg
    assert "/bad.bin" in msg and "HTTP 503" in msg and "/gone.bin" in msg and "HTTP 404" in msg
    assert leftovers(tmp_path) == ["ok.bin"]


def test_get_json_retries_and_rejects_malformed_json(srv):
    srv.add("/api", b'{"items": [1, 2]}', fail_times=1, content_type="application/json")
    assert get_json(srv.url("/api"), policy=FAST) == {"items": [1, 2]}
    srv.add("/broken", b'{"items": [1, 2', content_type="application/json")
    with pytest.raises(DownloadError, match=r"/broken\?page=3: malformed JSON"):
        get_json(srv.url("/broken"), params={"page": 3}, policy=FAST)


def test_get_bytes_honours_retry_after_on_503_and_names_the_url_when_it_persists(srv):
    route = srv.add("/page", b"ok", fail_times=1, fail_status=503, retry_after="1")
    assert get_bytes(srv.url("/page"), policy=FAST) == b"ok"
    assert route.hits == 2
    assert route.times[1] - route.times[0] >= 0.95  # the server's 1 s, not the policy's 0.01 s
    down = srv.add("/down", b"never", fail_times=1000, fail_status=503, retry_after="0")
    with pytest.raises(DownloadError) as err:
        get_bytes(srv.url("/down"), params={"api_key": "SECRET"}, policy=FAST)
    assert str(err.value) == f"GET {srv.url('/down')} failed after 4 attempts: HTTP 503 Service Unavailable"
    assert down.hits == FAST.retries + 1


def test_a_server_that_is_not_there_is_a_connection_error_naming_the_url():
    with socket.socket() as sock:  # a port nothing listens on once this block closes it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x?token=SECRET"
    with pytest.raises(
        DownloadError,
        match=rf"GET http://127\.0\.0\.1:{port}/x\?token=\*\*\* failed after 4 attempts: connection error",
    ):
        get_bytes(url, policy=FAST)


def test_policy_options_and_redaction():
    policy = policy_from_options({"retries": 2, "workers": 4, "other": 1}, progress=False)
    assert (policy.retries, policy.workers, policy.progress) == (2, 4, False)
    retry = DownloadPolicy().retry()  # 5 retries, the first wait 1 s, then doubling
    waits = []
    for _ in range(4):
        retry = retry.increment(method="GET", url="/x", error=ProtocolError("cut"))
        waits.append(retry.get_backoff_time())
    assert waits == [1.0, 2.0, 4.0, 8.0]
    short = policy.retry()  # the options' 2 retries: the third failure is the last
    for _ in range(2):
        short = short.increment(method="GET", url="/x", error=ProtocolError("cut"))
    with pytest.raises(MaxRetryError):
        short.increment(method="GET", url="/x", error=ProtocolError("cut"))
    asked = HTTPResponse(status=429, headers={"Retry-After": "10000"})
    assert retry.get_retry_after(asked) == policy.retry_after_max_s
    assert (retry.parse_retry_after("0.2"), retry.parse_retry_after("soon")) == (0.2, 0.0)  # 0: the backoff
    assert redact("http://h/x?a=1&api_key=SECRET&b=2") == "http://h/x?a=1&api_key=***&b=2"


def test_leftover_part_file_is_resumed_or_discarded(srv, tmp_path):
    route = srv.add("/f.bin", PAYLOAD)
    (tmp_path / "a.bin.part").write_bytes(PAYLOAD)  # a previous run got every byte, then died
    download_file(srv.url("/f.bin"), tmp_path / "a.bin", policy=FAST)
    assert (route.hits, route.bytes_sent) == (1, 0)  # a 416 told us it was already whole
    (tmp_path / "b.bin.part").write_bytes(PAYLOAD[:5000])  # an interrupted earlier run
    download_file(srv.url("/f.bin"), tmp_path / "b.bin", policy=FAST)
    assert route.range_headers[-1] == "bytes=5000-"
    (tmp_path / "c.bin.part").write_bytes(PAYLOAD + b"garbage")  # not this file at all
    download_file(srv.url("/f.bin"), tmp_path / "c.bin", policy=FAST)
    for name in ("a.bin", "b.bin", "c.bin"):
        assert (tmp_path / name).read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["a.bin", "b.bin", "c.bin"]
