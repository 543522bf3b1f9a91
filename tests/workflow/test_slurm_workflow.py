"""The sample workflow (tiny config) on a real one-node SLURM cluster, submitted the way users do:
``snakemake --executor slurm --workflow-profile profiles/slurm``.

The cluster (tools/slurm/start.sh through tests/infra.py) has one node with one fake GPU (``Gres=gpu:1``,
a character device made with mknod): SLURM allocates it and sets CUDA_VISIBLE_DEVICES, while torch finds
no CUDA and trains on CPU. The workflow runs once per module; the tests read what it left behind.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from infra import (
    Unavailable,
    ensure_slurm_plugin,
    running_slurm,
    slurm_job_info,
    slurm_submissions,
    snakemake_on_slurm,
)
from tiny import ROOT, snakemake, write_tiny_config

pytestmark = pytest.mark.slow  # the whole tiny workflow, once more, through sbatch

TRAINING_RULES = ("train_terrain", "train_colouriser", "train_colour_baseline")
LOCAL_RULES = ("fetch_raster", "fetch_collection", "all", "train")  # the Snakefile's localrules


@dataclass(frozen=True)
class SlurmRun:
    """What one SLURM run of the workflow left: its folder, snakemake's output and each job's record."""

    workdir: Path
    log: str
    submissions: list[tuple[str, str]]  # (rule, SLURM job id)
    jobs: dict[str, str]  # job id -> `scontrol show job`

    def job_ids(self, rule: str) -> list[str]:
        return [job_id for r, job_id in self.submissions if r == rule]


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmRun]:
    """Start the cluster, run the whole tiny workflow through it, record the jobs, stop the daemons."""
    workdir = tmp_path_factory.mktemp("slurm_workflow")
    write_tiny_config(workdir)
    try:
        ensure_slurm_plugin()
        with running_slurm() as cluster:
            proc = snakemake_on_slurm(
                cluster,
                workdir,
                "--executor",
                "slurm",
                "--snakefile",
                str(ROOT / "Snakefile"),
                "--configfile",
                str(workdir / "config.yaml"),
                # Two jobs in flight, not the profile's 20: the test node's "8 CPUs" are 2 real cores,
                # and more concurrent torch jobs only oversubscribe them (3 min instead of 4-5 here).
                "--jobs",
                "2",
                "all",  # the default run and the demo training, whose jobs go to the GPU partition
                "train",
                timeout=600,
            )
            log = proc.stdout + proc.stderr
            submissions = slurm_submissions(log)
            # Finished jobs stay known to slurmctld for MinJobAge (900 s here): read them before stopping it.
            jobs = {job_id: slurm_job_info(cluster, job_id) for _, job_id in submissions}
    except Unavailable as exc:
        pytest.skip(f"no local SLURM cluster: {exc}")
    yield SlurmRun(workdir, log, submissions, jobs)


def _job_stats(log: str) -> Counter[str]:
    """Jobs per rule from the "Job stats:" table snakemake prints before it starts."""
    table = log.split("Job stats:", 1)[1].split("total", 1)[0]
    return Counter({rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)})


def test_training_rules_ran_through_sbatch_with_one_gpu(slurm_run: SlurmRun) -> None:
    for rule in TRAINING_RULES:
        ids = slurm_run.job_ids(rule)
        assert len(ids) == (2 if rule == "train_terrain" else 1), (rule, ids)  # one job per terrain model
        for job_id in ids:
            info = slurm_run.jobs[job_id]
            assert "JobState=COMPLETED" in info, info
            assert "TresPerJob=gres:gpu:1" in info, info  # profile gpu: 1 -> sbatch --gpus=1
            assert "CPUs/Task=4" in info and re.search(r"\bPartition=gpu\b", info), info
    for rule, job_id in slurm_run.submissions:
        if rule not in TRAINING_RULES:  # every other job: a CPU job on the CPU partition
            info = slurm_run.jobs[job_id]
            assert "gres:gpu" not in info and "gres/gpu" not in info, (rule, info)
            assert re.search(r"\bPartition=cpu\b", info), (rule, info)


def test_training_logs_show_the_gpu_slurm_allocated(slurm_run: SlurmRun) -> None:
    # No real GPU behind the fake device: device "auto" must fall back to CPU, not crash.
    logs = slurm_run.workdir / "results" / "logs"
    paths = [logs / f"{r}.log" for r in ("train_colouriser", "train_colour_baseline")]
    paths += sorted(logs.glob("train_terrain/*.log"))
    assert len(paths) == 4
    for path in paths:
        text = path.read_text()
        assert re.search(r"training on (cpu|cuda:0) \(rank 0 of 1, CUDA_VISIBLE_DEVICES=0,", text), text


def test_downloads_stay_local_and_every_other_job_is_submitted(slurm_run: SlurmRun) -> None:
    stats = _job_stats(slurm_run.log)
    assert {"fetch_raster", "fetch_collection", *TRAINING_RULES} <= stats.keys(), stats
    submitted = Counter(rule for rule, _ in slurm_run.submissions)
    assert submitted == Counter({r: n for r, n in stats.items() if r not in LOCAL_RULES})
    for rule in ("fetch_raster", "fetch_collection"):
        assert f"localrule {rule}:" in slurm_run.log
    assert len(slurm_run.jobs) == len(set(slurm_run.jobs)) == submitted.total()


def test_every_output_exists_and_nothing_is_left_to_do(slurm_run: SlurmRun) -> None:
    workdir = slurm_run.workdir
    # A forced dry run lists every job with its outputs, and rule all with its inputs.
    plan = snakemake(workdir, "-n", "-F", "--cores", "1", "all", "train")
    assert plan.returncode == 0, plan.stderr[-3000:]
    listed = re.findall(r"^\s+(?:output|input): (.+)$", plan.stdout + plan.stderr, re.M)
    all_inputs = re.search(r"^rule all:\n\s+input: (.+)$", plan.stdout + plan.stderr, re.M)
    assert all_inputs is not None and len(all_inputs.group(1).split(", ")) >= 10
    files = {f for line in listed for f in line.split(", ")}
    assert "results/models/terrain_pix2pix/model.pt" in files
    missing = sorted(f for f in files if not (workdir / f).exists())
    assert not missing, missing
    dry = snakemake(workdir, "-n", "--cores", "1", "all", "train")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]
