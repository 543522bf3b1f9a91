"""Headless Chromium (Debian's ``chromium``) driven by Playwright, for the report and viewer tests.

Playwright only drives the system browser (``executable_path``): its own browser download needs a CDN
that the CI machines cannot reach. Where ``chromium`` is missing it is installed with apt-get when
installing is allowed (CI=true or AREOGRAPH_INSTALL=1, as running as root), otherwise
:class:`infra.Unavailable` says why, which the tests turn into a skip.

    with chromium() as browser, serve(folder) as base:
        visit = open_page(browser, f"{base}/index.html", tmp_path / "shot.png")
        assert visit.problems == []

Run as a script to take the README screenshot: ``python tests/browser.py FOLDER PAGE OUT.jpg [JS]``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from infra import Unavailable, install_allowed
from PIL import Image

VIEWPORT = {"width": 1000, "height": 700}


def chromium_path() -> str:
    """The system Chromium, installed with apt-get first where that is allowed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if not install_allowed():
        raise Unavailable("chromium is not installed; `apt-get install chromium` or set CI=true")
    if os.geteuid() != 0:
        raise Unavailable("chromium is not installed and installing it needs root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            raise Unavailable(f"{' '.join(cmd)} failed")
    found = shutil.which("chromium")
    if not found:
        raise Unavailable("apt-get installed chromium but it is not on PATH")
    return found


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser (a Playwright ``Browser``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # the dev extra has it; a bare venv may not
        raise Unavailable(f"playwright is not installed ({exc}); pip install -e '.[dev]'") from exc
    path = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        # Chromium asks every server for /favicon.ico and logs a console error on a 404; Snakemake's
        # report declares no icon, so answer "no content" as a site without one would.
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class Visit:
    """What loading one page produced: console errors, failed requests, HTTP errors and a screenshot."""

    url: str
    screenshot: Path
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.failed_requests


def open_page(
    browser: object, url: str, screenshot: Path, click: str | None = None, script: str | None = None
) -> Visit:
    """Load ``url`` until the network is idle (then click ``click``, run the JS ``script``), screenshot it.

    Any console error, page error, failed request or HTTP status >= 400 is recorded.
    """
    visit = Visit(url, screenshot)
    page = browser.new_page(viewport=VIEWPORT)
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: visit.console_errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: visit.failed_requests.append(f"failed: {r.url} ({r.failure})"))
    page.on("request", lambda r: visit.requests.append(r.url))

    def status(response: object) -> None:
        if response.status >= 400:
            visit.failed_requests.append(f"HTTP {response.status}: {response.url}")

    page.on("response", status)
    page.goto(url, wait_until="networkidle")
    if click:
        page.click(click)
        page.wait_for_load_state("networkidle")
    if script:
        page.evaluate(script)
        page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # Leaflet's tile fade-in
    page.screenshot(path=str(screenshot))
    page.close()
    return visit


def blankness(screenshot: Path) -> tuple[float, int]:
    """(pixel standard deviation, number of distinct colours) of a screenshot: both tiny when blank."""
    with Image.open(screenshot) as img:
        rgb = np.asarray(img.convert("RGB"))
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    return float(rgb.std()), len(colours)


def assert_not_blank(screenshot: Path, min_std: float = 10.0, min_colours: int = 200) -> None:
    std, colours = blankness(screenshot)
    assert std >= min_std and colours >= min_colours, (
        f"{screenshot} looks blank: std {std:.1f}, {colours} colours"
    )


if __name__ == "__main__":
    folder, page, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    js = sys.argv[4] if len(sys.argv) > 4 else None
    with chromium() as b, serve(folder) as base:
        shot = out.with_suffix(".png")
        found = open_page(b, f"{base}/{page}", shot, script=js)
        if found.problems:
            sys.exit("\n".join(found.problems))
        Image.open(shot).convert("RGB").save(out, quality=80, optimize=True)
        shot.unlink()
        print(out, out.stat().st_size, "bytes")
