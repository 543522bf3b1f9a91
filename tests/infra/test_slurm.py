"""A real one-node SLURM cluster on 127.0.0.1: GPU jobs get CUDA_VISIBLE_DEVICES from SLURM, and
snakemake's SLURM executor, driven by profiles/slurm, sends the GPU rule through sbatch with the
profile's resources to the GPU partition, while `localrules` stay on the submitting machine."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from infra import (
    BIN,
    SLURM_PROFILE,
    SlurmCluster,
    Unavailable,
    ensure_slurm_plugin,
    run,
    running_slurm,
    slurm_job_info,
    slurm_submissions,
    snakemake_on_slurm,
    wait_for_slurm_job,
)

TRAINING_RULES = ("train_terrain", "train_colouriser", "train_colour_baseline")

# train_terrain names no resources: the GPU, CPUs, memory and runtime must come from the profile.
# tile is a plain remote job; make_input and all stay local.
_ECHO = (
    "echo SLURM_JOB_ID=${{SLURM_JOB_ID:-none}} CUDA_VISIBLE_DEVICES=${{CUDA_VISIBLE_DEVICES:-unset}} > {log}"
)
SNAKEFILE = f"""\
localrules:
    all,
    make_input,


rule all:
    input:
        "out/model.txt",
        "out/tiles.txt",


rule make_input:
    output:
        "out/input.txt",
    log:
        "logs/make_input.log",
    shell:
        "echo data > {{output}}; {_ECHO}"


rule tile:
    input:
        "out/input.txt",
    output:
        "out/tiles.txt",
    log:
        "logs/tile.log",
    shell:
        "cp {{input}} {{output}}; {_ECHO}"


rule train_terrain:
    input:
        "out/input.txt",
    output:
        "out/model.txt",
    log:
        "logs/train_terrain.log",
    shell:
        "cp {{input}} {{output}}; {_ECHO}"
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[SlurmCluster]:
    try:
        with running_slurm() as c:
            yield c
    except Unavailable as exc:
        pytest.skip(f"no local SLURM cluster: {exc}")


@pytest.fixture(scope="module")
def plugin_env(cluster: SlurmCluster) -> dict[str, str]:
    """Environment for snakemake with the SLURM executor plugin on PYTHONPATH."""
    try:
        ensure_slurm_plugin()
    except Unavailable as exc:
        pytest.skip(str(exc))
    return cluster.env(plugin=True)


def test_profile_gives_every_training_rule_one_gpu_and_polls_with_squeue() -> None:
    profile = yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] == "squeue"
    for rule in TRAINING_RULES:
        res = profile["set-resources"][rule]
        assert res["gpu"] == 1, rule
        assert {"cpus_per_task", "mem_mb", "runtime"} <= res.keys(), rule
    # Partition and account are per cluster: never set by default in the profile.
    flat = yaml.safe_dump(profile)
    assert "slurm_partition" not in flat and "slurm_account" not in flat


def test_gpu_job_gets_cuda_visible_devices_from_slurm(cluster: SlurmCluster, tmp_path: Path) -> None:
    env = cluster.env()
    wrap = "echo CUDA=${CUDA_VISIBLE_DEVICES:-unset} JOB=$SLURM_JOB_ID"
    jobs = {}
    for name, extra in (("gpu", ["--gres=gpu:1"]), ("cpu", [])):
        out = tmp_path / f"{name}.out"
        proc = run(["sbatch", "--parsable", *extra, "-o", out, "--wrap", wrap], env=env, cwd=tmp_path)
        jobs[name] = (proc.stdout.strip().split(";")[0], out)
    for name, (job_id, out) in jobs.items():
        assert wait_for_slurm_job(cluster, job_id) == "COMPLETED", name
        assert out.read_text().split() == [f"CUDA={'0' if name == 'gpu' else 'unset'}", f"JOB={job_id}"], name


def test_snakemake_finds_the_plugin_only_on_its_pythonpath(plugin_env: dict[str, str]) -> None:
    # Kept out of .venv: there it would run scontrol on every snakemake start.
    assert importlib.util.find_spec("snakemake_executor_plugin_slurm") is None
    help_text = run([BIN / "snakemake", "--executor", "slurm", "--help"], env=plugin_env).stdout
    assert "--slurm-status-command" in help_text


def test_profile_runs_gpu_rule_through_sbatch(cluster: SlurmCluster, tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    try:
        proc = snakemake_on_slurm(cluster, tmp_path)
    except Unavailable as exc:
        pytest.skip(str(exc))
    assert (tmp_path / "out" / "model.txt").read_text() == "data\n"
    assert (tmp_path / "out" / "tiles.txt").read_text() == "data\n"

    submitted = dict(slurm_submissions(proc.stdout + proc.stderr))
    assert submitted.keys() == {"tile", "train_terrain"}, proc.stderr  # make_input, all: localrules

    def ran(rule: str) -> list[str]:
        return (tmp_path / "logs" / f"{rule}.log").read_text().split()

    assert ran("make_input") == ["SLURM_JOB_ID=none", "CUDA_VISIBLE_DEVICES=unset"]
    assert ran("tile") == [f"SLURM_JOB_ID={submitted['tile']}", "CUDA_VISIBLE_DEVICES=unset"]
    assert ran("train_terrain") == [f"SLURM_JOB_ID={submitted['train_terrain']}", "CUDA_VISIBLE_DEVICES=0"]

    train = slurm_job_info(cluster, submitted["train_terrain"])
    assert "TresPerJob=gres:gpu:1" in train, train  # the profile's gpu: 1 became sbatch --gpus=1
    assert "CPUs/Task=4" in train and "MinMemoryNode=16000M" in train, train
    assert re.search(r"\bTimeLimit=08:00:00\b", train), train
    # Partitions come from the partitions file (GPU jobs to "gpu"), never from the rules.
    assert re.search(r"\bPartition=gpu\b", train), train
    assert re.search(r"\bPartition=cpu\b", slurm_job_info(cluster, submitted["tile"]))
