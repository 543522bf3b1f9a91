"""The one resilient HTTP downloader every live source uses.

Remote services fail in a handful of ordinary ways: a 5xx or a 429 for a while, a connection that
drops mid-body, a body shorter than its ``Content-Length``. One retry policy covers them: urllib3's
:class:`~urllib3.util.Retry`, built once from :class:`DownloadPolicy` (:meth:`DownloadPolicy.retry`),
retries statuses and connection errors inside every request of the session (exponential backoff,
honouring ``Retry-After``); a body that breaks off after its headers is counted and spaced by the
same kind of ``Retry`` and resumed with an HTTP ``Range`` request into a ``.part`` file. That file
is renamed to its final name only after its size (and checksum, where the caller knows one) checks
out. So a final name always holds a complete file, and a re-run skips it. After the last retry it
raises :class:`DownloadError` naming the URL and status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.exceptions import InvalidHeader, MaxRetryError, ProtocolError
from urllib3.util import Retry

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


class _Retry(Retry):
    """urllib3's Retry with this module's schedule: the first wait is ``backoff_factor``, then doubles.

    (urllib3's own retries the first time at once.) A ``Retry-After`` is honoured on every status
    retried, not only 413/429/503, and wins over the backoff up to ``retry_after_max``.
    """

    RETRY_AFTER_STATUS_CODES = RETRY_STATUSES

    def get_backoff_time(self) -> float:
        errors = len(self.history)
        return 0.0 if errors == 0 else min(self.backoff_factor * 2 ** (errors - 1), self.backoff_max)

    def parse_retry_after(self, retry_after: str) -> float:
        """Seconds (fractions too: some services send ``0.2``) or an HTTP date; 0 (so the backoff) if
        neither, where urllib3 would fail the whole request over one malformed header."""
        try:
            return min(max(float(retry_after), 0.0), self.retry_after_max)
        except ValueError:
            pass
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            return 0.0


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

    def retry(self) -> Retry:
        """The one retry policy: statuses, connection errors and broken bodies all count against it."""
        return _Retry(
            total=self.retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods={"GET"},
            backoff_factor=self.backoff_s,
            backoff_max=self.backoff_max_s,
            respect_retry_after_header=True,
            retry_after_max=self.retry_after_max_s,
            raise_on_status=False,  # the last 5xx comes back as a response, so its status can be named
        )


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
    """A session that retries by ``policy.retry()``, with a connection pool that fits its parallelism."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(policy.workers, 4), max_retries=policy.retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def _thread_session(policy: DownloadPolicy) -> requests.Session:
    """One session per thread and policy (the policy's retries live in the session's adapter)."""
    sessions = _local.__dict__.setdefault("sessions", {})
    if policy not in sessions:
        sessions[policy] = make_session(policy)
    return sessions[policy]


def _get(session: requests.Session, url: str, policy: DownloadPolicy, **kwargs: Any) -> requests.Response:
    """One GET whose statuses and connection errors the session's Retry has already retried.

    A response whose status is still a retried one, or a connection error, is final here: a
    DownloadError naming the URL, the attempts and the status or cause. Other statuses come back.
    """
    shown = redact(url)
    try:
        resp = session.get(url, timeout=policy.timeout_s, **kwargs)
    except requests.RequestException as exc:
        why = exc.args[0].reason if exc.args and isinstance(exc.args[0], MaxRetryError) else exc
        raise DownloadError(
            f"GET {shown} failed after {policy.retries + 1} attempts: connection error ({type(why).__name__})"
        ) from None
    if resp.status_code in RETRY_STATUSES:
        history = getattr(getattr(resp.raw, "retries", None), "history", ())
        resp.close()
        raise DownloadError(f"GET {shown} failed after {len(history) + 1} attempts: {_status_text(resp)}")
    return resp


def _until_whole(policy: DownloadPolicy, url: str, attempt: Callable[[], str]) -> None:
    """Repeat ``attempt`` (which returns "" when done, else what went wrong) on the policy's Retry.

    For what the session's own retries cannot see: a body cut off or short after good headers.
    """
    retry, attempts = policy.retry(), 1
    while last := attempt():
        try:
            retry = retry.increment(method="GET", url=url, error=ProtocolError(last))
        except MaxRetryError:
            raise DownloadError(f"GET {redact(url)} failed after {attempts} attempts: {last}") from None
        log.info("%s: %s; retry %d/%d in %.2f s", redact(url), last, attempts, policy.retries,
                 retry.get_backoff_time())  # fmt: skip
        retry.sleep()
        attempts += 1


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
) -> str:
    """One GET appending to ``part``: "" once ``part`` is complete, else what went wrong."""
    offset = part.stat().st_size if part.exists() else 0
    # identity encoding: byte offsets must be offsets into the file itself, not into a gzip stream
    headers = {"Accept-Encoding": "identity"} | ({"Range": f"bytes={offset}-"} if offset else {})
    with _get(session, url, policy, params=params, headers=headers, stream=True) as resp:
        if resp.status_code == 416 and offset:  # is our .part already the whole file?
            m = re.match(r"bytes \*/(\d+)", resp.headers.get("Content-Range", ""))
            whole = size if size is not None else (int(m.group(1)) if m else None)
            if whole == offset:
                return ""
            part.unlink()
            return f"{_status_text(resp)} for a resume at byte {offset}"
        if resp.status_code not in (200, 206):
            raise DownloadError(f"GET {redact(resp.url)} failed: {_status_text(resp)} (not retried)")
        if resp.status_code == 200:  # a fresh body (or a server that ignored our Range)
            offset = 0
        expected = _total_size(resp, offset)
        try:
            with open(part, "ab" if offset else "wb") as fh:
                # read1 hands over whatever arrived, so a connection cut keeps every byte received
                while block := resp.raw.read1(policy.chunk_bytes):
                    fh.write(block)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            return f"connection error after {part.stat().st_size} bytes ({type(exc).__name__})"
    got = part.stat().st_size
    want = size if size is not None else expected
    if want is not None and got != want:
        if got > want:
            part.unlink()
        return f"received {got} bytes, expected {want}"
    return ""


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
    and removes the ``.part`` file unless ``policy.keep_partial``. A ``session`` passed in should
    come from :func:`make_session` (its adapter holds the retries).
    """
    policy = policy or DownloadPolicy()
    dest = Path(dest)
    if is_complete(DownloadItem(url, dest, size, checksum)):
        return dest
    session = session or _thread_session(policy)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        _until_whole(policy, url, lambda: _attempt(session, url, part, policy, size, params))
        if checksum:
            try:
                _verify_checksum(part, checksum)
            except ValueError as exc:
                part.unlink()
                raise DownloadError(f"GET {redact(url)}: {exc}") from None
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
    """GET a small response (an API page, an index label) into memory with the same retry policy."""
    policy = policy or DownloadPolicy()
    session = session or _thread_session(policy)
    body: list[bytes] = []

    def attempt() -> str:
        resp = _get(session, url, policy, params=params)  # statuses and connection errors retried there
        if resp.status_code != 200:
            raise DownloadError(f"GET {redact(resp.url)} failed: {_status_text(resp)} (not retried)")
        try:
            body.append(resp.content)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            return f"connection error ({type(exc).__name__})"
        return ""

    _until_whole(policy, url, attempt)
    return body[-1]


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
