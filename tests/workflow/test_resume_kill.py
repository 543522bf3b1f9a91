"""Exact resume for real: training subprocesses killed with SIGKILL, after a checkpoint and during one.

Both products train on their real datasets (PairDataset with resize/crop/flip, ColourPatchDataset with
flips, the colouriser through a DataLoader worker). The kills come from ``AREOGRAPH_FAULT``
(areograph.faults) inside the training process, at exactly the chosen write, so the test is
deterministic. After the reruns every tensor of the model file and the checkpoint (weights, Adam
moments, RNG states) must equal an uninterrupted run's, and so must the model file's bytes.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from areograph.artefacts.model_dir import TrainingRun
from areograph.colourise import train_colour
from areograph.data.augment import ItemKey
from areograph.data.pairs import PairDataset
from areograph.logs import log_to
from areograph.terraform import train_terrain
from areograph.training.checkpoint import load_file, training_run_of
from areograph.training.launch import NPROC_ENV, launch
from areograph.training.schedule import StepSampler

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PX = 16
RANGE = (0.0, 1000.0)
TERRAIN = {
    "models": {
        "pix2pix": {"ngf": 2, "ndf": 2, "depth": None, "d_layers": 2, "dropout": 0.5},
        "baseline": {"width": 2},
    },
    "training": {"steps": 6, "checkpoint_every": 2, "batch_size": 2, "seed": 3, "device": "cpu"}
    | {"load_px": 20},
}
COLOUR = {
    "colouriser": {"ngf": 2, "ndf": 2, "depth": None, "dropout": 0.5, "adversarial": False},
    "baseline": {"width": 2},
    "training": {"steps": 6, "checkpoint_every": 2, "batch_size": 3, "seed": 5, "device": "cpu"}
    | {"num_workers": 1},
}
CHILD = f"""
import json, logging, sys
logging.basicConfig(level=logging.INFO)
from areograph.colourise import train_colour
from areograph.terraform import train_terrain
product, packed, spec, out = sys.argv[1:]
spec = json.loads(spec)
if product == "terrain":
    train_terrain("pix2pix", packed, spec["models"], spec["training"], {PX}, {list(RANGE)!r}, out)
else:
    train_colour("pix2pix", packed, spec["colouriser"], spec["baseline"], spec["training"], out)
"""


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small packed files in the formats pack_pairs and pack_patches write."""
    root = tmp_path_factory.mktemp("packed")
    rng = np.random.default_rng(0)
    n = 6
    terrain = root / "pairs.npz"
    np.savez(
        terrain,
        elevation=rng.uniform(0, 1000, (n, PX, PX)).astype(np.float32),
        imagery=rng.integers(0, 256, (n, PX, PX, 3), dtype=np.uint8),
        tile_id=np.array([f"t_r00_c{i:02d}" for i in range(n)]),
        region=np.array(["t"] * n),
        row=np.zeros(n, np.int32),
        col=np.arange(n, dtype=np.int32),
        split=np.array(["train"] * n),
    )
    colour = root / "patches.npz"
    np.savez(
        colour,
        L=rng.uniform(-1, 1, (n, 1, PX, PX)).astype(np.float16),
        ab=rng.uniform(-1, 1, (n, 2, PX, PX)).astype(np.float16),
        frame_index=np.arange(n, dtype=np.int32),
        split=np.array(["train"] * n),
        frames=np.array([f"f{i}.png" for i in range(n)]),
        patch_px=np.int32(PX),
        max_side_px=np.int32(4 * PX),
    )
    return {"terrain": terrain, "colour": colour}


