"""Fault injection on the whole workflow: a job killed in each phase in turn, then the rerun.

One working directory runs the tiny workflow (tests/tiny.py) once per phase, up to that phase's rules
(``--until``), with ``AREOGRAPH_FAULT`` (areograph.faults) set so that every job of the phase is
SIGKILLed at its worst moment: its output complete in a temporary, not yet renamed into place
(training: while writing its last checkpoint). So each run starts with the earlier phases done and the
killed jobs' leftovers on disk. A last run without faults must then finish with outputs
byte-identical to a clean run's (the shared ``tiny_workflow`` build; model files but for the record of
how their training ran, whose wall time differs), and no temporary left behind.
The work done is about one workflow build plus the killed jobs' share.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import torch
from tiny import snakemake, write_tiny_config

from areograph.artefacts.model_dir import MODEL_FILE
from areograph.training.checkpoint import load_file

PHASES = {  # phase -> (the rules it ends with, which atomic write is killed)
    "fetch": (["fetch_raster", "fetch_collection"], "before-rename:*results/raw/*"),
    "tile": (["tile_layer", "filter_rover_colour"], "before-rename:*results/tiles/*"),
    "pack": (["pack_terrain_pairs", "pack_colour_patches"], "before-rename:*results/datasets/*"),
    "train": (  # killed while writing the last checkpoint: the rerun resumes from the first
        ["train_terrain", "train_colouriser", "train_colour_baseline"],
        "before-rename:*checkpoints/latest.pt@2",
    ),
    "render": (["render_mars"], "before-rename:*results/mars/*"),
    "video": (["render_rover_video"], "before-rename:*.mp4"),
}
NOT_COMPARED = ("results/logs/", "results/benchmarks/")
TARGETS = ("all", "train")  # as the tiny_workflow fixture: the default run and the demo training


def _files(root: Path) -> dict[str, bytes]:
    """Every output's bytes; a model file's without its ``training_run`` record (device, wall time)."""
    out = {}
    for path in sorted((root / "results").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(NOT_COMPARED):
            out[rel] = _without_training_run(path) if path.name == MODEL_FILE else path.read_bytes()
    return out


def _without_training_run(path: Path) -> bytes:
    data = load_file(path)
    data.pop("training_run", None)
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


def _hidden(root: Path) -> list[Path]:
    """Hidden files and folders under results/, but for Snakemake's own directory markers."""
    return [p for p in (root / "results").rglob(".*") if p.name != ".snakemake_timestamp"]


@pytest.mark.slow
def test_a_kill_in_every_phase_then_a_rerun_gives_the_clean_outputs(
    tiny_workflow: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "faulty"
    workdir.mkdir()
    write_tiny_config(workdir)
    for phase, (rules, fault) in PHASES.items():  # each run stops after its phase (--until)
        env = {**os.environ, "AREOGRAPH_FAULT": fault}
        run = snakemake(workdir, *TARGETS, "--cores", "2", "--keep-going", "--until", *rules, env=env)
        assert run.returncode != 0, f"{phase}: the injected fault did not fire\n{run.stderr[-3000:]}"
        assert "Error in rule" in run.stderr, f"{phase}: {run.stderr[-3000:]}"
        assert _hidden(workdir), f"{phase}: the killed jobs left no temporary, so the kill was not mid-write"
    env = {k: v for k, v in os.environ.items() if k != "AREOGRAPH_FAULT"}
    final = snakemake(workdir, *TARGETS, "--cores", "2", env=env)
    assert final.returncode == 0, final.stdout[-2000:] + final.stderr[-4000:]
    assert "resuming" in (workdir / "results/logs/train_terrain/pix2pix.log").read_text()

    clean, faulty = _files(tiny_workflow), _files(workdir)
    assert sorted(faulty) == sorted(clean)  # the same files: nothing missing, no temporary left
    differ = [name for name in clean if clean[name] != faulty[name]]
    assert not differ, f"outputs differ from a clean run: {differ}"
    assert not _hidden(workdir)  # the dead jobs' temporaries were removed by the reruns
