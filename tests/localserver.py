"""A real threaded HTTP server on 127.0.0.1 with per-route misbehaviour, for tests and benchmarks.

Each route serves fixed bytes or a function of the request, and can be told to misbehave the way
remote services do: answer the first N requests with a 500 (or a 429 with ``Retry-After``), cut the
connection mid-body, send fewer bytes than its ``Content-Length``, add latency. It honours single
``Range`` requests (so GDAL's ``/vsicurl/`` and the downloader's resume work) and counts requests,
``Range`` headers and body bytes sent, so a test can check *how* a client fetched, not only what.

    with LocalServer() as srv:
        route = srv.add("/a.bin", b"...", fail_times=1)
        download_file(srv.url("/a.bin"), tmp_path / "a.bin")
        assert route.hits == 2
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """What a dynamic route sees: the path, the parsed query (last value wins) and the headers."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


# A dynamic body: bytes (200) or (status, bytes, content type).
Body = bytes | Callable[[Request], "bytes | tuple[int, bytes, str]"]


@dataclass
class Route:
    """One path's content, misbehaviours and counters."""

    body: Body
    content_type: str = "application/octet-stream"
    ranges: bool = True  # honour Range requests with 206
    latency_s: float = 0.0  # added before every response
    fail_times: int = 0  # the first N requests get fail_status
    fail_status: int = 500
    retry_after: str | None = None  # Retry-After header sent with those failures
    cut_times: int = 0  # the next N body responses drop the connection after cut_at bytes
    cut_at: int | None = None  # default: half the body
    short_times: int = 0  # the next N body responses send half their Content-Length, then close
    headers: dict[str, str] = field(default_factory=dict)
    # counters
    hits: int = 0
    bytes_sent: int = 0
    range_headers: list[str | None] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid 40 ms ACK stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _send(self, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        parts = urlsplit(self.path)
        route = self.server.routes.get(parts.path)
        if route is None:
            self._send(404, {"Content-Length": "9", "Content-Type": "text/plain"}, b"not found", head)
            return
        range_header = self.headers.get("Range")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with route._lock:
            route.hits += 1
            n = route.hits
            route.range_headers.append(range_header)
            route.queries.append(query)
            route.times.append(time.monotonic())
        if route.latency_s:
            time.sleep(route.latency_s)
        if n <= route.fail_times:
            msg = f"failure {n}".encode()
            hdr = {"Content-Length": str(len(msg)), "Content-Type": "text/plain"}
            if route.retry_after is not None:
                hdr["Retry-After"] = route.retry_after
            self._send(route.fail_status, hdr, msg, head)
            return
        status, body, ctype = 200, b"", route.content_type
        if callable(route.body):
            out = route.body(Request(parts.path, query, dict(self.headers.items())))
            if isinstance(out, tuple):
                status, body, ctype = out
            else:
                body = out
        else:
            body = route.body
        headers = {"Content-Type": ctype, **route.headers}
        if route.ranges:
            headers["Accept-Ranges"] = "bytes"
        total = len(body)
        if status == 200 and route.ranges and range_header:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header.strip())
            if m is None:
                self._send(416, {"Content-Length": "0", "Content-Range": f"bytes */{total}"}, b"", head)
                return
            start_s, end_s = m.groups()
            if start_s == "":
                start, end = max(total - int(end_s), 0), total - 1
            else:
                start, end = int(start_s), min(int(end_s) if end_s else total - 1, total - 1)
            if start >= total or start > end:
                self._send(416, {"Content-Length": "0", "Content-Range": f"bytes */{total}"}, b"", head)
                return
            body = body[start : end + 1]
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        headers["Content-Length"] = str(len(body))
        sent = body
        cut = False
        body_n = n - route.fail_times
        if not head and body_n <= route.cut_times:
            sent, cut = body[: route.cut_at if route.cut_at is not None else len(body) // 2], True
        elif not head and body_n <= route.cut_times + route.short_times:
            sent, cut = body[: len(body) // 2], True
        # Count before writing: the client can finish reading (and a test assert) before this thread
        # runs another line after the write.
        with route._lock:
            route.bytes_sent += 0 if head else len(sent)
        self._send(status, headers, sent, head)
        if cut:
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    routes: dict[str, Route]

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping idle keep-alive connections is normal here; say nothing."""


class LocalServer:
    """Context manager running the server on a free port of 127.0.0.1 in a background thread."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = {}
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url + path

    def add(self, path: str, body: Body, **behaviour: Any) -> Route:
        """Serve ``body`` at ``path`` with the given :class:`Route` behaviours; return the route."""
        route = Route(body=body, **behaviour)
        self._server.routes[path] = route
        return route

    def add_file(self, path: str, file: Path, **behaviour: Any) -> Route:
        """Serve the bytes of a local file at ``path``."""
        return self.add(path, Path(file).read_bytes(), **behaviour)

    @property
    def routes(self) -> dict[str, Route]:
        return self._server.routes

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
