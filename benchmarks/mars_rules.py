"""The two Mars -> Earth elevation rules side by side on one Mars region, with the same generator.

``offset`` puts the region's lowest point at sea level and keeps Mars metres; ``quantile`` maps the
region's elevations onto the distribution of the model's Earth training elevations. This renders the
region with both, writes hillshade | quantile | offset as one picture, and prints JSON with where each
rule puts the region's heights on Earth (percentiles, share above 3,000 m) and the colours it gets.

    .venv/bin/python benchmarks/mars_rules.py results/corpus/tiles/gale/elevation/region.tif \\
        weights/terrain_pix2pix/model.pt docs/img/gale_mars_rules.jpg
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image

from areograph.data.elevation import mars_to_earth_elevation
from areograph.render.mosaic import hillshade, read_elevation, render_mars
from areograph.training.checkpoint import load_model_meta

RULES = ("quantile", "offset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("region", type=Path, help="Mars region raster (tiles/<r>/elevation/region.tif)")
    parser.add_argument("model", type=Path, help="generator file (model.pt)")
    parser.add_argument("out", type=Path, help="picture: hillshade | quantile | offset")
    parser.add_argument("--window", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=128)
    args = parser.parse_args()
    elev, valid, profile = read_elevation(args.region)
    reference = np.asarray(load_model_meta(args.model).earth_reference_quantiles_m)
    panels, stats = [hillshade(elev, valid, abs(profile["transform"].a))], {}
    with tempfile.TemporaryDirectory() as tmp:
        for rule in RULES:
            out = Path(tmp) / rule
            render_mars(
                args.region, args.model, None, None, rule, args.window, args.overlap,
                out / "t.tif", out / "q.png", out / "s.png",
            )  # fmt: skip
            with rasterio.open(out / "t.tif") as ds:
                rgb = np.moveaxis(ds.read(), 0, -1)
            panels.append(rgb)
            mapped = mars_to_earth_elevation(np.where(valid, elev, np.median(elev[valid])), rule, reference)
            stats[rule] = {
                "earth_m_percentiles_5_50_95": np.percentile(mapped[valid], [5, 50, 95]).round(0).tolist(),
                "share_above_3000_m": round(float(np.mean(mapped[valid] > 3000)), 4),
                "mean_rgb": rgb[valid].mean(axis=0).round(1).tolist(),
                "rgb_std": rgb[valid].std(axis=0).round(1).tolist(),
            }
    gap = np.full((elev.shape[0], 8, 3), 255, np.uint8)
    strip = np.concatenate([panels[0], gap, panels[1], gap, panels[2]], axis=1)
    img = Image.fromarray(strip)
    img.thumbnail((3 * 700, 700), Image.Resampling.LANCZOS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    img.save(args.out, quality=88)
    result = {"region": str(args.region), "model": str(args.model), "mars_m_range": [float(elev[valid].min()),
              float(elev[valid].max())], "rules": stats}  # fmt: skip
    print(json.dumps(result, indent=1))
    out_json = Path(__file__).parent / "results" / "mars_rules.json"
    out_json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
