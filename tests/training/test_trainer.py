"""The one trainer: LR schedule, data order, outputs, exact resume, regression mode and DDP (Gloo, CPU)."""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import shutil
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
import torch.nn.functional as F

from areograph.models.baseline import Baseline
from areograph.models.unet import UNetGenerator
from areograph.training.checkpoint import load_file, load_generator, save_checkpoint
from areograph.training.precision import cpu_flags, native_bf16_flag
from areograph.training.schedule import StepSampler, lr_factor
from areograph.training.trainer import TrainConfig, train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


G_SPEC = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": 4, "depth": 5}}
D_SPEC = {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": 4, "n_layers": 3}}


class Pairs(torch.utils.data.Dataset):
    """Smooth random fields -> a learnable 3-channel map, with augmentations from python and numpy RNGs.

    Drawing from both global RNGs (and dropout from torch's) means an exact resume needs all three.
    """

    def __init__(self, n: int = 8, px: int = 32, target_channels: int = 3) -> None:
        g = torch.Generator().manual_seed(1)
        low = torch.rand(n, 1, 4, 4, generator=g) * 2 - 1
        self.x = F.interpolate(low, size=(px, px), mode="bilinear", align_corners=False)
        self.target_channels = target_channels
        self.seen: list[int] = []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        self.seen.append(int(i))
        c = self.x[i]
        if random.random() < 0.5:
            c = c.flip(-1)
        c = (c + torch.from_numpy(np.random.normal(0, 0.01, c.shape).astype(np.float32))).clamp(-1, 1)
        target = torch.cat([c, -c, 0.5 * c])[: self.target_channels]
        return {"cond": c, "target": target}


class Interrupted(Exception):
    """Stands in for a killed job."""


class InterruptedPairs(Pairs):
    """Fails on the first read after ``limit`` reads: the job dies right after a checkpoint."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if len(self.seen) >= self.limit:
            raise Interrupted
        return super().__getitem__(i)


def _weights(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    data = load_file(path)
    return {role: data[role]["state_dict"] for role in ("generator", "discriminator") if data.get(role)}


def _same(a: dict[str, dict[str, torch.Tensor]], b: dict[str, dict[str, torch.Tensor]]) -> bool:
    return a.keys() == b.keys() and all(
        a[r].keys() == b[r].keys() and all(torch.equal(a[r][k], b[r][k]) for k in a[r]) for r in a
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _cfg(**kw: Any) -> TrainConfig:
    return TrainConfig(**{"steps": 8, "checkpoint_every": 4, "device": "cpu", "batch_size": 2, **kw})


def test_lr_factor_is_constant_then_linear_to_zero() -> None:
    assert [lr_factor(s, 10, 0.5) for s in range(11)] == pytest.approx(
        [1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0]
    )
    assert [lr_factor(s, 4, 1.0) for s in range(4)] == [1.0] * 4  # no decay
    assert lr_factor(0, 4, 0.0) == 1.0 and lr_factor(2, 4, 0.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="decay_start_fraction"):
        lr_factor(0, 10, 1.5)


def test_step_sampler_is_a_pure_function_of_the_step() -> None:
    def take(sampler: StepSampler, k: int) -> list[int]:
        it = iter(sampler)
        return [next(it) for _ in range(k)]

    full = take(StepSampler(5, batch_size=2, seed=3), 20)
    assert take(StepSampler(5, batch_size=2, seed=3, start_step=3), 14) == full[6:]
    assert sorted(full[:5]) == sorted(full[5:10]) == list(range(5))  # each epoch is a permutation
    assert full[:5] != full[5:10]  # reshuffled per epoch
    r0 = take(StepSampler(8, 2, seed=0, rank=0, world=2), 8)
    r1 = take(StepSampler(8, 2, seed=0, rank=1, world=2), 8)
    for s in range(4):  # ranks split every global batch; two steps cover an epoch
        assert not set(r0[2 * s : 2 * s + 2]) & set(r1[2 * s : 2 * s + 2])
    assert sorted(r0[:4] + r1[:4]) == list(range(8))


def test_pix2pix_loss_goes_down_on_a_learnable_mapping(tmp_path: Path) -> None:
    g_spec = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": 8, "depth": 5}}
    d_spec = {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": 8, "n_layers": 2}}
    cfg = TrainConfig(steps=100, checkpoint_every=100, device="cpu")
    train(g_spec, d_spec, Pairs(), cfg, tmp_path)
    l1 = [float(r["g_l1"]) for r in _rows(tmp_path / "losses.csv")]
    assert len(l1) == 100
    assert np.mean(l1[-20:]) < 0.7 * np.mean(l1[:10])


def test_outputs_checkpoint_and_model_file(tmp_path: Path) -> None:
    cfg = _cfg(steps=6, checkpoint_every=4)
    meta = {"tile_px": 32, "earth_range_m": [-500.0, 4500.0]}
    model_path = train(G_SPEC, D_SPEC, Pairs(), cfg, tmp_path, extra_meta=meta)
    assert model_path == tmp_path / "model.pt"
    rows = _rows(tmp_path / "losses.csv")
    assert list(rows[0]) == ["step", "lr", "g_gan", "g_l1", "d_real", "d_fake"]
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    lrs = [float(r["lr"]) for r in rows]
    assert lrs == pytest.approx([2e-4 * lr_factor(s, 6, 0.5) for s in range(6)])
    assert (tmp_path / "losses.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["latest.pt"]  # no temp leftovers

    ckpt = load_file(tmp_path / "checkpoints" / "latest.pt")
    assert ckpt["step"] == 6 and ckpt["world_size"] == 1
    assert ckpt["generator"]["spec"] == G_SPEC and ckpt["discriminator"]["spec"] == D_SPEC
    assert set(ckpt["optimizers"]) == set(ckpt["schedulers"]) == {"generator", "discriminator"}
    assert set(ckpt["rng"][0]) >= {"python", "numpy", "torch"}
    assert ckpt["train_config"]["lambda_l1"] == 100.0 and ckpt["extra_meta"] == meta

    model = load_file(model_path)
    assert model["step"] == 6 and model["extra_meta"] == meta and "discriminator" not in model
    gen = load_generator(model_path)
    assert isinstance(gen, UNetGenerator) and not gen.training
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    assert torch.equal(gen(x), gen(x))
    assert torch.equal(gen(x), load_generator(tmp_path / "checkpoints" / "latest.pt")(x))

    # a rerun of a finished run does no work and reproduces the same model
    train(G_SPEC, D_SPEC, Pairs(), cfg, tmp_path, extra_meta=meta)
    assert torch.equal(load_generator(model_path)(x), gen(x))
    assert len(_rows(tmp_path / "losses.csv")) == 6


def test_resume_after_interruption_is_exact(tmp_path: Path) -> None:
    cfg = _cfg()  # 8 steps, checkpoint every 4, LR decay over steps 4-8, dropout on
    train(G_SPEC, D_SPEC, Pairs(), cfg, tmp_path / "once")
    reference = _weights(tmp_path / "once" / "model.pt")

    run = tmp_path / "resumed"
    with pytest.raises(Interrupted):  # dies at step 5, after the step-4 checkpoint
        train(G_SPEC, D_SPEC, InterruptedPairs(limit=1 + 4 * 2), cfg, run)
    assert load_file(run / "checkpoints" / "latest.pt")["step"] == 4
    assert not (run / "model.pt").exists()
    half = tmp_path / "half.pt"
    shutil.copy(run / "checkpoints" / "latest.pt", half)
    train(G_SPEC, D_SPEC, Pairs(), cfg, run)
    assert _same(_weights(run / "model.pt"), {"generator": reference["generator"]})
    assert _same(
        _weights(run / "checkpoints" / "latest.pt"), _weights(tmp_path / "once/checkpoints/latest.pt")
    )
    assert _rows(run / "losses.csv") == _rows(tmp_path / "once" / "losses.csv")  # continued, no duplicates

    # Controls: the same resume with the RNG or optimiser state of the checkpoint spoilt must differ.
    def resume_with(name: str, spoil: Any) -> dict[str, dict[str, torch.Tensor]]:
        ckpt = load_file(half)
        spoil(ckpt)
        save_checkpoint(tmp_path / name / "checkpoints" / "latest.pt", ckpt)
        train(G_SPEC, D_SPEC, Pairs(), cfg, tmp_path / name)
        return _weights(tmp_path / name / "model.pt")

    def fresh_rng(ckpt: dict[str, Any]) -> None:
        ckpt["rng"][0]["torch"] = torch.Generator().manual_seed(123).get_state()

    def fresh_adam(ckpt: dict[str, Any]) -> None:
        for opt in ckpt["optimizers"].values():
            opt["state"] = {}

    assert not _same(resume_with("bad_rng", fresh_rng), {"generator": reference["generator"]})
    assert not _same(resume_with("bad_adam", fresh_adam), {"generator": reference["generator"]})
    assert _same(resume_with("control", lambda ckpt: None), {"generator": reference["generator"]})


def test_rerun_after_outputs_deleted_keeps_loss_history(tmp_path: Path) -> None:
    """Snakemake deletes a job's declared outputs (losses.csv/png, model.pt) before rerunning it."""
    cfg = _cfg()
    train(G_SPEC, D_SPEC, Pairs(), cfg, tmp_path / "once")
    run = tmp_path / "run"
    with pytest.raises(Interrupted):  # mid-run: the step-4 checkpoint exists
        train(G_SPEC, D_SPEC, InterruptedPairs(limit=1 + 4 * 2), cfg, run)
    (run / "losses.csv").unlink()
    (run / "losses.png").unlink()
    train(G_SPEC, D_SPEC, Pairs(), cfg, run)
    assert _rows(run / "losses.csv") == _rows(tmp_path / "once" / "losses.csv")
    for name in ("losses.csv", "losses.png", "model.pt"):  # finished: a forced rerun restores them all
        (run / name).unlink()
    train(G_SPEC, D_SPEC, Pairs(), cfg, run)
    assert _rows(run / "losses.csv") == _rows(tmp_path / "once" / "losses.csv")
    assert (run / "losses.png").stat().st_size > 0
    reference = _weights(tmp_path / "once" / "model.pt")["generator"]
    assert _same(_weights(run / "model.pt"), {"generator": reference})


def test_resume_can_extend_training(tmp_path: Path) -> None:
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=8, decay_start_fraction=1.0), tmp_path / "once")
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=4, decay_start_fraction=1.0), tmp_path / "more")
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=8, decay_start_fraction=1.0), tmp_path / "more")
    assert _same(_weights(tmp_path / "more" / "model.pt"), _weights(tmp_path / "once" / "model.pt"))
    assert [int(r["step"]) for r in _rows(tmp_path / "more" / "losses.csv")] == list(range(1, 9))
    # with decay on, the continued steps follow the *new* schedule, not the one the checkpoint ended
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=2), tmp_path / "decay")
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=4), tmp_path / "decay")
    lrs = [float(r["lr"]) for r in _rows(tmp_path / "decay" / "losses.csv")]
    assert lrs == pytest.approx([2e-4 * lr_factor(s, 2, 0.5) for s in range(2)] + [2e-4, 1e-4])


