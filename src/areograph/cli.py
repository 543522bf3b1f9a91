"""``areograph``: one-line commands for people who want a picture, not a workflow.

    areograph terraform --lon 137.8 --lat -5.4 --tiles 6     # one Mars region, shipped weights
    areograph colourise FRAME.IMG photo.jpg ...              # greyscale rover frames in colour

Both run the same package functions as the Snakemake rules (terraform.terraform_region,
colourise.colourise_files), read the same config.yaml (sources, tile size, render windows) and use
the weights it names; bad input ends with one line naming the file and the problem, exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from areograph.config import load_config, window_override

# The repository the package runs from (editable install): where config.yaml and weights/ live.
REPO_ROOT = Path(__file__).resolve().parents[2]


def _config(path: str | None) -> tuple[dict[str, Any], Path]:
    """(validated config, the folder its relative paths are relative to)."""
    if path is None:
        here = Path("config.yaml")
        path = str(here if here.is_file() else REPO_ROOT / "config.yaml")
    cfg_path = Path(path)
    if not cfg_path.is_file():
        raise ValueError(f"{cfg_path}: no such config file (pass --config)")
    config = load_config(cfg_path)
    return config, cfg_path.resolve().parent


def _weights(given: str | None, configured: str | None, base: Path, what: str) -> Path:
    """The weights file: --weights, else the config's, relative to the config's folder (or the repo)."""
    if given:
        path = Path(given)
    elif configured:
        path = Path(configured)
        if not path.is_absolute():
            path = next((b / path for b in (base, REPO_ROOT) if (b / path).is_file()), base / path)
    else:
        raise ValueError(f"the config names no shipped {what} weights; pass --weights")
    if not path.is_file():
        raise ValueError(f"{path}: {what} weights not found")
    return path


def _tiles(text: str) -> list[int]:
    """``6`` (square) or ``8x4`` (east-west x north-south) tiles."""
    try:
        parts = [int(v) for v in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected N or COLSxROWS, e.g. 6 or 8x4")
    return parts * (2 // len(parts))


def _region_name(lon: float, lat: float) -> str:
    """``mars_137.80E_5.40S``: a default name that says where the region is."""
    return f"mars_{abs(lon):.2f}{'E' if lon >= 0 else 'W'}_{abs(lat):.2f}{'N' if lat >= 0 else 'S'}"


def _terraform(args: argparse.Namespace) -> None:
    from areograph.terraform import terraform_region

    config, base = _config(args.config)
    weights = _weights(args.weights, config["render"].get("weights"), base, "terrain")
    name = args.name or _region_name(args.lon, args.lat)
    region = {"name": name, "planet": "mars", "lon": args.lon, "lat": args.lat,
              "tiles_per_side": args.tiles, "split": "render"}  # fmt: skip
    if args.source:
        region["sources"] = {"mars_elevation": {"adapter": args.source}}
    out = Path(args.out or Path("terraformed") / name)
    products = terraform_region(region, config, weights, out)
    for path in products.values():
        print(path)


def _colourise(args: argparse.Namespace) -> None:
    from areograph.colourise import colourise_files

    config, base = _config(args.config)
    rovers = config["rovers"]
    weights = _weights(args.weights, rovers["colouriser"].get("weights"), base, "colouriser")
    render = rovers["render"]
    written = colourise_files(
        args.files,
        weights,
        args.out,
        render.get("window_px"),
        render.get("overlap_px"),
        rovers["edr"]["stretch_percentiles"],
        render.get("chroma_side_px"),
        progress=True,
        window_override=window_override(render),
    )
    for path in written:
        print(path)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="areograph",
        description="Terraformed Mars mosaics and colourised rover frames with the shipped models.",
        epilog="Both commands read config.yaml (here, else the repository's): sources, tiles, render "
        "settings and the weights to use. The full workflow is `snakemake --cores N` (see README).",
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log every step")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    t = sub.add_parser("terraform", help="render one Mars region as an Earth-like picture",
                       description="Fetch Mars elevation around (lon, lat) from the configured source, cut "
                       "it into square tiles and run the terraforming generator over it: writes a COG "
                       "(Mars AEQD CRS), a lon/lat footprint GeoJSON and PNG quicklooks.")  # fmt: skip
    t.add_argument("--lon", type=float, required=True, help="centre longitude, degrees east (-180..360)")
    t.add_argument("--lat", type=float, required=True, help="centre latitude, degrees north")
    t.add_argument("--tiles", type=_tiles, default=[6, 6], metavar="N|COLSxROWS",
                   help="region size in 51.2 km tiles (default 6)")  # fmt: skip
    t.add_argument("--name", help="region name (default from lon/lat)")
    t.add_argument("--out", help="output folder (default terraformed/NAME); replaced whole")
    t.add_argument("--source", help="Mars elevation adapter, overriding the config (e.g. sample, usgs)")
    t.add_argument("--weights", help="generator file (default: the config's render.weights)")
    t.add_argument("--config", help="config file (default ./config.yaml, else the repository's)")
    t.set_defaults(run=_terraform)

    c = sub.add_parser("colourise", help="colour greyscale rover frames (PDS EDRs or images)",
                       description="Predict colour (CIELAB ab) for each greyscale PDS EDR (.IMG) or image, "
                       "keeping its own lightness; writes OUT/<name>_colour.png.")  # fmt: skip
    c.add_argument("files", nargs="+", help="PDS EDRs (.IMG) or image files")
    c.add_argument("--out", default="colourised", help="output folder (default ./colourised)")
    c.add_argument("--weights", help="colouriser file (default: the config's rovers.colouriser.weights)")
    c.add_argument("--config", help="config file (default ./config.yaml, else the repository's)")
    c.set_defaults(run=_colourise)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        args.run(args)
    except (ValueError, OSError, RuntimeError) as exc:  # SourceError, GeoError are RuntimeErrors
        print(f"areograph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
