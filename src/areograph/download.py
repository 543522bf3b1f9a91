"""The one resilient HTTP downloader every live source uses.

Remote services fail in a handful of ordinary ways: a 5xx or a 429 for a while, a connection that
drops mid-body, a body shorter than its ``Content-Length``. This module retries those with
exponential backoff (honouring ``Retry-After``), resumes an interrupted body with an HTTP ``Range``
request into a ``.part`` file, and renames that file to its final name only after its size (and
checksum, where the caller knows one) checks out. So a final name always holds a complete file, and
a re-run skips it. After the last retry it raises :class:`DownloadError` naming the URL and status.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tqdm import tqdm

from areograph.artefacts.collection import write_manifest
from areograph.artefacts.types import SourceError
from areograph.atomic import atomic_dir

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "areograph/0.1 (+https://github.com/; resilient downloader)"
_SECRET_QUERY = re.compile(r"(?i)([?&](?:key|api_key|token|access_token|signature|sig)=)[^&]+")

# JSON-schema properties shared by every live adapter's ``options`` (merged into their schemas).
POLICY_OPTIONS: dict[str, Any] = {
    "retries": {"type": "integer", "minimum": 0, "maximum": 20},
    "backoff_s": {"type": "number", "minimum": 0},
    "timeout_s": {"type": "number", "exclusiveMinimum": 0},
    "workers": {"type": "integer", "minimum": 1, "maximum": 64},
}


class DownloadError(SourceError):
    """A download failed after its last retry; the message names the URL and the status or cause.

    A SourceError, so callers of any source catch one type whatever layer failed.
    """


@dataclass(frozen=True)
class DownloadPolicy:
    """How hard to try: retries, backoff, timeouts and parallelism (tests use tiny backoffs)."""

    retries: int = 5
    backoff_s: float = 1.0  # first wait; doubles each retry
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 300.0  # a longer Retry-After is clamped to this
    timeout_s: float = 60.0  # connect and read timeout of one request
    workers: int = 8
    chunk_bytes: int = 1 << 16
    progress: bool = True
    keep_partial: bool = False  # keep a failed download's .part file for a later resume

    def wait_s(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``attempt`` (0-based); Retry-After wins if given."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max_s)
        return min(self.backoff_s * (2**attempt), self.backoff_max_s)


def policy_from_options(options: Mapping[str, Any], **overrides: Any) -> DownloadPolicy:
    """Build a policy from an adapter's ``options`` (keys of :data:`POLICY_OPTIONS`)."""
    keys = {"retries", "backoff_s", "timeout_s", "workers"}
    values = {k: options[k] for k in keys if k in options} | overrides
    return DownloadPolicy(**values)


@dataclass(frozen=True)
class DownloadItem:
    """One file to fetch: where from, where to, and what a complete copy looks like (if known).

    ``checksum`` is ``"<algorithm>:<hex digest>"`` with any :mod:`hashlib` algorithm, e.g. ``md5:...``.
    """

    url: str
    dest: Path
    size: int | None = None
    checksum: str | None = None
    params: Mapping[str, Any] | None = None


def redact(url: str) -> str:
    """The URL with credential-like query values masked, for logs and error messages."""
    return _SECRET_QUERY.sub(r"\1***", url)


_local = threading.local()


