"""Real servers on 127.0.0.1 for the end-to-end tests: a one-node SLURM cluster and an S3 endpoint.

The servers are started and stopped by the scripts in ``tools/slurm`` and ``tools/s3`` (which people
can also run by hand); these helpers run them, read back what they export, and stop the daemons by
PID afterwards. A machine that cannot have a server (no root, no apt, no PyPI) raises
:class:`Unavailable`, which the tests turn into a skip with the script's reason.

    with running_slurm() as cluster:
        run(["sbatch", ...], env=cluster.env())
        snakemake_on_slurm(cluster, workdir, "--configfile", "config.yaml")
    with running_s3(tmp_path / "s3") as s3:
        dvc_s3_remote(repo, s3)
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SLURM_TOOLS = ROOT / "tools" / "slurm"
S3_TOOLS = ROOT / "tools" / "s3"
SLURM_PLUGIN_DIR = ROOT / ".venv" / "slurm-plugin"
SLURM_PROFILE = ROOT / "profiles" / "slurm"
BIN = Path(sys.executable).parent
# The plugin's first status check comes 40 s after a submission by default; the test cluster answers
# in about a second, so the tests ask for the first check after 1 s.
FAST_SLURM_ARGS = ("--slurm-init-seconds-before-status-checks", "1")
SKIP_EXIT = 3  # what the tools/*/start.sh scripts exit with when the server cannot be had here


class Unavailable(RuntimeError):
    """This machine cannot run the server (missing packages that may not be installed, no root)."""


@dataclass(frozen=True)
class SlurmCluster:
    """A running private cluster: where its state lives and the variables clients need."""

    state_dir: Path
    exports: Mapping[str, str]

    def env(self, base: Mapping[str, str] | None = None, plugin: bool = False) -> dict[str, str]:
        """Environment for sbatch/squeue/snakemake against this cluster.

        CUDA_VISIBLE_DEVICES is dropped so that a value seen inside a job can only come from SLURM's
        GPU allocation. ``plugin`` puts the SLURM executor plugin on PYTHONPATH (see
        :func:`ensure_slurm_plugin`).
        """
        env = dict(os.environ if base is None else base)
        env.pop("CUDA_VISIBLE_DEVICES", None)
        env.update(self.exports)
        if plugin:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SLURM_PLUGIN_DIR), env.get("PYTHONPATH")]))
        return env


@dataclass(frozen=True)
class S3Server:
    """A running SeaweedFS S3 endpoint with one bucket and one access key."""

    state_dir: Path
    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str


def install_allowed() -> bool:
    """Whether the helpers may install missing servers: in CI, or when asked with AREOGRAPH_INSTALL=1."""
    return os.environ.get("CI") == "true" or os.environ.get("AREOGRAPH_INSTALL") == "1"


def run(
    cmd: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a command with output captured; on failure raise with its output, so a test log shows why."""
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def _parse_exports(text: str) -> dict[str, str]:
    """Read the ``export NAME=value`` lines the start scripts print (``$PATH`` expanded here)."""
    exports: dict[str, str] = {}
    for line in text.splitlines():
        m = re.fullmatch(r"export (\w+)=(.*)", line.strip())
        if m:
            exports[m.group(1)] = m.group(2).replace("$PATH", os.environ.get("PATH", ""))
    return exports


def _start(script: Path, state_dir: Path, timeout: float) -> dict[str, str]:
    """Run a tools/*/start.sh; its exit code 3 means "not possible here" and becomes Unavailable."""
    env = dict(os.environ)
    if install_allowed():
        env["AREOGRAPH_SLURM_INSTALL"] = env["AREOGRAPH_S3_INSTALL"] = "1"
    proc = run(["bash", script, str(state_dir)], env=env, check=False, timeout=timeout)
    if proc.returncode == SKIP_EXIT:
        reasons = [ln.removeprefix("SKIP: ") for ln in proc.stderr.splitlines() if ln.startswith("SKIP:")]
        raise Unavailable("; ".join(reasons) or proc.stderr.strip())
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed ({proc.returncode}):\n{proc.stderr}")
    return _parse_exports(proc.stdout)


@contextlib.contextmanager
def running_slurm(state_dir: Path | None = None) -> Iterator[SlurmCluster]:
    """Start munged, slurmctld and slurmd for one node with one fake GPU; stop them by PID on exit.

    Without ``state_dir`` a fresh short directory under /tmp is used and removed afterwards: munge's
    socket lives in it and unix socket paths must stay under 108 characters (pytest's tmp_path can
    be longer).
    """
    with contextlib.ExitStack() as stack:
        if state_dir is None:
            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="slurm-")))
        if len(str(state_dir)) > 80:
            raise ValueError(f"SLURM state dir {state_dir} is too long for munge's socket path")
        state_dir.mkdir(parents=True, exist_ok=True)
        try:  # stop also after a failed start: some daemons may be up
            exports = _start(SLURM_TOOLS / "start.sh", state_dir, timeout=600 if install_allowed() else 120)
            yield SlurmCluster(state_dir=state_dir, exports=exports)
        finally:
            run(["bash", SLURM_TOOLS / "stop.sh", str(state_dir)], check=False, timeout=60)