def _child(product: str, packed: Path, out: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "AREOGRAPH_FAULT"}
    if fault:
        env["AREOGRAPH_FAULT"] = fault
    env["OMP_NUM_THREADS"] = "1"
    spec = json.dumps(TERRAIN if product == "terrain" else COLOUR)
    cmd = [sys.executable, "-c", CHILD, product, str(packed), spec, str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def _tensors(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every tensor and plain leaf of a loaded file, by its path in the nested structure."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _tensors(item, f"{prefix}/{key}").items()}
    if isinstance(value, list | tuple):
        return {k: v for i, item in enumerate(value) for k, v in _tensors(item, f"{prefix}/{i}").items()}
    return {prefix: value}


def _model_bytes(path: Path) -> tuple[bytes, TrainingRun]:
    """A model file's bytes without its ``training_run`` record (wall time differs run to run), and it."""
    data = load_file(path)
    record = training_run_of(data)
    assert record is not None, f"{path} has no training_run record"
    del data["training_run"]
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue(), record


def _assert_same(a: Path, b: Path) -> None:
    """Every value alike, but for the record of how the training ran (checked by the caller)."""
    ta, tb = (
        {k: v for k, v in _tensors(load_file(p)).items() if not k.startswith("/training_run/")}
        for p in (a, b)
    )
    assert ta.keys() == tb.keys()
    different = [
        k
        for k in ta
        if not (torch.equal(ta[k], tb[k]) if isinstance(ta[k], torch.Tensor) else ta[k] == tb[k])
    ]
    assert not different, f"{a} vs {b} differ at {different[:5]}"


@pytest.mark.parametrize("product", ["terrain", "colour"])
def test_killed_training_resumes_to_the_uninterrupted_result(
    product: str, packed: dict[str, Path], tmp_path: Path
) -> None:
    once = tmp_path / "once"
    if product == "terrain":
        spec = TERRAIN
        train_terrain("pix2pix", packed[product], spec["models"], spec["training"], PX, RANGE, once)
    else:
        spec = COLOUR
        train_colour("pix2pix", packed[product], spec["colouriser"], spec["baseline"], spec["training"], once)

    run = tmp_path / "run"
    ckpt = run / "checkpoints" / "latest.pt"
    # 1. SIGKILL right after the first checkpoint (step 2) is in place.
    killed = _child(product, packed[product], run, "after-rename:*/checkpoints/latest.pt")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert load_file(ckpt)["step"] == 2 and not (run / "model.pt").exists()
    # 2. The rerun resumes, and is killed while writing its first checkpoint (step 4): the complete
    #    temporary is on disk, latest.pt still holds step 2.
    killed = _child(product, packed[product], run, "before-rename:*/checkpoints/latest.pt")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert load_file(ckpt)["step"] == 2
    assert [p for p in ckpt.parent.iterdir() if p.name.startswith(".latest.")], "no temporary to clean"
    # 3. The last rerun finishes from step 2 and removes the dead run's temporary.
    done = _child(product, packed[product], run)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resuming" in done.stderr and "from step 2 of 6" in done.stderr
    assert sorted(p.name for p in ckpt.parent.iterdir()) == ["latest.pt"]

    _assert_same(run / "model.pt", once / "model.pt")
    _assert_same(ckpt, once / "checkpoints" / "latest.pt")
    resumed, resumed_run = _model_bytes(run / "model.pt")
    clean, clean_run = _model_bytes(once / "model.pt")
    assert resumed == clean  # byte-reproducible, but for the record of how the training ran:
    assert (resumed_run.start_step, clean_run.start_step, resumed_run.steps) == (2, 0, 6)
    assert resumed_run.device == clean_run.device == "cpu" and resumed_run.wall_s > 0
    assert ckpt.read_bytes() == (once / "checkpoints" / "latest.pt").read_bytes()
    assert (run / "losses.csv").read_text() == (once / "losses.csv").read_text()


def test_augmentation_is_a_pure_function_of_seed_index_and_draw(packed: dict[str, Path]) -> None:
    """What makes resume exact under DDP and in workers: no per-process or per-dataset state."""
    ds = PairDataset(packed["terrain"], "train", RANGE, load_px=20, augment=True, seed=3)
    torch.manual_seed(1)
    first = ds[ItemKey(4, 17)]["target"]
    torch.manual_seed(2)  # a different worker or rank seed
    again = PairDataset(packed["terrain"], "train", RANGE, load_px=20, augment=True, seed=3)
    for k in range(5):  # other draws in between change nothing
        again[ItemKey(k, k)]
    assert torch.equal(again[ItemKey(4, 17)]["target"], first)
    assert any(not torch.equal(ds[ItemKey(4, d)]["target"], first) for d in range(18, 24))

    def keys(start: int, rank: int, n: int) -> list[tuple[int, int]]:
        it = iter(StepSampler(6, 2, seed=3, start_step=start, rank=rank, world=2, keyed=True))
        return [(int(k), k.draw) for k in (next(it) for _ in range(n))]

    for rank in (0, 1):  # a rank resumed at step 3 draws exactly the keys of the uninterrupted stream
        assert keys(3, rank, 6) == keys(0, rank, 12)[6:]
    draws = {d for r in (0, 1) for _, d in keys(0, r, 12)}
    assert len(draws) == 24  # ranks never share a draw number


def test_ddp_training_killed_after_a_checkpoint_resumes_exactly(
    packed: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two Gloo ranks through the real torchrun; rank 0 is SIGKILLed after the step-2 checkpoint."""
    monkeypatch.setenv(NPROC_ENV, "2")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    for name in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "AREOGRAPH_FAULT"):
        monkeypatch.delenv(name, raising=False)
    args = ("pix2pix", packed["terrain"], TERRAIN["models"], TERRAIN["training"], PX, list(RANGE))
    with log_to(tmp_path / "train.log"):
        launch(2, train_terrain, *args, tmp_path / "once")
        monkeypatch.setenv("AREOGRAPH_FAULT", "after-rename:*/checkpoints/latest.pt")
        with pytest.raises(RuntimeError, match="torchrun exited"):
            launch(2, train_terrain, *args, tmp_path / "run")
        assert load_file(tmp_path / "run/checkpoints/latest.pt")["step"] == 2
        monkeypatch.delenv("AREOGRAPH_FAULT")
        launch(2, train_terrain, *args, tmp_path / "run")
    assert "resuming" in (tmp_path / "train.log").read_text()
    ckpt = load_file(tmp_path / "run/checkpoints/latest.pt")
    assert ckpt["world_size"] == 2 and len(ckpt["rng"]) == 2
    _assert_same(tmp_path / "run/model.pt", tmp_path / "once/model.pt")
    _assert_same(tmp_path / "run/checkpoints/latest.pt", tmp_path / "once/checkpoints/latest.pt")
