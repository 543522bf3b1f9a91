"""Self-describing checkpoints and model files, written atomically, loaded without pickled code.

A file stores each model as ``{"spec": {"name", "kwargs"}, "state_dict"}`` so it can rebuild the
network from the registry by itself (the nanoGPT idea). Everything stored is tensors and plain Python
values, so files load with ``torch.load(weights_only=True)``: opening a checkpoint never runs code.
"""

from __future__ import annotations

import io
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from areograph.artefacts.model_dir import ModelMeta, TrainingRun
from areograph.artefacts.types import ModelMismatchError
from areograph.atomic import atomic_path
from areograph.models.registry import build_model

CHECKPOINT_FORMAT = "areograph.checkpoint/1"
MODEL_FORMAT = "areograph.model/1"


def cpu_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """The module's weights, detached and on the CPU, so a file loads on any machine."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def capture_rng_state() -> dict[str, Any]:
    """Snapshot every RNG a training step draws from (python, numpy, torch CPU, CUDA if present).

    Restoring it makes a resumed run draw the same dropout masks and augmentations as an
    uninterrupted one.
    """
    bit_gen, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": bit_gen,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`; CUDA states are restored only when the device count matches."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        (
            np_state["bit_generator"],
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda])


def _canonical(value: Any) -> Any:
    """A copy whose equal strings are one object, and no container is shared.

    Pickle writes a repeated *object* as a back-reference but an equal *copy* in full, so the bytes
    would depend on how the payload was built (literal, parsed from JSON, read from YAML) rather than on
    what it holds.
    """
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, dict):
        return {_canonical(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_canonical(v) for v in value)
    return value


def write_torch_file(path: Path, payload: dict[str, Any]) -> Path:
    """``torch.save`` atomically and byte-reproducibly: same payload, same bytes, whatever the path.

    torch names the zip archive inside the file after the file it writes to, and the atomic write's
    temporary name is random, so saving to the temporary made every rebuild differ (and DVC see new
    content). Serialising a canonical copy to memory first gives the fixed archive name ``archive``
    and a pickle that depends only on the payload's values; the bytes are then
    written and synced under the temporary name and renamed into place (a crash never leaves half a
    file; a full disk is reported with the path by :func:`~areograph.atomic.atomic_path`).
    """
    buffer = io.BytesIO()
    torch.save(_canonical(payload), buffer)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(buffer.getbuffer())
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> Path:
    """Write a training checkpoint atomically (temp file + rename): a crash never leaves half a file."""
    return write_torch_file(path, {"format": CHECKPOINT_FORMAT, **payload})


def load_file(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint or model file safely (``weights_only``), with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint/model file")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise ValueError(f"{path}: not a readable areograph checkpoint/model file ({err})") from err
    if not isinstance(data, dict) or data.get("format") not in (CHECKPOINT_FORMAT, MODEL_FORMAT):
        raise ValueError(f"{path}: not an areograph checkpoint/model file (no recognised 'format' key)")
    return data


def save_model(
    path: Path,
    generator_spec: dict[str, Any],
    generator: nn.Module,
    step: int,
    extra_meta: dict[str, Any] | None = None,
    train_config: dict[str, Any] | None = None,
    training_run: TrainingRun | None = None,
) -> Path:
    """Write the final self-describing generator file (spec + weights + metadata) atomically.

    ``training_run`` (device, precision, wall time) is stored as the file's ``training_run`` entry.
    """
    payload = {
        "format": MODEL_FORMAT,
        "generator": {"spec": generator_spec, "state_dict": cpu_state_dict(generator)},
        "step": step,
        "extra_meta": dict(extra_meta or {}),
        "train_config": dict(train_config or {}),
    }
    if training_run is not None:
        payload["training_run"] = training_run.to_dict()
    return write_torch_file(path, payload)


def build_from_entry(entry: dict[str, Any], path: Path) -> nn.Module:
    """Rebuild a model from a stored ``{"spec", "state_dict"}`` entry; errors name the file."""
    spec = entry["spec"]
    model = build_model(spec["name"], **spec.get("kwargs", {}))
    try:
        model.load_state_dict(entry["state_dict"])
    except RuntimeError as err:
        raise ValueError(f"{path}: weights do not match model spec {spec}: {err}") from err
    return model


def init_from_file(nets: dict[str, nn.Module], path: Path) -> list[str]:
    """Start ``nets`` (by role) from the weights a model file or checkpoint holds: fine-tuning.

    Roles the file lacks keep their fresh initialisation (a shipped ``model.pt`` holds only the
    generator). Weights load by name, so a network that only adds fixed filters (``Blur`` kernels, which
    are buffers, not learnt) to the stored one starts from it; any other difference (a missing or extra
    weight, another shape) is an error naming the file. Returns the roles loaded. fp16 files load into
    fp32 networks.
    """
    data = load_file(Path(path), map_location="cpu")
    loaded = []
    for role, net in nets.items():
        if role not in data:
            continue
        own = net.state_dict()
        stored = {k: v.to(own[k].dtype) if k in own else v for k, v in data[role]["state_dict"].items()}
        missing = [k for k in own if k not in stored and not k.endswith(".kernel")]
        extra = [k for k in stored if k not in own]
        wrong = [k for k in stored if k in own and stored[k].shape != own[k].shape]
        if missing or extra or wrong:
            raise ValueError(
                f"{path}: its {role} cannot start this run's {role} (spec {data[role]['spec']}): "
                f"missing {missing[:3]}, unexpected {extra[:3]}, other shapes {wrong[:3]}"
            )
        net.load_state_dict(stored, strict=False)
        loaded.append(role)
    if "generator" in nets and "generator" not in loaded:
        raise ValueError(f"{path}: holds no generator to start from")
    return loaded


def load_generator(path: Path, device: str | torch.device = "cpu") -> nn.Module:
    """The trained generator from ``model.pt`` or a training checkpoint, on ``device``, in eval() mode.

    eval() matters: it turns dropout off, so inference is deterministic.
    """
    data = load_file(Path(path), map_location="cpu")
    model = build_from_entry(data["generator"], Path(path))
    return model.to(device).eval()


# TrainConfig fields that may differ between an interrupted run and its continuation.
RESUMABLE_CHANGES = ("steps", "checkpoint_every")


def resume_problem(
    ckpt: dict[str, Any], specs: dict[str, dict[str, Any]], train_config: dict[str, Any], world: int
) -> str | None:
    """Why checkpoint ``ckpt`` cannot continue this run (model specs, settings, world size), or None.

    Only ``steps`` (extend training) and ``checkpoint_every`` may change; anything else would make
    the continued run a different experiment, which must start from scratch.
    """
    for role, spec in specs.items():
        stored = (ckpt.get(role) or {}).get("spec")
        if stored != spec:
            return f"{role} spec changed: {stored} -> {spec}"
    old = {k: v for k, v in ckpt.get("train_config", {}).items() if k not in RESUMABLE_CHANGES}
    new = {k: v for k, v in train_config.items() if k not in RESUMABLE_CHANGES}
    # a setting older checkpoints lack compares as its default, None (init_from)
    if changed := sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k)):
        return f"training settings changed: {changed}"
    if ckpt["step"] > train_config["steps"]:
        return f"checkpoint is at step {ckpt['step']}, beyond the requested {train_config['steps']} steps"
    if ckpt.get("world_size", 1) != world:
        return f"world size changed: {ckpt.get('world_size', 1)} -> {world}"
    return None


def load_model_meta(path: Path) -> ModelMeta:
    """The typed metadata a model file or checkpoint was written with (task, scaling, tile size, inputs)."""
    data = load_file(Path(path), map_location="cpu")
    meta = ModelMeta.from_dict(data.get("extra_meta", {}))
    inputs = data["generator"]["spec"].get("kwargs", {}).get("in_channels") if "generator" in data else None
    if inputs is not None and meta.conditioning and len(meta.conditioning) != inputs:
        raise ModelMismatchError(
            f"{path}: metadata names {len(meta.conditioning)} input channels {list(meta.conditioning)}, "
            f"but the generator reads {inputs}"
        )
    return meta


def training_run_of(data: dict[str, Any]) -> TrainingRun | None:
    """The training record of a loaded model file (:func:`load_file`); None for files without one."""
    return TrainingRun.from_dict(data.get("training_run"))


def model_scaling(
    model_path: Path, elevation_range_m: Sequence[float] | None, meta: ModelMeta | None = None
) -> tuple[list[float], list[str]]:
    """(elevation range, conditioning) the generator was trained with, from its own metadata.

    A config range that disagrees with the model's is a :class:`ModelMismatchError`: the same metres
    would mean other heights to the network and the picture would be silently wrong. ``meta`` (when the
    caller already read it) saves reading the file again.
    """
    meta = load_model_meta(model_path) if meta is None else meta
    return list(meta.elevation_range(elevation_range_m, model_path)), list(meta.conditioning)