def test_changed_settings_start_from_scratch(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=4), tmp_path / "run")
    with caplog.at_level(logging.WARNING):
        train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=4, lambda_l1=10.0), tmp_path / "run")
    assert "not resuming" in caplog.text and "lambda_l1" in caplog.text
    train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=4, lambda_l1=10.0), tmp_path / "fresh")
    assert _same(_weights(tmp_path / "run" / "model.pt"), _weights(tmp_path / "fresh" / "model.pt"))
    assert len(_rows(tmp_path / "run" / "losses.csv")) == 4


def test_fine_tuning_starts_from_a_model_file_with_added_filters(tmp_path: Path) -> None:
    """init_from: a bilinear model's weights start a run with blurs added (a blur is a fixed buffer)."""
    bilinear = {**G_SPEC, "kwargs": {**G_SPEC["kwargs"], "upsample": "bilinear", "downsample": "blur"}}
    blurred = {**G_SPEC, "kwargs": {**bilinear["kwargs"], "blur_up": 2}}
    first = train(bilinear, D_SPEC, Pairs(), _cfg(steps=4), tmp_path / "first")
    # lr 0: Adam moves nothing, so the fine-tuned run holds exactly the weights it started from. A model
    # file starts the generator only; a checkpoint both networks.
    checkpoint = first.parent / "checkpoints" / "latest.pt"
    for start_file, roles in ((first, ["generator"]), (checkpoint, ["generator", "discriminator"])):
        out = tmp_path / f"tuned_{start_file.stem}"
        tuned = train(blurred, D_SPEC, Pairs(), _cfg(steps=2, lr=0.0, init_from=str(start_file)), out)
        start, end = _weights(checkpoint), _weights(out / "checkpoints" / "latest.pt")
        for role in ("generator", "discriminator"):
            same = all(torch.equal(v, end[role][k]) for k, v in start[role].items())
            assert same == (role in roles), (start_file, role)
        added = set(end["generator"]) - set(start["generator"])
        assert added and all(k.endswith(".kernel") for k in added)
        assert load_file(tuned)["train_config"]["init_from"] == str(start_file)
    # a run resumed from its own checkpoint does not go back to the init weights
    train(blurred, D_SPEC, Pairs(), _cfg(steps=4, init_from=str(first)), tmp_path / "more")
    again = train(blurred, D_SPEC, Pairs(), _cfg(steps=6, init_from=str(first)), tmp_path / "more")
    assert [int(r["step"]) for r in _rows(again.parent / "losses.csv")] == list(range(1, 7))


