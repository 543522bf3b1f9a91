"""Colour rover frames from NASA's raw-image web services (Curiosity Mastcam, Perseverance Mastcam-Z).

Both services are paged JSON feeds behind mars.nasa.gov's raw-image galleries. We query them by
camera and sol range, keep full-resolution frames only (no thumbnails, subframes or downsampled
copies), download the images with the resilient downloader and deliver them with a MANIFEST.csv
(``file,camera,sol,origin``) in the same form as the offline sample.

The older api.nasa.gov ``mars-photos`` API was retired in 2025; :class:`MarsPhotosSource` keeps its
config name only to fail with that message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from areograph.download import (
    POLICY_OPTIONS,
    DownloadItem,
    DownloadPolicy,
    download_many,
    get_json,
    policy_from_options,
    publish_files,
    redact,
)
from areograph.sources import Source, SourceError

log = logging.getLogger(__name__)

CURIOSITY_URL = "https://mars.nasa.gov/api/v1/raw_image_items/"
PERSEVERANCE_URL = "https://mars.nasa.gov/rss/api/"
MISSIONS = ("curiosity", "perseverance")
DEFAULT_CAMERAS = {"curiosity": ["MAST_LEFT", "MAST_RIGHT"], "perseverance": ["MCZ_LEFT", "MCZ_RIGHT"]}
CAMERA_NAMES = {  # the names the sample's MANIFEST.csv uses
    "MAST_LEFT": "MSL Mastcam-Left (M-34)",
    "MAST_RIGHT": "MSL Mastcam-Right (M-100)",
    "MCZ_LEFT": "M2020 Mastcam-Z Left",
    "MCZ_RIGHT": "M2020 Mastcam-Z Right",
}
MANIFEST_HEADER = ("file", "camera", "sol", "origin")
MAX_PAGES = 1000


@dataclass(frozen=True)
class Frame:
    """One image the feeds list: where to get it and what the manifest says about it."""

    url: str
    instrument: str
    sol: int
    mission: str

    @property
    def filename(self) -> str:
        """The local file name: the URL's last path component, as the service names the image."""
        return PurePosixPath(unquote(urlsplit(self.url).path)).name

    def manifest_row(self) -> tuple[str, str, int, str]:
        """(file, camera, sol, origin) with the camera named as in the sample's manifest."""
        prefix = "MSL" if self.mission == "curiosity" else "M2020"
        camera = CAMERA_NAMES.get(self.instrument, f"{prefix} {self.instrument}")
        return self.filename, camera, self.sol, redact(self.url)


def _field(record: Mapping[str, Any], *keys: str) -> Any:
    value: Any = record
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(".".join(keys))
        value = value[key]
    return value


def curiosity_query(
    cameras: list[str], sol_min: int, sol_max: int, per_page: int, page: int
) -> dict[str, str]:
    """Query parameters of the Curiosity raw_image_items API (as its web gallery sends them)."""
    return {
        "order": "sol desc,instrument_sort asc,sample_type_sort asc,date_taken desc",
        "per_page": str(per_page),
        "page": str(page),
        "condition_1": "msl:mission",
        "condition_2": f"{sol_min}:sol:gte",
        "condition_3": f"{sol_max}:sol:lte",
        "search": "|".join(cameras),
        "extended": "sample_type::full,",
    }


def perseverance_query(
    cameras: list[str], sol_min: int, sol_max: int, per_page: int, page: int
) -> dict[str, str]:
    """Query parameters of the Perseverance raw-images JSON feed."""
    return {
        "feed": "raw_images",
        "category": "mars2020",
        "feedtype": "json",
        "ver": "1.2",
        "num": str(per_page),
        "page": str(page),
        "order": "sol desc",
        "search": "|".join(cameras),
        "condition_2": f"{sol_min}:sol:gte",
        "condition_3": f"{sol_max}:sol:lte",
        "extended": "sample_type::full,",
    }


def curiosity_frames(page: Mapping[str, Any]) -> tuple[list[Frame], bool]:
    """Full-resolution frames of one Curiosity page, and whether the API says more pages follow."""
    frames = []
    for item in page["items"]:
        sample = str(item.get("extended", {}).get("sample_type", "")).lower()
        if item.get("is_thumbnail") or sample != "full":
            continue
        url = item.get("https_url") or item["url"]
        frames.append(Frame(url, str(item["instrument"]), int(item["sol"]), "curiosity"))
    return frames, bool(page.get("more"))


def perseverance_frames(page: Mapping[str, Any], colour_only: bool) -> list[Frame]:
    """Full-resolution frames of one Perseverance page (colour: Mastcam-Z filter position 0)."""
    frames = []
    for image in page["images"]:
        if str(image.get("sample_type", "")).lower() != "full":
            continue
        imageid = str(image["imageid"])
        if colour_only and imageid[:2] in ("ZL", "ZR") and imageid[2:3] != "0":
            continue  # narrow-band greyscale filters 1-7
        frames.append(
            Frame(
                str(_field(image, "image_files", "full_res")),
                str(_field(image, "camera", "instrument")),
                int(image["sol"]),
                "perseverance",
            )
        )
    return frames


