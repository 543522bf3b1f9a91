"""Run one training call on every GPU of a node: directly for one GPU, under ``torchrun`` for more.

A workflow step asks for N GPUs (``resources: gpu=N``, or ``gpu: N`` in a SLURM profile) and hands
its training call to :func:`launch`. With N > 1 the call is written to a JSON spec (function as
``module:name``, plain-value arguments) and re-run in N processes by
``python -m torch.distributed.run --standalone --nproc_per_node N -m areograph.training.launch SPEC``;
each process calls the function, the trainer sees ``WORLD_SIZE`` and trains with
DistributedDataParallel (NCCL on CUDA, Gloo on CPU), and rank 0 writes the files. The processes'
output is copied line by line into this process's stderr, so under ``log_to`` it lands in the step's
log. ``AREOGRAPH_NPROC`` overrides N (e.g. ``AREOGRAPH_NPROC=2`` with ``device: cpu`` tries DDP with
two Gloo processes on a machine without GPUs).
"""

from __future__ import annotations

import collections
import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.distributed.elastic.multiprocessing.errors import record

import areograph
from areograph.atomic import atomic_path

log = logging.getLogger(__name__)

NPROC_ENV = "AREOGRAPH_NPROC"
TAIL_LINES = 30


def processes_for(gpus: int | str | None) -> int:
    """How many training processes a step given ``gpus`` GPUs starts: one per GPU, at least one.

    ``AREOGRAPH_NPROC`` wins when set. Asking for more GPUs than CUDA shows fails here, clearly,
    rather than in a rank that finds no device of its own; without CUDA the processes train on CPU.
    """
    override = os.environ.get(NPROC_ENV, "").strip()
    if override:
        if not override.isdigit() or int(override) < 1:
            raise ValueError(f"{NPROC_ENV} must be a positive integer, got {override!r}")
        return int(override)
    n = max(1, int(gpus or 0))
    if n > 1:
        if torch.cuda.is_available() and torch.cuda.device_count() < n:
            raise RuntimeError(
                f"the step asks for {n} GPUs but CUDA shows {torch.cuda.device_count()} "
                f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')})"
            )
        if not torch.cuda.is_available():
            log.warning("%d GPUs asked for but CUDA is not available: %d CPU processes (gloo)", n, n)
    return n


def inside_torchrun() -> bool:
    """Whether this process is already one of torchrun's workers (which sets LOCAL_RANK)."""
    return "LOCAL_RANK" in os.environ


def _plain(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not a plain JSON value")


def function_ref(fn: Callable[..., Any]) -> str:
    """``module:name`` of a module-level function, checked to import back to the same object."""
    module, name = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "." in name or "<" in name:
        raise ValueError(f"{fn!r} must be a module-level function of an importable module (torchrun)")
    if getattr(importlib.import_module(module), name, None) is not fn:
        raise ValueError(f"{module}.{name} does not import back to {fn!r}")
    return f"{module}:{name}"


def write_spec(path: Path, fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Path:
    """Serialise a call (function reference + plain-value arguments) so that other processes repeat it.

    Paths become strings; anything else that is not plain JSON is refused, naming the argument.
    """
    spec = {"function": function_ref(fn), "args": list(args), "kwargs": kwargs, "result": str(path) + ".out"}
    try:
        text = json.dumps(spec, default=_plain, indent=1)
    except TypeError as err:
        raise TypeError(f"cannot pass the arguments of {spec['function']} to torchrun: {err}") from err
    path.write_text(text)
    return path


def launch(nproc: int, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` once, or in ``nproc`` torchrun processes on this node, and wait.

    The arguments are checked to serialise in both cases, so a step that works on one GPU works on
    several. Returns ``fn``'s result; from torchrun it comes back through JSON (paths as strings).
    Raises RuntimeError when a process fails (its traceback is in the copied output).
    """
    with tempfile.TemporaryDirectory(prefix="areograph-launch-") as tmp:
        spec = write_spec(Path(tmp) / "call.json", fn, args, kwargs)
        if nproc <= 1 or inside_torchrun():
            return fn(*args, **kwargs)
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
            "--nproc_per_node", str(nproc), "-m", __name__, str(spec),
        ]  # fmt: skip
        log.info("starting %d training processes: %s", nproc, " ".join(cmd))
        _stream(cmd, _child_env(nproc))
        return json.loads(Path(json.loads(spec.read_text())["result"]).read_text())


def _child_env(nproc: int) -> dict[str, str]:
    """This environment, plus the package on PYTHONPATH and the CPU threads shared among the ranks."""
    env = dict(os.environ)
    src = str(Path(areograph.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    env.setdefault("OMP_NUM_THREADS", str(max(1, cpus // nproc)))
    return env


def _stream(cmd: list[str], env: dict[str, str]) -> None:
    """Run ``cmd``, copying its output into sys.stderr as it comes; raise when it fails.

    The error repeats the last lines of the output, where torchrun names the failed rank and its error.
    """
    sys.stderr.flush()
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            tail.append(line)
        sys.stderr.flush()
    if proc.returncode != 0:
        raise RuntimeError(f"torchrun exited {proc.returncode}: {' '.join(cmd)}\n{''.join(tail)}")


def run_spec(path: Path) -> Any:
    """Worker side: repeat the call described by ``path``; rank 0 writes the result beside it."""
    spec = json.loads(Path(path).read_text())
    module, name = spec["function"].split(":")
    fn = getattr(importlib.import_module(module), name)
    result = fn(*spec["args"], **spec["kwargs"])
    if int(os.environ.get("RANK", "0")) == 0:
        with atomic_path(spec["result"]) as tmp:
            tmp.write_text(json.dumps(result, default=_plain))
    return result


@record
def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of each torchrun worker: log to stderr tagged with the rank, then run the spec."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit(f"usage: python -m {__name__} SPEC.json")
    handler = logging.StreamHandler(sys.stderr)
    rank = os.environ.get("RANK", "0")
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s [rank {rank}] %(name)s: %(message)s"))
    logger = logging.getLogger("areograph")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        run_spec(Path(argv[0]))
    except BaseException:
        logger.exception("training process failed")
        raise


if __name__ == "__main__":
    main()
