"""Atomic writes: dead writers' temporaries are removed, a full disk names the path, .pt bytes are stable."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from areograph.atomic import atomic_dir, atomic_path, check_destination
from areograph.training.checkpoint import load_file, save_checkpoint, write_torch_file

KILLED_WRITER = """
import sys
from areograph.atomic import atomic_dir, atomic_path
final, kind = sys.argv[1:]
with (atomic_dir if kind == "dir" else atomic_path)(final) as tmp:
    if kind == "dir":
        (tmp / "part.txt").write_text("half")
    else:
        tmp.write_text("half")
        (tmp.parent / (tmp.name + ".aux.xml")).write_text("sidecar")
"""


def _killed_writer(final: Path, kind: str) -> None:
    env = {**os.environ, "AREOGRAPH_FAULT": f"before-rename:{final}"}
    run = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(final), kind], env=env, timeout=60)
    assert run.returncode == -signal.SIGKILL


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_a_killed_writers_temporaries_are_removed_by_the_next_write(kind: str, tmp_path: Path) -> None:
    final = tmp_path / ("region.tif" if kind == "file" else "elevation")
    _killed_writer(final, kind)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left and all(name.startswith(f".{final.stem}.") for name in left) and not final.exists()
    live = tmp_path / f".{final.stem}.{os.getppid()}-abcdefgh{final.suffix}"  # a live writer's: kept
    live.mkdir() if kind == "dir" else live.write_text("busy")
    other = tmp_path / ".other.1-abcdefgh.tif"  # another output's: kept
    other.write_text("x")
    with (atomic_dir if kind == "dir" else atomic_path)(final) as tmp:
        (tmp / "done.txt").write_text("ok") if kind == "dir" else tmp.write_text("ok")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([final.name, live.name, other.name])


def test_a_full_disk_during_a_checkpoint_write_names_the_path(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the write fail like a full disk does (EFBIG instead of ENOSPC)."""
    path = tmp_path / "checkpoints" / "latest.pt"
    payload = {"step": 1, "w": torch.zeros(100_000)}
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, hard))
    try:
        with pytest.raises(OSError, match=r"while writing .*checkpoints/latest\.pt") as info:
            save_checkpoint(path, payload)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old_handler)
    assert str(path) in str(info.value)
    # neither a partial file nor a temporary, nor the checkpoints/ folder the failed write made
    assert list(tmp_path.iterdir()) == []


def test_torch_files_are_byte_reproducible_whatever_the_path_and_how_the_payload_was_built(
    tmp_path: Path,
) -> None:
    spec = {"name": "unet", "kwargs": {"ngf": 4, "norm": "instance"}}
    built = {"generator": {"spec": spec, "state_dict": {"w": torch.arange(4.0)}}, "tags": ["instance"]}
    parsed = json.loads(json.dumps({"generator": {"spec": spec}, "tags": ["instance"]}))
    parsed["generator"]["state_dict"] = {"w": torch.arange(4.0)}
    a = write_torch_file(tmp_path / "a" / "model.pt", built)
    b = write_torch_file(tmp_path / "b" / "other-name.pt", parsed)
    assert a.read_bytes() == b.read_bytes()
    assert torch.equal(torch.load(a, weights_only=True)["generator"]["state_dict"]["w"], torch.arange(4.0))
    save_checkpoint(tmp_path / "c.pt", {"step": 3})
    assert load_file(tmp_path / "c.pt")["step"] == 3


def test_a_failed_write_removes_the_folders_it_made_and_keeps_the_others(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    for writer in (atomic_path, atomic_dir):
        with pytest.raises(RuntimeError, match="boom"), writer(tmp_path / "kept" / "a" / "b" / "out.tif"):
            raise RuntimeError("boom")
        assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept"]
    with atomic_path(tmp_path / "kept" / "a" / "ok.txt") as tmp:
        tmp.write_text("ok")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "kept" / "a" / "b" / "out.tif"):
        raise RuntimeError("boom")
    assert (tmp_path / "kept" / "a" / "ok.txt").read_text() == "ok"  # a folder with files is kept
    assert not (tmp_path / "kept" / "a" / "b").exists()


def test_check_destination_names_the_option_and_the_problem(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValueError, match=r"--out .*afile: is a file, not a folder"):
        check_destination(afile, "--out")
    with pytest.raises(ValueError, match=r"afile is a file, so no folder can be made below it"):
        check_destination(afile / "sub" / "deeper", "--out")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.geteuid() != 0:  # root may write anywhere
        with pytest.raises(ValueError, match="permission denied"):
            check_destination(locked / "new", "--out")
    assert check_destination(tmp_path / "new" / "deeper", "--out") == tmp_path / "new" / "deeper"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "locked"]  # checks create nothing