@contextlib.contextmanager
def running_s3(state_dir: Path) -> Iterator[S3Server]:
    """Start SeaweedFS (``weed mini``) with a generated identity and bucket; stop it by PID on exit."""
    state_dir.mkdir(parents=True, exist_ok=True)
    try:  # stop also after a failed start
        exports = _start(S3_TOOLS / "start.sh", state_dir, timeout=300 if install_allowed() else 60)
        yield S3Server(
            state_dir=state_dir,
            endpoint=exports["AREOGRAPH_S3_ENDPOINT"],
            bucket=exports["AREOGRAPH_S3_BUCKET"],
            access_key_id=exports["AREOGRAPH_S3_ACCESS_KEY_ID"],
            secret_access_key=exports["AREOGRAPH_S3_SECRET_ACCESS_KEY"],
        )
    finally:
        run(["bash", S3_TOOLS / "stop.sh", str(state_dir)], check=False, timeout=60)


def ensure_slurm_plugin() -> Path:
    """Make sure snakemake's SLURM executor plugin sits in its side folder, installing it if allowed.

    The plugin is kept out of .venv on purpose (it calls scontrol on import); the folder goes on
    PYTHONPATH only for SLURM runs (:meth:`SlurmCluster.env` with ``plugin=True``).
    """
    if not (SLURM_PLUGIN_DIR / "snakemake_executor_plugin_slurm").is_dir() and not install_allowed():
        raise Unavailable(
            f"snakemake SLURM executor plugin not in {SLURM_PLUGIN_DIR}; "
            "run tools/slurm/install-plugin.sh (or set CI=true / AREOGRAPH_INSTALL=1)"
        )
    run(["bash", SLURM_TOOLS / "install-plugin.sh", str(SLURM_PLUGIN_DIR)], timeout=600)
    return SLURM_PLUGIN_DIR


def wait_for_slurm_job(cluster: SlurmCluster, job_id: str, timeout: float = 60) -> str:
    """Poll squeue until the job leaves PENDING/RUNNING and return its final state (e.g. COMPLETED)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        out = run(["squeue", "-h", "--states=all", "-j", job_id, "-o", "%T"], env=cluster.env()).stdout
        state = out.strip()
        if state and state not in {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING"}:
            return state
        time.sleep(0.2)
    raise TimeoutError(f"SLURM job {job_id} still {state or 'unknown'} after {timeout} s")


def snakemake_on_slurm(
    cluster: SlurmCluster, workdir: Path, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run snakemake in ``workdir`` through the SLURM executor with profiles/slurm, as users do.

    Adds what a test needs on top: the plugin on PYTHONPATH (installed if allowed, else
    :class:`Unavailable`), the example partitions file (GPU jobs to partition ``gpu``, others to
    ``cpu``) and a 1 s first status check. Raises with the full log when snakemake fails.
    """
    ensure_slurm_plugin()
    env = cluster.env(plugin=True)
    env["SNAKEMAKE_SLURM_PARTITIONS"] = str(SLURM_PROFILE / "partitions.example.yaml")
    cmd = [str(BIN / "snakemake"), "--workflow-profile", str(SLURM_PROFILE), *FAST_SLURM_ARGS, *args]
    return run(cmd, cwd=workdir, env=env, timeout=timeout)


def slurm_submissions(log: str) -> list[tuple[str, str]]:
    """(rule, SLURM job id) for every job snakemake's log says it submitted, in submission order."""
    # "Job 1 has been submitted with SLURM jobid 7 (log: /w/.snakemake/slurm_logs/rule_train/7.log)."
    return re.findall(r"submitted with SLURM jobid \d+ \(log: \S*/rule_(\w+)/(?:\S+/)?(\d+)\.log", log)


def slurm_job_info(cluster: SlurmCluster, job_id: str) -> str:
    """``scontrol show job``: partition, CPUs, memory, time limit and TresPerJob (the GPU request)."""
    return run(["scontrol", "show", "job", job_id], env=cluster.env()).stdout


def dvc_s3_remote(
    repo: Path, s3: S3Server, name: str = "storage", prefix: str = "cache", credentials: bool = True
) -> None:
    """Point a DVC repo's default remote at the test server, the way docs/share.md tells users to.

    URL and endpoint go to the committed .dvc/config; the keys (when ``credentials``) go to the
    git-ignored .dvc/config.local via ``--local``.
    """
    dvc = BIN / "dvc"
    run([dvc, "remote", "add", "-d", "-f", name, f"s3://{s3.bucket}/{prefix}"], cwd=repo)
    run([dvc, "remote", "modify", name, "endpointurl", s3.endpoint], cwd=repo)
    if credentials:
        run([dvc, "remote", "modify", "--local", name, "access_key_id", s3.access_key_id], cwd=repo)
        run([dvc, "remote", "modify", "--local", name, "secret_access_key", s3.secret_access_key], cwd=repo)
