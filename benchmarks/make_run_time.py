"""Wall time of ``make run`` on a fresh clone, for several commits, interleaved in one run.

Each commit is cloned once into ``--workdir`` (``git clone`` of this repository, then checked out) and its
venv built there (``make venv``, timed apart: the issue's budget is workflow time, venv aside). Each timed
run starts from an empty results tree (``results/``, ``logs/``, ``.snakemake/`` removed), so it does all the
work a new user's first ``make run`` does. Runs are interleaved (A B A B ...) so load from other processes
hits each commit alike; every run records the 1-minute load average before and after, its job count and
the pictures it produced (PNG, MP4, HTML), so "produces every picture it produces today" can be checked.

    .venv/bin/python benchmarks/make_run_time.py --rev before=399197e --rev after=HEAD --repeats 2

``--append`` adds to the runs already in the output JSON (same labels and commits), so a long baseline
can be measured in more than one sitting; the medians cover all runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "make_run.json"
PICTURES = (".png", ".mp4", ".html", ".tif")


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def clone(label: str, rev: str, workdir: Path) -> tuple[Path, str, float | None]:
    """A clone of ``rev`` with its venv built; (folder, full commit, venv seconds or None when reused)."""
    commit = _git("rev-parse", rev)
    folder = workdir / f"{label}-{commit[:10]}"
    if not (folder / ".git").exists():
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder)], check=True)
        _git("checkout", "--quiet", commit, cwd=folder)
    venv_s = None
    if not (folder / ".venv" / ".installed").exists():
        start = time.perf_counter()
        subprocess.run(["make", "venv"], cwd=folder, check=True, capture_output=True)
        venv_s = round(time.perf_counter() - start, 1)
    return folder, commit, venv_s


def pictures(folder: Path) -> list[str]:
    """Every picture-like product under results/ (relative paths), to compare what two commits produce."""
    root = folder / "results"
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.suffix in PICTURES and "benchmarks" not in p.parts and p.is_file()
    )


def job_seconds(folder: Path) -> dict[str, float]:
    """Summed wall and CPU seconds of the jobs that write Snakemake benchmark TSVs (the heavy rules).

    CPU seconds hardly depend on what else runs on the machine, so they compare runs under different load.
    """
    wall = cpu = 0.0
    for tsv in (folder / "results" / "benchmarks").rglob("*.tsv"):
        header, *rows = [line.split("\t") for line in tsv.read_text().splitlines()]
        for row in rows:
            rec = dict(zip(header, row, strict=False))
            wall += float(rec.get("s", 0) or 0)
            cpu += float(rec.get("cpu_time", 0) or 0)
    return {"jobs_wall_s": round(wall, 1), "jobs_cpu_s": round(cpu, 1)}


def timed_run(folder: Path, cores: int) -> dict[str, Any]:
    """One ``make run`` from an empty results tree: wall seconds, load, jobs done, pictures."""
    subprocess.run(["rm", "-rf", "results", "logs", ".snakemake"], cwd=folder, check=True)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(["make", "run", f"CORES={cores}"], cwd=folder, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"make run failed in {folder}:\n{proc.stderr[-3000:]}")
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", proc.stderr)
    return {
        "wall_s": round(wall, 1),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "jobs": int(done[-1][1]) if done else None,
        **job_seconds(folder),
        "pictures": pictures(folder),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rev", action="append", required=True, help="label=git revision (repeatable)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/areograph-make-run"))
    parser.add_argument("--append", action="store_true", help="add to the runs already in --out")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    revs = dict(r.split("=", 1) for r in args.rev)
    args.workdir.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"benchmark": "make_run", "cores": args.cores, "revs": {}}
    if args.append and args.out.exists():
        doc = json.loads(args.out.read_text())
    clones = {}
    for label, rev in revs.items():
        folder, commit, venv_s = clone(label, rev, args.workdir)
        clones[label] = folder
        entry = doc["revs"].setdefault(label, {"commit": commit, "runs": []})
        if entry["commit"] != commit:
            raise ValueError(f"{args.out}: {label} was measured at {entry['commit']}, not {commit}")
        if venv_s is not None:
            entry["venv_s"] = venv_s
    for _ in range(args.repeats):
        for label, folder in clones.items():
            run = timed_run(folder, args.cores)
            doc["revs"][label]["runs"].append(run)
            print(json.dumps({label: {k: v for k, v in run.items() if k != "pictures"}}), flush=True)
    for entry in doc["revs"].values():
        entry["median_wall_s"] = statistics.median(r["wall_s"] for r in entry["runs"])
    labels = list(doc["revs"])
    if len(labels) == 2:
        a, b = (doc["revs"][k] for k in labels)
        doc["ratio"] = {f"{labels[0]}/{labels[1]}": round(a["median_wall_s"] / b["median_wall_s"], 2)}
        doc["pictures_missing"] = sorted(set(a["runs"][-1]["pictures"]) - set(b["runs"][-1]["pictures"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps({k: v for k, v in doc.items() if k != "revs"}, indent=2))


if __name__ == "__main__":
    main()
