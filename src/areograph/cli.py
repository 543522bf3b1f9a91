"""``areograph``: one-line commands for people who want a picture, not a workflow.

    areograph terraform --lon 137.8 --lat -5.4 --tiles 6     # one Mars region, shipped weights
    areograph colourise FRAME.IMG photo.jpg ...              # greyscale rover frames in colour

Both run the same package functions as the Snakemake rules (terraform.terraform_region,
colourise.colourise_files), read the same config.yaml (sources, tile size, render windows) and use
the weights it names. Every argument is checked before any work (ranges, names, the output path, the
weights against the render settings, each input file's header); bad input ends with one line naming
the option or file and the problem, exit status 2. Ctrl-C or SIGTERM end with one line too (status
130 or 143), after the staging folders are removed.
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from areograph.config import (
    WEIGHTS_KEYS,
    config_value,
    configured_path,
    load_config,
    model_render_problems,
    window_override,
)

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


def _weights(given: str | None, config: dict[str, Any], key: str, base: Path) -> Path:
    """The model file: --weights, else the config's ``key`` (relative to the config's folder, then the
    repository); checked against the render settings it will run with, before any work."""
    configured = config_value(config, key)
    if given:
        path, what = Path(given), f"--weights {given}"
    elif configured:
        path, what = configured_path(configured, [base, REPO_ROOT]), f"{key} ({configured})"
    else:
        raise ValueError(f"the config names no weights ({key} is null); pass --weights")
    if not path.is_file():
        raise ValueError(f"{what}: no such model file {path}")
    render_key = WEIGHTS_KEYS[key]
    problems = model_render_problems(path, what, render_key, config_value(config, render_key))
    if problems:
        raise ValueError("; ".join(problems))
    return path


def _number(lo: float, hi: float, unit: str = "") -> Callable[[str], float]:
    """An argparse type: a finite number within [lo, hi]; argparse names the option in its error."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number in {lo:g}..{hi:g}{unit}")
        return value

    return parse


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


def _check_source(name: str) -> None:
    from areograph.sources import ADAPTERS, adapter_inputs

    if name not in ADAPTERS:
        raise ValueError(f"--source {name}: not one of {sorted(ADAPTERS)}")
    if "mars_elevation" not in adapter_inputs(name):
        serves = sorted(adapter_inputs(name))
        raise ValueError(f"--source {name}: serves no Mars elevation (it serves {serves})")


def _region_size(region: dict[str, Any], tiles: dict[str, Any]) -> None:
    """Plan the region's box now: a size that reaches past a pole or around the planet is named here."""
    from areograph.terraform import check_region_request

    try:
        check_region_request(region, tiles)
    except ValueError as err:
        cols, rows = region["tiles_per_side"]
        text = str(cols) if cols == rows else f"{cols}x{rows}"
        lo, hi = 0, max(cols, rows)  # the largest side that plans (sizes that fit are a prefix): bisect
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if _plans(region, tiles, min(cols, mid), min(rows, mid)) else (lo, mid - 1)
        km = tiles["size_px"] * tiles["gsd_m"] / 1000
        advice = f"at most {lo} tiles a side fit there" if lo else "no region fits there"
        side_km = f"{cols * km:.0f} x {rows * km:.0f} km"
        raise ValueError(
            f"--tiles {text}: {cols} x {rows} tiles of {km:g} km ({side_km}) centred at latitude "
            f"{region['lat']:.2f} reach past a pole or around the planet; {advice}, or move the region "
            "towards the equator"
        ) from err


def _check_water_model(weights: Path | str, sea_level: float) -> None:
    """A sea needs a generator with a water input: say so before fetching anything."""
    from areograph.training.checkpoint import load_model_meta

    conditioning = load_model_meta(Path(weights)).conditioning or ("elevation",)
    if "water" not in conditioning:
        raise ValueError(
            f"--sea-level {sea_level:g}: {weights} has no water input (its inputs: "
            f"{', '.join(conditioning)}); give --weights a model trained with water, or leave out --sea-level"
        )


def _plans(region: dict[str, Any], tiles: dict[str, Any], cols: int, rows: int) -> bool:
    from areograph.terraform import check_region_request

    try:
        check_region_request({**region, "tiles_per_side": [cols, rows]}, tiles)
    except ValueError:
        return False
    return True