class NasaRawSource(Source):
    """Curiosity and Perseverance raw colour frames for ``rover_colour``."""

    name: ClassVar[str] = "nasa_raw"
    inputs: ClassVar[frozenset[str]] = frozenset({"rover_colour"})
    options_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "missions": {
                "type": "array",
                "items": {"enum": list(MISSIONS)},
                "minItems": 1,
                "uniqueItems": True,
            },
            "curiosity_url": {"type": "string", "pattern": "^https?://"},
            "perseverance_url": {"type": "string", "pattern": "^https?://"},
            "curiosity_cameras": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "perseverance_cameras": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "sol_min": {"type": "integer", "minimum": 0},
            "sol_max": {"type": "integer", "minimum": 0},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 200},
            "max_images": {"type": "integer", "minimum": 1},
            "colour_only": {"type": "boolean"},
            **POLICY_OPTIONS,
        },
    }

    def _pages(self, mission: str, policy: DownloadPolicy) -> Iterator[list[Frame]]:
        opts = self.options
        cameras = list(opts.get(f"{mission}_cameras", DEFAULT_CAMERAS[mission]))
        sol_min, sol_max = int(opts.get("sol_min", 0)), int(opts.get("sol_max", 100))
        per_page = int(opts.get("per_page", 50))
        url = opts.get(f"{mission}_url", CURIOSITY_URL if mission == "curiosity" else PERSEVERANCE_URL)
        for page_no in range(MAX_PAGES):
            query = (curiosity_query if mission == "curiosity" else perseverance_query)(
                cameras, sol_min, sol_max, per_page, page_no
            )
            page = get_json(url, params=query, policy=policy)
            try:
                if mission == "curiosity":
                    frames, more = curiosity_frames(page)
                    empty = not page["items"]
                else:
                    frames = perseverance_frames(page, bool(opts.get("colour_only", True)))
                    empty = not page["images"]
                    more = (page_no + 1) * per_page < int(page.get("total_results", 0))
            except (KeyError, TypeError, ValueError) as exc:
                raise SourceError(
                    f"{redact(url)} page {page_no}: unexpected response layout ({exc!r})"
                ) from None
            keep = [f for f in frames if f.instrument in cameras and sol_min <= f.sol <= sol_max]
            yield keep
            if empty or not more:
                return

    def list_frames(self, policy: DownloadPolicy) -> list[Frame]:
        """Every selected frame of every configured mission, capped at ``max_images`` per mission."""
        cap = int(self.options.get("max_images", 200))
        frames: dict[str, Frame] = {}
        for mission in self.options.get("missions", list(MISSIONS)):
            count = 0
            for page in self._pages(mission, policy):
                for frame in page:
                    if count < cap and frame.filename not in frames:
                        frames[frame.filename] = frame
                        count += 1
                if count >= cap:
                    break
            log.info("%s: %d full-resolution frame(s) selected", mission, count)
        return sorted(frames.values(), key=lambda f: (f.mission, f.sol, f.filename))

    def fetch_collection(self, input_name: str, out_dir: Path) -> Path:
        """Query the feeds, download the frames (resuming, skipping complete ones), write MANIFEST.csv."""
        if input_name not in self.inputs:
            return super().fetch_collection(input_name, out_dir)
        out_dir = Path(out_dir)
        policy = policy_from_options(self.options)
        frames = self.list_frames(policy)
        if not frames:
            o = self.options
            raise SourceError(
                f"no full-resolution frames for missions {o.get('missions', list(MISSIONS))} in sols "
                f"{o.get('sol_min', 0)}..{o.get('sol_max', 100)}: widen sol_min/sol_max or the cameras"
            )
        cache = out_dir.parent / f".{out_dir.name}.download"
        items = [DownloadItem(f.url, cache / f.filename) for f in frames]
        download_many(items, policy=policy, desc="raw images")
        return publish_files(
            [it.dest for it in items], out_dir, MANIFEST_HEADER, [f.manifest_row() for f in frames]
        )


class MarsPhotosSource(Source):
    """The retired api.nasa.gov mars-photos API: selecting it fails with a pointer to ``nasa_raw``."""

    name: ClassVar[str] = "mars_photos"
    inputs: ClassVar[frozenset[str]] = frozenset({"rover_colour"})
    MESSAGE: ClassVar[str] = (
        "the api.nasa.gov mars-photos API (adapter 'mars_photos') was retired in 2025 and no longer "
        "serves images; use adapter 'nasa_raw' (mars.nasa.gov raw-image APIs) for rover_colour"
    )

    def fetch_collection(self, input_name: str, out_dir: Path) -> Path:
        """Always fails: the service is gone."""
        raise SourceError(self.MESSAGE)
