"""Benchmark: 200 files from a local server that adds 50 ms of latency per request, parallel vs sequential.

Remote archives are latency-bound for small files (API pages, rover frames): the downloader's bounded
parallelism should hide most of the per-request latency. Prints one JSON object with both timings and
the speed-up ratio, and writes it to benchmarks/results/download_parallel.json.

    .venv/bin/python benchmarks/download_parallel.py [--files 200] [--latency-ms 50] [--workers 16]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the reusable local server lives with the tests

from localserver import LocalServer  # noqa: E402

from areograph.download import DownloadItem, DownloadPolicy, download_many  # noqa: E402


def run(files: int, latency_s: float, workers: int, size: int) -> dict[str, float | int]:
    """Time ``download_many`` over ``files`` files with 1 worker and with ``workers`` workers."""
    timings = {}
    with LocalServer() as srv, tempfile.TemporaryDirectory() as tmp:
        for i in range(files):
            srv.add(f"/f/{i}.bin", bytes([i % 256]) * size, latency_s=latency_s)
        for label, n in (("sequential", 1), ("parallel", workers)):
            folder = Path(tmp) / label
            items = [
                DownloadItem(srv.url(f"/f/{i}.bin"), folder / f"{i}.bin", size=size) for i in range(files)
            ]
            policy = DownloadPolicy(workers=n, retries=0, progress=False)
            start = time.perf_counter()
            download_many(items, policy=policy)
            timings[label] = time.perf_counter() - start
            assert all(it.dest.stat().st_size == size for it in items)
    return {
        "files": files,
        "bytes_per_file": size,
        "latency_ms": round(latency_s * 1000),
        "workers": workers,
        "sequential_s": round(timings["sequential"], 3),
        "parallel_s": round(timings["parallel"], 3),
        "speedup": round(timings["sequential"] / timings["parallel"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--size", type=int, default=16_384, help="bytes per file")
    args = parser.parse_args()
    result = run(args.files, args.latency_ms / 1000, args.workers, args.size)
    out = ROOT / "benchmarks" / "results" / "download_parallel.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