def _terraform(args: argparse.Namespace) -> None:
    from areograph.atomic import check_destination
    from areograph.geo.grid import check_region_name
    from areograph.terraform import terraform_region

    name = args.name or _region_name(args.lon, args.lat)
    try:
        check_region_name(name)
    except ValueError as err:
        raise ValueError(f"--name: {err}") from None
    out = check_destination(args.out or Path("terraformed") / name, "--out")
    config, base = _config(args.config)
    region = {"name": name, "planet": "mars", "lon": args.lon, "lat": args.lat,
              "tiles_per_side": args.tiles, "split": "render"}  # fmt: skip
    if args.source:
        _check_source(args.source)
        region["sources"] = {"mars_elevation": {"adapter": args.source}}
    _region_size(region, config["tiles"])
    weights = _weights(args.weights, config, "render.weights", base)
    if args.sea_level is not None:
        region["sea_level_m"] = args.sea_level
        _check_water_model(weights, args.sea_level)
    products = terraform_region(region, config, weights, out, allow_partial=args.allow_partial)
    for path in products.values():
        print(path)


def _colourise(args: argparse.Namespace) -> None:
    from areograph.atomic import check_destination
    from areograph.colourise import colourise_files

    out = check_destination(args.out, "--out")
    config, base = _config(args.config)
    weights = _weights(args.weights, config, "rovers.colouriser.weights", base)
    rovers = config["rovers"]
    render = rovers["render"]
    done = colourise_files(
        args.files,
        weights,
        out,
        render.get("window_px"),
        render.get("overlap_px"),
        rovers["edr"]["stretch_percentiles"],
        render.get("chroma_side_px"),
        progress=True,
        window_override=window_override(render),
    )
    if done.kept:
        print(f"areograph colourise: kept {len(done.kept)} frame(s) already colourised in {out} "
              "(newer than their input and the model; delete them to redo)", file=sys.stderr)  # fmt: skip
    for path in sorted(done.written + done.kept):
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
    t.add_argument("--lon", type=_number(-180, 360, " degrees east"), required=True,
                   help="centre longitude, degrees east (-180..360)")  # fmt: skip
    t.add_argument("--lat", type=_number(-90, 90, " degrees north"), required=True,
                   help="centre latitude, degrees north (-90..90)")  # fmt: skip
    t.add_argument("--tiles", type=_tiles, default=[6, 6], metavar="N|COLSxROWS",
                   help="region size in 51.2 km tiles (default 6)")  # fmt: skip
    t.add_argument("--name", help="region name (default from lon/lat)")
    t.add_argument("--out", help="output folder (default terraformed/NAME); replaced whole")
    t.add_argument("--allow-partial", action="store_true",
                   help="render a region the source covers only in part (uncovered tiles black); without "
                   "it such a region is refused before rendering")  # fmt: skip
    t.add_argument("--sea-level", type=_number(-8200, 21229, " m"), metavar="METRES",
                   help="flood Mars below this areoid height (e.g. -4200 makes Gale a lake); default: "
                   "the config's render.sea_level_m (null = dry)")  # fmt: skip
    t.add_argument("--source", help="Mars elevation adapter, overriding the config (e.g. sample, usgs)")
    t.add_argument("--weights", help="generator file (default: the config's render.weights)")
    t.add_argument("--config", help="config file (default ./config.yaml, else the repository's)")
    t.set_defaults(run=_terraform)

    c = sub.add_parser("colourise", help="colour greyscale rover frames (PDS EDRs or images)",
                       description="Predict colour (CIELAB ab) for each greyscale PDS EDR (.IMG) or image, "
                       "keeping its own lightness; writes OUT/<name>_colour.png.")  # fmt: skip
    c.add_argument("files", nargs="+", help="PDS EDRs (.IMG) or image files")
    c.add_argument("--out", default="colourised",
                   help="output folder (default ./colourised); frames already colourised there (newer than "
                   "their input and the model) are kept")  # fmt: skip
    c.add_argument("--weights", help="colouriser file (default: the config's rovers.colouriser.weights)")
    c.add_argument("--config", help="config file (default ./config.yaml, else the repository's)")
    c.set_defaults(run=_colourise)
    return top


class Interrupted(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt so that every cleanup (staging folders) runs."""


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    def raise_interrupted(signum: int, frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, raise_interrupted)
    # A process started in the background of a shell (or by a parent that ignores Ctrl-C) inherits SIGINT
    # ignored, and Python then installs no KeyboardInterrupt: Ctrl-C / kill -INT would do nothing.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        with _terminate_as_interrupt():
            args.run(args)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Interrupted): staging is already removed
        why = "terminated (SIGTERM)" if isinstance(exc, Interrupted) else "interrupted (Ctrl-C)"
        print(f"areograph {args.command}: {why}; no partial output was left", file=sys.stderr)
        return 143 if isinstance(exc, Interrupted) else 130
    except (ValueError, OSError, RuntimeError) as exc:  # SourceError, GeoError are RuntimeErrors
        print(f"areograph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