def test_fine_tuning_from_another_network_fails_naming_the_file(tmp_path: Path) -> None:
    first = train(G_SPEC, D_SPEC, Pairs(), _cfg(steps=2), tmp_path / "first")
    wider = {**G_SPEC, "kwargs": {**G_SPEC["kwargs"], "ngf": 8}}
    with pytest.raises(ValueError, match=rf"{first}: its generator cannot start this run's generator"):
        train(wider, D_SPEC, Pairs(), _cfg(steps=2, init_from=str(first)), tmp_path / "wider")
    assert not (tmp_path / "wider").exists()  # refused before any work: nothing left behind


def test_a_checkpoint_without_a_newer_setting_still_resumes() -> None:
    """Settings added later (init_from) compare as their default against older checkpoints."""
    from dataclasses import asdict

    from areograph.training.checkpoint import resume_problem

    cfg = asdict(_cfg())
    old = {k: v for k, v in cfg.items() if k != "init_from"}
    ckpt = {"step": 2, "train_config": old, "generator": {"spec": G_SPEC}}
    assert resume_problem(ckpt, {"generator": G_SPEC}, cfg, 1) is None
    assert "init_from" in resume_problem(ckpt, {"generator": G_SPEC}, cfg | {"init_from": "x.pt"}, 1)


