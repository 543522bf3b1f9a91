"""The one thin layer that talks to Google Earth Engine (``earthengine-api``, imported lazily).

Everything else in the Earth Engine adapter is plain HTTP and raster code: this module only turns
credentials into an initialised session and a chunk's pixel grid into a ``getDownloadURL`` URL (a
plain HTTP GET that the resilient downloader fetches). Keeping it this small keeps the untestable-
offline surface small, and lets the adapter import (and validate config) without the package.

Credentials are a service-account key (option ``service_account_key`` or the environment variable
``EARTHENGINE_SERVICE_ACCOUNT_KEY``) given as a file path or as the key file's JSON content itself (a
common CI habit), or, when neither is set, the persistent credentials left by ``earthengine
authenticate``. The key's content is read by Google's library only; it never appears in a log line, an
error message, a repr or an output file: a value that is not a usable path is never echoed back.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from areograph.sources import SourceError

log = logging.getLogger(__name__)

ENV_KEY = "EARTHENGINE_SERVICE_ACCOUNT_KEY"
ENV_PROJECT = "EARTHENGINE_PROJECT"
INSTALL_HINT = "pip install earthengine-api==1.7.50"
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)


class UrlProvider(Protocol):
    """What the adapter needs from Earth Engine: a GeoTIFF download URL for one exact pixel grid."""

    def download_url(
        self,
        asset: str,
        band: str,
        crs: str,
        transform: Sequence[float],
        width: int,
        height: int,
        nodata: int,
    ) -> str:
        """URL of an int16 GeoTIFF of ``band`` on exactly this grid, masked pixels set to ``nodata``."""
        ...


@dataclass(frozen=True)
class EECredentials:
    """Where credentials come from: a key file path or inline key content, and the Cloud project."""

    key_path: Path | None
    project: str | None
    origin: str  # which option / variable named them, for messages
    key_data: str | None = field(default=None, repr=False)  # inline JSON key: never shown

    def describe(self) -> str:
        """A loggable description: the path and where it was configured, nothing secret."""
        if self.key_data is not None:
            return f"the service-account key given inline in {self.origin} (content not shown)"
        if self.key_path is None:
            return "the persistent credentials of `earthengine authenticate`"
        return f"the service-account key file {self.key_path} (from {self.origin})"


def _inline_key(value: str) -> bool:
    """True when ``value`` is key content rather than a path (JSON, a PEM block, or not path-like)."""
    text = value.strip()
    return text.startswith("{") or "PRIVATE KEY" in text or "\n" in text or len(text) > 1024


def resolve_credentials(
    options: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> EECredentials:
    """Credentials named in config (``service_account_key``, ``project``) or the environment."""
    environ = os.environ if environ is None else environ
    project = options.get("project") or environ.get(ENV_PROJECT) or None
    if options.get("service_account_key"):
        key, origin = options["service_account_key"], "options.service_account_key"
    elif environ.get(ENV_KEY):
        key, origin = environ[ENV_KEY], f"${ENV_KEY}"
    else:
        return EECredentials(None, project, "earthengine authenticate")
    if _inline_key(str(key)):
        return EECredentials(None, project, origin, key_data=str(key))
    try:
        path = Path(key).expanduser()
        found = path.is_file()
    except (OSError, ValueError):  # e.g. "File name too long", which would echo the value
        raise SourceError(
            f"{origin} is neither a key file path nor a JSON service-account key (value not shown)"
        ) from None
    if not found:
        raise SourceError(f"{path}: Earth Engine service-account key file not found (named by {origin})")
    return EECredentials(path, project, origin)


def scrub(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with private-key blocks and the given secret strings removed."""
    text = _PEM.sub("<private key removed>", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<secret removed>")
    return text


def import_ee() -> Any:
    """The ``ee`` module, or a SourceError telling how to install it."""
    try:
        import ee
    except ImportError:
        raise SourceError(
            f"the 'earthengine' source needs the earthengine-api package: {INSTALL_HINT}"
        ) from None
    return ee


class EarthEngineClient:
    """An initialised Earth Engine session producing ``getDownloadURL`` URLs (the real UrlProvider)."""

    def __init__(self, credentials: EECredentials) -> None:
        self.credentials = credentials
        self._ee: Any = None

    def __repr__(self) -> str:
        return f"EarthEngineClient({self.credentials.describe()})"

    def initialize(self) -> Any:
        """Authenticate once; errors name the credential source, never the key content."""
        if self._ee is not None:
            return self._ee
        ee = import_ee()
        creds = self.credentials
        secrets: list[str] = []
        try:
            if creds.key_data is not None:
                secrets = [creds.key_data]
                try:
                    info = json.loads(creds.key_data)
                    if not isinstance(info, dict):
                        raise ValueError("not an object")
                except ValueError:
                    raise SourceError(
                        f"{creds.origin}: not a JSON service-account key (content not shown); "
                        "give the key file's path or its whole JSON content"
                    ) from None
                secrets += [str(info.get("private_key", "")), str(info.get("private_key_id", ""))]
                account = ee.ServiceAccountCredentials(info.get("client_email"), key_data=creds.key_data)
                ee.Initialize(account, project=creds.project or info.get("project_id"))
            elif creds.key_path is not None:
                try:
                    info = json.loads(creds.key_path.read_text())
                except (ValueError, UnicodeDecodeError):
                    raise SourceError(f"{creds.key_path}: not a JSON service-account key file") from None
                secrets = [str(info.get("private_key", "")), str(info.get("private_key_id", ""))]
                account = ee.ServiceAccountCredentials(info.get("client_email"), key_file=str(creds.key_path))
                ee.Initialize(account, project=creds.project or info.get("project_id"))
            else:
                ee.Initialize(project=creds.project)
        except SourceError:
            raise
        except Exception as exc:
            message = scrub(f"{type(exc).__name__}: {exc}", secrets)
            raise SourceError(
                f"Earth Engine authentication with {creds.describe()} failed: {message}"
            ) from None
        log.info("Earth Engine initialised with %s", creds.describe())
        self._ee = ee
        return ee

    def download_url(
        self,
        asset: str,
        band: str,
        crs: str,
        transform: Sequence[float],
        width: int,
        height: int,
        nodata: int,
    ) -> str:
        """URL of one int16 GeoTIFF chunk on exactly this grid, masked pixels set to ``nodata``."""
        ee = self.initialize()
        image = ee.Image(asset).select([band]).unmask(nodata, False).toInt16()
        params = {
            "format": "GEO_TIFF",
            "crs": crs,
            "crs_transform": [float(v) for v in transform],
            "dimensions": [int(width), int(height)],
        }
        try:
            return image.getDownloadURL(params)
        except Exception as exc:
            raise SourceError(
                f"Earth Engine getDownloadURL for {asset}/{band} ({width}x{height} px) "
                f"failed: {scrub(str(exc))}"
            ) from None
