"""A map viewer folder (``results/viewer/<region>/``): one page, its tile pyramids and vendored Leaflet.

``index.html`` is what a person opens and what the Snakemake report links (``htmlindex``); the page
finds ``tiles/<layer>/{z}/{x}/{y}.png`` and ``leaflet/`` beside it by relative URL, so the folder
works copied anywhere, from ``file://`` or any static server (render/viewer.py writes it; its
template render/viewer.html spells the two folder names in its URLs).
"""

from __future__ import annotations

from pathlib import Path

VIEWER_PAGE = "index.html"
TILES_DIR = "tiles"
LEAFLET_DIR = "leaflet"


def viewer_page(folder: Path | str) -> Path:
    """The page of a viewer folder."""
    return Path(folder) / VIEWER_PAGE
