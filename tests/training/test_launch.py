"""Multi-GPU training through the real torchrun, tried on CPU: two Gloo processes on a tiny packed dataset.

``AREOGRAPH_NPROC=2`` stands in for a rule given two GPUs (``resources: gpu=2``) on a machine without
any; the trainer then runs DistributedDataParallel with Gloo. The functions below the fixtures are
called *inside* the torchrun workers (they import this module by its name, its root put on PYTHONPATH).
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from areograph.data.pairs import PairDataset
from areograph.logs import log_to
from areograph.terraform import train_terrain
from areograph.training.checkpoint import load_file
from areograph.training.launch import NPROC_ENV, function_ref, inside_torchrun, launch, processes_for
from areograph.training.trainer import TrainConfig, train

# The folder this module imports from under its own name (tests.training.test_launch: the repository).
TESTS = Path(__file__).resolve().parents[__name__.count(".")]
TILE_PX = 16
ELEVATION_RANGE = [0.0, 4500.0]
MODELS = {
    "pix2pix": {"ngf": 4, "ndf": 4, "depth": None, "d_layers": 2, "dropout": 0.5},
    "baseline": {"width": 4},
}
TRAINING = {"steps": 4, "batch_size": 2, "checkpoint_every": 2, "device": "cpu", "load_px": 18, "seed": 0}


@pytest.fixture()
def packed(tmp_path: Path) -> Path:
    """A packed terrain dataset (the pack_pairs layout): 8 train tiles whose colour follows the elevation."""
    rng = np.random.default_rng(0)
    elevation = rng.uniform(0, 4500, size=(8, TILE_PX, TILE_PX)).astype(np.float32)
    v = (elevation / 4500 * 255).astype(np.uint8)
    imagery = np.stack([v, 255 - v, np.full_like(v, 40)], axis=-1)
    path = tmp_path / "pairs.npz"
    np.savez(
        path,
        elevation=elevation,
        imagery=imagery,
        tile_id=np.array([f"t{i}" for i in range(8)]),
        region=np.array(["sierra"] * 8),
        row=np.zeros(8, np.int32),
        col=np.arange(8, dtype=np.int32),
        split=np.array(["train"] * 8),
    )
    return path


@pytest.fixture()
def two_processes(monkeypatch: pytest.MonkeyPatch) -> int:
    """Two CPU processes for a one-GPU rule; this module importable on the workers' PYTHONPATH."""
    monkeypatch.setenv(NPROC_ENV, "2")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    )
    for name in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    return processes_for(1)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


class _RecordingPairs(PairDataset):
    """The real PairDataset, noting which tiles this process read."""

    def __getitem__(self, index: int) -> dict[str, Any]:
        self.seen.append(int(index))
        return super().__getitem__(index)


def record_batches(packed: str, out_dir: str, seen_dir: str) -> str:
    """Worker side: train pix2pix on the packed tiles and write the tile indices this rank drew."""
    torch.set_num_threads(1)
    data = _RecordingPairs(Path(packed), "train", (0.0, 4500.0), load_px=18, seed=0)
    data.seen = []
    generator = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": 4, "depth": 4}}
    discriminator = {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": 4, "n_layers": 2}}
    cfg = TrainConfig(steps=3, batch_size=2, checkpoint_every=3, device="cpu")
    final = train(generator, discriminator, data, cfg, Path(out_dir))
    rank = os.environ["RANK"]
    (Path(seen_dir) / f"{rank}.json").write_text(json.dumps(data.seen[1:]))  # [0]: the shape check
    return str(final)


def fail_on_rank_one(message: str) -> None:
    """Worker side: rank 1 fails, as a rank that runs out of memory would."""
    if os.environ["RANK"] == "1":
        raise ValueError(message)


def test_pix2pix_on_two_gloo_processes_through_torchrun(
    packed: Path, two_processes: int, tmp_path: Path
) -> None:
    out, log = tmp_path / "ddp", tmp_path / "train_terrain.log"
    with log_to(log):
        result = launch(
            two_processes, train_terrain, "pix2pix", packed, MODELS, TRAINING, TILE_PX, ELEVATION_RANGE, out
        )
    assert result == str(out / "model.pt")  # through JSON from rank 0
    # Rank 0 alone wrote: one model, one checkpoint, one loss log and plot.
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "checkpoints/latest.pt",
        "losses.csv",
        "losses.png",
        "model.pt",
    ]
    ckpt = load_file(out / "checkpoints" / "latest.pt")
    assert ckpt["world_size"] == 2 and len(ckpt["rng"]) == 2 and ckpt["step"] == 4
    text = log.read_text()
    for rank in (0, 1):
        assert f"training on cpu (rank {rank} of 2" in text, text
        assert f"[rank {rank}] areograph.training.trainer" in text, text
    assert "starting 2 training processes" in text

    # The same call in one process: the same loss curve (columns, one row per step, finite values).
    single = tmp_path / "single"
    direct = launch(1, train_terrain, "pix2pix", packed, MODELS, TRAINING, TILE_PX, ELEVATION_RANGE, single)
    assert direct == single / "model.pt"  # called in this process: the Path itself
    ddp_rows, single_rows = _rows(out / "losses.csv"), _rows(single / "losses.csv")
    assert list(ddp_rows[0]) == list(single_rows[0]) == ["step", "lr", "g_gan", "g_l1", "d_real", "d_fake"]
    assert [r["step"] for r in ddp_rows] == [r["step"] for r in single_rows] == ["1", "2", "3", "4"]
    assert [r["lr"] for r in ddp_rows] == [r["lr"] for r in single_rows]
    assert all(math.isfinite(float(v)) for r in ddp_rows for v in r.values())
    assert load_file(single / "checkpoints" / "latest.pt")["world_size"] == 1