def test_regression_mode_trains_the_baseline_with_mse(tmp_path: Path) -> None:
    spec = {"name": "baseline", "kwargs": {"in_channels": 1, "out_channels": 3, "width": 4}}
    cfg = _cfg(steps=5, mode="regression", regression_loss="mse")
    train(spec, None, Pairs(), cfg, tmp_path)
    rows = _rows(tmp_path / "losses.csv")
    assert list(rows[0]) == ["step", "lr", "loss"] and len(rows) == 5
    assert isinstance(load_generator(tmp_path / "model.pt"), Baseline)
    with pytest.raises(ValueError, match="takes no discriminator"):
        train(spec, D_SPEC, Pairs(), cfg, tmp_path / "x")
    with pytest.raises(ValueError, match="needs discriminator"):
        train(G_SPEC, None, Pairs(), _cfg(), tmp_path / "y")


def test_two_channel_targets_for_colourisation(tmp_path: Path) -> None:
    g = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 2, "ngf": 4, "depth": 5}}
    d = {"name": "patchgan", "kwargs": {"in_channels": 3, "ndf": 4}}
    train(g, d, Pairs(target_channels=2), _cfg(steps=2), tmp_path)
    assert load_generator(tmp_path / "model.pt")(torch.zeros(1, 1, 32, 32)).shape == (1, 2, 32, 32)


