"""How the workflow's DAG grows with regions: `snakemake -n` for 1, 10 and 100 regions of 15 x 15 tiles.

Jobs are per region (and layer) or per dataset, never per tile, so the job count must grow linearly
with regions and not with tiles (225 per region here). Prints JSON and writes
benchmarks/results/dag_scale.json; the ratio columns compare each size with the 1-region baseline
measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def config_with_regions(n: int, tiles_per_side: int) -> dict:
    """The shipped config with ``n`` Earth regions (one validation region) and one Mars region."""
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    earth = [
        {"name": f"r{i:03d}", "planet": "earth", "lon": -170 + (i % 30) * 11.0, "lat": -50 + (i // 30) * 12.0,
         "tiles_per_side": tiles_per_side, "split": "val" if i == 0 and n > 1 else "blocks"}
        for i in range(n)
    ]
    mars = [{"name": "gale", "planet": "mars", "lon": 137.8, "lat": -5.4, "tiles_per_side": tiles_per_side,
             "split": "render"}]
    cfg["regions"] = earth + mars
    return cfg


def dry_run(workdir: Path) -> tuple[int, float]:
    """Job count and wall time of one dry run."""
    start = time.perf_counter()
    run = subprocess.run(
        [SNAKEMAKE, "-n", "--cores", "2", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
         "--configfile", str(workdir / "config.yaml"), "--quiet", "rules"],
        capture_output=True, text=True, check=True,
    )
    elapsed = time.perf_counter() - start
    match = re.search(r"^total\s+(\d+)", run.stdout + run.stderr, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no job total in snakemake output:\n{run.stdout}\n{run.stderr}")
    return int(match.group(1)), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regions", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--tiles-per-side", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "dag_scale.json")
    args = parser.parse_args()
    rows = []
    for n in args.regions:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            (workdir / "config.yaml").write_text(yaml.safe_dump(config_with_regions(n, args.tiles_per_side)))
            runs = [dry_run(workdir) for _ in range(args.repeats)]
        jobs = runs[0][0]
        rows.append({"regions": n, "tiles": n * args.tiles_per_side**2, "jobs": jobs,
                     "seconds": min(t for _, t in runs)})
    base = rows[0]
    for row in rows:
        row["jobs_ratio"] = row["jobs"] / base["jobs"]
        row["time_ratio"] = row["seconds"] / base["seconds"]
        row["tiles_ratio"] = row["tiles"] / base["tiles"]
    result = {"benchmark": "dag_scale", "tiles_per_side": args.tiles_per_side, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(rows, args.out.with_suffix(".png"))
    print(json.dumps(result, indent=2))


def plot(rows: list[dict], out: Path) -> None:
    """Jobs and dry-run seconds against regions, tiles on a second axis for scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regions = [r["regions"] for r in rows]
    fig, (ax_jobs, ax_time) = plt.subplots(1, 2, figsize=(8, 3.2))
    ax_jobs.plot(regions, [r["jobs"] for r in rows], "o-", label="jobs")
    ax_jobs.plot(regions, [r["tiles"] for r in rows], "s--", color="grey", label="tiles")
    ax_jobs.set(xscale="log", yscale="log", xlabel="regions (15 x 15 tiles each)", title="DAG size")
    ax_jobs.legend()
    ax_time.plot(regions, [r["seconds"] for r in rows], "o-")
    ax_time.set(xscale="log", xlabel="regions", ylabel="seconds", title="snakemake -n")
    ax_time.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