def test_each_rank_draws_different_tiles(packed: Path, two_processes: int, tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    seen.mkdir()
    with log_to(tmp_path / "log"):
        launch(two_processes, record_batches, str(packed), str(tmp_path / "out"), str(seen))
    r0, r1 = (json.loads((seen / f"{r}.json").read_text()) for r in (0, 1))
    assert len(r0) == len(r1) == 3 * 2  # batch_size is per rank: 2 tiles per rank per step
    for s in range(3):  # every step, the two ranks train on different tiles
        assert not set(r0[2 * s : 2 * s + 2]) & set(r1[2 * s : 2 * s + 2])
    assert sorted(r0[:4] + r1[:4]) == list(range(8))  # two steps of both ranks: one epoch
    assert (tmp_path / "out" / "model.pt").is_file()


def test_a_failing_rank_fails_the_launch_with_its_traceback(two_processes: int, tmp_path: Path) -> None:
    log = tmp_path / "log"
    with log_to(log), pytest.raises(RuntimeError, match="torchrun exited") as failed:
        launch(two_processes, fail_on_rank_one, "rank one ran out of memory")
    assert "rank one ran out of memory" in str(failed.value)  # torchrun's summary of the root cause
    text = log.read_text()
    assert "ValueError: rank one ran out of memory" in text
    assert "[rank 1] areograph" in text  # the worker logged its failure


def test_one_process_or_inside_torchrun_calls_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NPROC_ENV, raising=False)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert launch(1, os.path.join, Path("a"), "b") == "a/b"
    assert not inside_torchrun()
    monkeypatch.setenv("LOCAL_RANK", "0")  # already a torchrun worker: never nest
    assert inside_torchrun()
    assert launch(4, os.path.join, "a", "b") == "a/b"


def test_calls_that_cannot_cross_to_torchrun_are_refused_even_on_one_gpu() -> None:
    with pytest.raises(ValueError, match="module-level function"):
        launch(1, lambda: None)
    with pytest.raises(TypeError, match=r"areograph.terraform:train_terrain.*ndarray"):
        launch(1, train_terrain, "pix2pix", np.zeros(2))
    assert function_ref(train_terrain) == "areograph.terraform:train_terrain"


def test_process_count_is_one_per_gpu_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NPROC_ENV, raising=False)
    assert processes_for(0) == processes_for(None) == processes_for(1) == 1
    if not torch.cuda.is_available():
        assert processes_for("3") == 3  # no CUDA: three CPU processes
    elif torch.cuda.device_count() < 64:
        with pytest.raises(RuntimeError, match="asks for 64 GPUs but CUDA shows"):
            processes_for(64)
    monkeypatch.setenv(NPROC_ENV, "2")
    assert processes_for(8) == 2
    monkeypatch.setenv(NPROC_ENV, "two")
    with pytest.raises(ValueError, match="positive integer"):
        processes_for(1)