def make_session(policy: DownloadPolicy) -> requests.Session:
    """A session whose connection pool fits the policy's parallelism (retries are done by us)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(policy.workers, 4), max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _thread_session(policy: DownloadPolicy) -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = make_session(policy)
    return session


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return when.timestamp() - time.time() if when else None


def _status_text(resp: requests.Response) -> str:
    return f"HTTP {resp.status_code} {resp.reason or ''}".strip()


def _verify_checksum(path: Path, checksum: str) -> None:
    algo, _, expected = checksum.partition(":")
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest().lower() != expected.lower():
        raise ValueError(f"{algo} checksum {h.hexdigest()} does not match the expected {expected}")


def is_complete(item: DownloadItem) -> bool:
    """Whether ``item.dest`` already holds the complete file (so a re-run can skip it)."""
    if not item.dest.is_file():
        return False
    if item.size is not None and item.dest.stat().st_size != item.size:
        return False
    if item.checksum:
        try:
            _verify_checksum(item.dest, item.checksum)
        except ValueError:
            return False
    return True


def _total_size(resp: requests.Response, offset: int) -> int | None:
    """Full size of the remote file from Content-Range (206) or Content-Length (200)."""
    if resp.status_code == 206:
        m = re.match(r"bytes \d+-\d+/(\d+)", resp.headers.get("Content-Range", ""))
        return int(m.group(1)) if m else None
    length = resp.headers.get("Content-Length")
    return int(length) + offset if length is not None and length.isdigit() else None


def _attempt(
    session: requests.Session,
    url: str,
    part: Path,
    policy: DownloadPolicy,
    size: int | None,
    params: Mapping[str, Any] | None,
) -> tuple[bool, str, float | None]:
    """One GET appending to ``part``: (complete?, what went wrong, Retry-After seconds)."""
    offset = part.stat().st_size if part.exists() else 0
    # identity encoding: byte offsets must be offsets into the file itself, not into a gzip stream
    headers = {"Accept-Encoding": "identity"} | ({"Range": f"bytes={offset}-"} if offset else {})
    expected: int | None = None
    try:
        with session.get(url, params=params, headers=headers, stream=True, timeout=policy.timeout_s) as resp:
            if resp.status_code == 416 and offset:  # is our .part already the whole file?
                m = re.match(r"bytes \*/(\d+)", resp.headers.get("Content-Range", ""))
                whole = size if size is not None else (int(m.group(1)) if m else None)
                if whole == offset:
                    return True, "", None
                part.unlink()
                return False, f"{_status_text(resp)} for a resume at byte {offset}", None
            if resp.status_code in RETRY_STATUSES:
                return False, _status_text(resp), _retry_after(resp)
            if resp.status_code not in (200, 206):
                raise DownloadError(f"GET {redact(resp.url)} failed: {_status_text(resp)} (not retried)")
            if resp.status_code == 200:  # a fresh body (or a server that ignored our Range)
                offset = 0
            expected = _total_size(resp, offset)
            with open(part, "ab" if offset else "wb") as fh:
                # read1 hands over whatever arrived, so a connection cut keeps every byte received
                while block := resp.raw.read1(policy.chunk_bytes):
                    fh.write(block)
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        got = part.stat().st_size if part.exists() else 0
        return False, f"connection error after {got} bytes ({type(exc).__name__})", None
    got = part.stat().st_size
    want = size if size is not None else expected
    if want is not None and got != want:
        if got > want:
            part.unlink()
        return False, f"received {got} bytes, expected {want}", None
    return True, "", None


def download_file(
    url: str,
    dest: str | Path,
    *,
    policy: DownloadPolicy | None = None,
    size: int | None = None,
    checksum: str | None = None,
    params: Mapping[str, Any] | None = None,
    session: requests.Session | None = None,
) -> Path:
    """Fetch ``url`` to ``dest`` resiliently; return ``dest``. Skips a ``dest`` that is complete.

    Bytes go to ``dest + '.part'``; a dropped connection resumes with ``Range`` from the bytes already
    there (restarting if the server ignores the range). The rename happens only once the size matches
    ``size`` / the server's declared length and ``checksum`` matches. Raises DownloadError otherwise,
    and removes the ``.part`` file unless ``policy.keep_partial``.
    """
    policy = policy or DownloadPolicy()
    dest = Path(dest)
    if is_complete(DownloadItem(url, dest, size, checksum)):
        return dest
    session = session or _thread_session(policy)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    shown = redact(url)
    try:
        for attempt in range(policy.retries + 1):
            done, last, retry_after = _attempt(session, url, part, policy, size, params)
            if done:
                break
            if attempt < policy.retries:
                wait = policy.wait_s(attempt, retry_after)
                log.info("%s: %s; retry %d/%d in %.2f s", shown, last, attempt + 1, policy.retries, wait)
                time.sleep(wait)
        else:
            raise DownloadError(f"GET {shown} failed after {policy.retries + 1} attempts: {last}")
        if checksum:
            try:
                _verify_checksum(part, checksum)
            except ValueError as exc:
                part.unlink()
                raise DownloadError(f"GET {shown}: {exc}") from None
        os.replace(part, dest)
    except BaseException:
        if part.exists() and not policy.keep_partial:
            part.unlink()
        raise
    return dest


def download_many(
    items: Sequence[DownloadItem],
    *,
    policy: DownloadPolicy | None = None,
    desc: str = "download",
) -> list[Path]:
    """Fetch every item with at most ``policy.workers`` requests in flight; return their paths.

    Complete files are skipped. All items are attempted even if some fail, so a re-run has less to
    do; then one DownloadError lists every failure (URL and status).
    """
    policy = policy or DownloadPolicy()
    todo = [it for it in items if not is_complete(it)]
    if len(todo) < len(items):
        log.info("%s: %d of %d files already complete, skipped", desc, len(items) - len(todo), len(items))
    failures: list[str] = []
    bar = tqdm(total=len(todo), desc=desc, unit="file", disable=None if policy.progress else True)
    with bar, ThreadPoolExecutor(max_workers=policy.workers) as pool:
        futures = {
            pool.submit(
                download_file,
                it.url,
                it.dest,
                policy=policy,
                size=it.size,
                checksum=it.checksum,
                params=it.params,
            ): it
            for it in todo
        }
        for fut in as_completed(futures):
            try:
                fut.result()
            except DownloadError as exc:
                failures.append(str(exc))
            bar.update(1)
    if failures:
        shown = "\n  ".join(failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        raise DownloadError(f"{len(failures)} of {len(items)} downloads failed:\n  {shown}{more}")
    return [it.dest for it in items]


def get_bytes(
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    policy: DownloadPolicy | None = None,
    session: requests.Session | None = None,
) -> bytes:
    """GET a small response (an API page, an index label) into memory with the same retry rules."""
    policy = policy or DownloadPolicy()
    session = session or _thread_session(policy)
    shown = redact(url)
    last = "no attempt made"
    for attempt in range(policy.retries + 1):
        wait = policy.wait_s(attempt)
        try:
            resp = session.get(url, params=params, timeout=policy.timeout_s)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            last = f"connection error: {type(exc).__name__}"
        else:
            if resp.status_code == 200:
                return resp.content
            last = _status_text(resp)
            if resp.status_code not in RETRY_STATUSES:
                raise DownloadError(f"GET {redact(resp.url)} failed: {last} (not retried)")
            wait = policy.wait_s(attempt, _retry_after(resp))
        if attempt < policy.retries:
            log.info("%s: %s, retry %d/%d in %.2f s", shown, last, attempt + 1, policy.retries, wait)
            time.sleep(wait)
    raise DownloadError(f"GET {shown} failed after {policy.retries + 1} attempts: {last}")


def get_json(
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    policy: DownloadPolicy | None = None,
    session: requests.Session | None = None,
) -> Any:
    """GET and parse a JSON API page; malformed JSON is a DownloadError naming the URL."""
    body = get_bytes(url, params=params, policy=policy, session=session)
    try:
        return json.loads(body)
    except ValueError as exc:
        query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
        raise DownloadError(f"GET {redact(url + query)}: malformed JSON response ({exc})") from None


def link_or_copy(src: Path, dst: Path) -> None:
    """Put ``src`` at ``dst`` as a hard link (no extra disk) or, across filesystems, a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def publish_files(
    files: Iterable[Path],
    out_dir: Path,
    manifest_header: Sequence[str],
    manifest_rows: Iterable[Sequence[Any]],
) -> Path:
    """Deliver downloaded files plus a MANIFEST.csv into ``out_dir`` in one atomic swap.

    The downloads stay in their cache folder, so a re-run after a failure skips what is complete.
    """
    with atomic_dir(out_dir) as tmp:
        for f in files:
            link_or_copy(f, tmp / f.name)
        write_manifest(tmp, manifest_header, manifest_rows)
    return out_dir