def test_data_that_do_not_fit_the_model_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"generator output \(3, 32, 32\) does not match"):
        train(G_SPEC, D_SPEC, Pairs(target_channels=2), _cfg(), tmp_path)
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "checkpoints").exists()
    with pytest.raises(ValueError, match="mode must be one of"):
        TrainConfig(steps=1, mode="wgan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, out_dir: Path, seen_dir: Path) -> None:
    os.environ.update(
        WORLD_SIZE=str(world),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    data = Pairs()
    train(G_SPEC, D_SPEC, data, _cfg(steps=4, checkpoint_every=2), out_dir)
    (seen_dir / f"{rank}.json").write_text(json.dumps(data.seen[1:]))  # [0] is the shape check


def test_ddp_two_gloo_processes(tmp_path: Path) -> None:
    out, seen = tmp_path / "ddp", tmp_path / "seen"
    seen.mkdir()
    mp.spawn(_ddp_worker, args=(2, _free_port(), out, seen), nprocs=2, join=True)
    r0, r1 = (json.loads((seen / f"{r}.json").read_text()) for r in (0, 1))
    assert len(r0) == len(r1) == 4 * 2
    for s in range(4):  # every step, the two ranks train on different samples
        assert not set(r0[2 * s : 2 * s + 2]) & set(r1[2 * s : 2 * s + 2])
    assert sorted(r0[:4] + r1[:4]) == list(range(8))
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == [
        "latest.pt",
        "losses.csv",
        "losses.png",
        "model.pt",
    ]
    rows = _rows(out / "losses.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4] and list(rows[0])[2:] == [
        "g_gan",
        "g_l1",
        "d_real",
        "d_fake",
    ]
    ckpt = load_file(out / "checkpoints" / "latest.pt")
    assert ckpt["world_size"] == 2 and len(ckpt["rng"]) == 2
    assert isinstance(load_generator(out / "model.pt"), UNetGenerator)


@pytest.mark.skipif(native_bf16_flag(cpu_flags()) is None, reason="this CPU has no native bf16 (refused)")
def test_bf16_channels_last_is_applied_and_resumes_exactly(tmp_path: Path) -> None:
    train(G_SPEC, D_SPEC, Pairs(), _cfg(precision="fp32"), tmp_path / "fp32")
    fp32 = _weights(tmp_path / "fp32" / "model.pt")["generator"]
    bf16 = _cfg(precision="bf16", channels_last=True)
    train(G_SPEC, D_SPEC, Pairs(), bf16, tmp_path / "once")
    reference = _weights(tmp_path / "once" / "model.pt")
    assert not _same(reference, {"generator": fp32})  # the autocast really ran
    run = tmp_path / "resumed"
    with pytest.raises(Interrupted):
        train(G_SPEC, D_SPEC, InterruptedPairs(limit=1 + 4 * 2), bf16, run)
    train(G_SPEC, D_SPEC, Pairs(), bf16, run)
    assert _same(_weights(run / "model.pt"), reference)
    with pytest.raises(ValueError, match="precision"):
        _cfg(precision="fp16")
