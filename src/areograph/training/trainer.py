"""The one training loop: pix2pix (cGAN + lambda * L1) or plain regression, for terrain and rovers alike.

``train`` takes model *specs* (registry name + kwargs), a dataset of ``{"cond", "target"}`` tensors in
[-1, 1] and a :class:`TrainConfig`; it writes ``losses.csv``/``losses.png``, an atomic
``checkpoints/latest.pt`` and finally a self-describing ``model.pt``. Re-running it on the same
``out_dir`` resumes exactly (weights, optimisers, schedule, RNG states, data order) when the setup
matches, and starts afresh otherwise.

Exact resume holds with and without DataLoader workers: the sampler hands every item its position in
the sample stream (``StepSampler(keyed=True)``), and the datasets derive augmentations from (seed,
index, position) alone, so no augmentation state lives in a dataset or a worker process.

Distributed data parallel: under ``torchrun`` (``WORLD_SIZE > 1``) the process group is initialised
(NCCL on CUDA, Gloo on CPU), each rank draws its own shard of every global batch, gradients are
averaged by DDP, logged losses are averaged over ranks, and only rank 0 writes files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from areograph.artefacts.model_dir import TrainingRun, checkpoint_file, losses_files, model_file
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.training.checkpoint import (
    build_from_entry,
    capture_rng_state,
    cpu_state_dict,
    init_from_file,
    load_file,
    restore_rng_state,
    resume_problem,
    save_checkpoint,
    save_model,
)
from areograph.training.plots import plot_losses, write_losses
from areograph.training.precision import CHANNELS_LAST, PRECISIONS, Precision, resolve_precision
from areograph.training.schedule import StepSampler, WeightedStepSampler, make_scheduler, set_lr_for_step
from areograph.training.spectral import spectral_loss

log = logging.getLogger(__name__)

# Weight of the colourfulness-matching term beside L1 (same scaled units: L1 of ab vs chroma spread).
COLOURFULNESS_WEIGHT = 1.0


def chroma_colourfulness(ab: torch.Tensor) -> torch.Tensor:
    """(B,) Hasler & Suesstrunk's colourfulness carried to the two chroma channels of each image:
    the spread of (a, b) plus 0.3 times the length of its mean (scaled ab units)."""
    flat = ab.flatten(2)
    spread = (flat.var(dim=2, unbiased=False).sum(dim=1) + 1e-8).sqrt()
    return spread + 0.3 * (flat.mean(dim=2).square().sum(dim=1) + 1e-8).sqrt()


def l1_colourfulness_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 plus a colourfulness-matching term (DDColor, Kang et al. 2023, use a colourfulness loss).

    L1 pulls an uncertain pixel to the median of its possible colours, so a model unsure of a frame's
    tint paints it greyer than it is; the second term asks each image's colour spread and mean
    chroma to match the truth's, in either direction (DDColor's term only pushes colourfulness up).
    """
    match = (chroma_colourfulness(pred) - chroma_colourfulness(target)).abs().mean()
    return F.l1_loss(pred, target) + COLOURFULNESS_WEIGHT * match


REGRESSION_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "l1": F.l1_loss,
    "mse": F.mse_loss,
    "l1_colourfulness": l1_colourfulness_loss,
}
PIX2PIX_TERMS = ("g_gan", "g_l1", "d_real", "d_fake")
REGRESSION_TERMS = ("loss",)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; defaults are the pix2pix reference (Adam 2e-4, beta1 0.5, lambda_L1 100)."""

    steps: int
    batch_size: int = 1
    lr: float = 2e-4
    beta1: float = 0.5
    lambda_l1: float = 100.0
    decay_start_fraction: float = 0.5
    checkpoint_every: int = 500
    seed: int = 0
    device: str = "auto"
    mode: str = "pix2pix"
    regression_loss: str = "l1"
    num_workers: int = 0
    precision: str = "auto"  # training/precision.py: bf16 where native (CUDA, AVX512-BF16 / AMX CPUs)
    channels_last: bool | str = "auto"  # auto: with bf16
    init_from: str | None = None  # a model file / checkpoint to start from (fine-tuning); see _train
    lambda_spectral: float = 0.0  # pix2pix only: weight of the spectral loss (training/spectral.py); 0 = off

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.checkpoint_every < 1 or self.num_workers < 0:
            raise ValueError(f"steps, batch_size, checkpoint_every must be >= 1 and num_workers >= 0: {self}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.regression_loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"regression_loss must be one of {sorted(REGRESSION_LOSSES)}, got {self.regression_loss!r}"
            )
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.channels_last not in CHANNELS_LAST:
            raise ValueError(f"channels_last must be auto, true or false, got {self.channels_last!r}")
        if self.lambda_spectral < 0 or (self.lambda_spectral and self.mode != "pix2pix"):
            raise ValueError(f"lambda_spectral must be >= 0, and set only in pix2pix mode: {self}")
        if not 0.0 <= self.decay_start_fraction <= 1.0:
            raise ValueError(f"decay_start_fraction must lie in [0, 1], got {self.decay_start_fraction}")


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when available else CPU; under torchrun each rank takes its LOCAL_RANK GPU."""
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("training device 'cuda' requested but CUDA is not available")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def check_arithmetic(training: dict[str, Any] | Any) -> Precision:
    """Resolve a ``training`` config's precision on its device now: a refused one fails before any work."""
    get = training.get
    device = resolve_device(get("device", "auto"))
    return resolve_precision(get("precision", "auto"), device, get("channels_last", "auto"))


def _set_requires_grad(model: nn.Module, flag: bool) -> None:
    for p in model.parameters():
        p.requires_grad_(flag)


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def pix2pix_step(
    generator: nn.Module,
    discriminator: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    cond: torch.Tensor,
    target: torch.Tensor,
    lambda_l1: float,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    lambda_spectral: float = 0.0,
) -> dict[str, torch.Tensor]:
    """One pix2pix update: D on real vs detached fake pairs (loss halved), then G on GAN + lambda * L1
    (+ lambda_spectral * the spectral loss, logged as ``g_spectral``, when it is set).

    ``discriminator`` may be DDP-wrapped; the G step calls the bare module with its weights frozen, so
    no gradient (and no DDP reduction) is spent on D there. Returns detached loss terms.
    """
    d_plain = discriminator.module if isinstance(discriminator, DistributedDataParallel) else discriminator
    with autocast():
        fake = generator(cond)
    # Discriminator: fake and real pairs as two calls, as the reference does. One call on both as a
    # double batch gives the same losses (instance norm is per sample) but was 7-10 % slower on the CPU
    # (docs/performance.md).
    _set_requires_grad(d_plain, True)
    opt_d.zero_grad(set_to_none=True)
    with autocast():
        pred_fake = discriminator(torch.cat([cond, fake.detach()], 1))
        pred_real = discriminator(torch.cat([cond, target], 1))
        d_fake, d_real = _bce(pred_fake, False), _bce(pred_real, True)
        d_loss = 0.5 * (d_fake + d_real)
    d_loss.backward()
    opt_d.step()
    # Generator: fool the (frozen) discriminator and stay close to the target.
    _set_requires_grad(d_plain, False)
    opt_g.zero_grad(set_to_none=True)
    with autocast():
        g_gan = _bce(d_plain(torch.cat([cond, fake], 1)), True)
        g_l1 = F.l1_loss(fake.float(), target)
        g_loss = g_gan + lambda_l1 * g_l1
    terms = {"g_gan": g_gan, "g_l1": g_l1, "d_real": d_real, "d_fake": d_fake}
    if lambda_spectral:
        terms["g_spectral"] = spectral_loss(fake, target)
        g_loss = g_loss + lambda_spectral * terms["g_spectral"]
    g_loss.backward()
    opt_g.step()
    _set_requires_grad(d_plain, True)
    return {k: v.detach().float() for k, v in terms.items()}


def regression_step(
    generator: nn.Module,
    opt_g: torch.optim.Optimizer,
    cond: torch.Tensor,
    target: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> dict[str, torch.Tensor]:
    """One plain supervised update (the seed baseline uses MSE); returns ``{"loss": ...}`` detached."""
    opt_g.zero_grad(set_to_none=True)
    with autocast():
        loss = loss_fn(generator(cond).float(), target)
    loss.backward()
    opt_g.step()
    return {"loss": loss.detach().float()}


def classification_step(
    generator: nn.Module,
    opt_g: torch.optim.Optimizer,
    cond: torch.Tensor,
    target: torch.Tensor,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
) -> dict[str, torch.Tensor]:
    """One update of a generator that predicts class logits and owns its loss (models/ab_bins.py)."""
    bare = generator.module if isinstance(generator, DistributedDataParallel) else generator
    opt_g.zero_grad(set_to_none=True)
    with autocast():
        logits = generator(cond, logits=True)
    loss = bare.loss(logits.float(), target)
    loss.backward()
    opt_g.step()
    return {"loss": loss.detach().float()}


Autocast = Callable[[], contextlib.AbstractContextManager[Any]]
Losses = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Update:
    """One training update rule: what a step does, the loss terms it logs, whether a discriminator joins."""

    step: Callable[[_Run, torch.Tensor, torch.Tensor, Autocast], Losses]
    terms: tuple[str, ...]
    adversarial: bool


def _pix2pix_update(run: _Run, cond: torch.Tensor, target: torch.Tensor, autocast: Autocast) -> Losses:
    g, d = run.wrapped["generator"], run.wrapped["discriminator"]
    opt_g, opt_d = run.opts["generator"], run.opts["discriminator"]
    cfg = run.cfg
    return pix2pix_step(g, d, opt_g, opt_d, cond, target, cfg.lambda_l1, autocast, cfg.lambda_spectral)


def _regression_update(run: _Run, cond: torch.Tensor, target: torch.Tensor, autocast: Autocast) -> Losses:
    loss_fn = REGRESSION_LOSSES[run.cfg.regression_loss]
    return regression_step(run.wrapped["generator"], run.opts["generator"], cond, target, loss_fn, autocast)


def _classification_update(run: _Run, cond: torch.Tensor, target: torch.Tensor, autocast: Autocast) -> Losses:
    return classification_step(run.wrapped["generator"], run.opts["generator"], cond, target, autocast)


# The update rules by TrainConfig.mode, which a model kind chooses (training/kinds.py). The names are
# stored in every checkpoint and model file's train_config, so they never change: "pix2pix" is the
# adversarial update (cGAN + lambda * L1), "regression" fits ``regression_loss``, "classification" the
# generator's own loss.
UPDATES: dict[str, Update] = {
    "pix2pix": Update(_pix2pix_update, PIX2PIX_TERMS, adversarial=True),
    "regression": Update(_regression_update, REGRESSION_TERMS, adversarial=False),
    "classification": Update(_classification_update, REGRESSION_TERMS, adversarial=False),
}
MODES = tuple(UPDATES)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _dist_setup(device: torch.device) -> tuple[int, int, bool]:
    """(rank, world size, whether we created the process group) from the torchrun environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    created = not dist.is_initialized()
    if created:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return dist.get_rank(), dist.get_world_size(), created


class _Run:
    """Models, optimisers and schedulers of one run, and the one step that updates them."""

    def __init__(self, specs: dict[str, dict[str, Any]], cfg: TrainConfig, device: torch.device) -> None:
        self.specs, self.cfg, self.device = specs, cfg, device
        self.precision: Precision = resolve_precision(cfg.precision, device, cfg.channels_last)
        self.nets = {r: init_weights(build_model(s["name"], **s.get("kwargs", {}))) for r, s in specs.items()}
        self.update = UPDATES[cfg.mode]
        self.terms = self.update.terms + (("g_spectral",) if cfg.lambda_spectral else ())

    def setup(self, world: int) -> None:
        """Move to the device, build optimisers + schedulers and the (DDP-wrapped when world > 1) views."""
        cfg = self.cfg
        for net in self.nets.values():
            net.to(self.device, memory_format=self.precision.memory_format).train()
        # fused: one pass over each parameter instead of the foreach path's seven; 6x faster on a 64 M
        # parameter update on a 2-core CPU, which is ~15 % of a batch-1 step (docs/performance.md).
        self.opts = {
            r: torch.optim.Adam(n.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999), fused=True)
            for r, n in self.nets.items()
        }
        self.scheds = {
            r: make_scheduler(o, cfg.steps, cfg.decay_start_fraction) for r, o in self.opts.items()
        }
        ids = [self.device] if self.device.type == "cuda" else None
        self.wrapped = {
            r: DistributedDataParallel(n, device_ids=ids) if world > 1 else n for r, n in self.nets.items()
        }

    def restore(self, ckpt: dict[str, Any], path: Path) -> None:
        """Load weights (before setup) from a checkpoint entry per role."""
        self.nets = {role: build_from_entry(ckpt[role], path) for role in self.specs}

    def restore_optim(self, ckpt: dict[str, Any]) -> None:
        """Load optimiser and scheduler states (after setup), and put the LR at the checkpointed step."""
        for role in self.specs:
            self.opts[role].load_state_dict(ckpt["optimizers"][role])
            self.scheds[role].load_state_dict(ckpt["schedulers"][role])
            set_lr_for_step(self.scheds[role], ckpt["step"], self.cfg.steps, self.cfg.decay_start_fraction)

    def step(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """One update; returns the vector [lr, *loss terms] (on the device, not synchronised)."""
        fmt = self.precision.memory_format
        cond = batch["cond"].to(self.device, non_blocking=True, memory_format=fmt)
        target = batch["target"].to(self.device, non_blocking=True, memory_format=fmt)
        lr = self.opts["generator"].param_groups[0]["lr"]
        autocast = functools.partial(self.precision.autocast, self.device)
        losses = self.update.step(self, cond, target, autocast)
        for sched in self.scheds.values():
            sched.step()
        return torch.stack([torch.tensor(lr, device=self.device), *(losses[t] for t in self.terms)])

    def state(
        self, step: int, rng: list[Any], extra_meta: dict[str, Any], world: int, losses: list[list[float]]
    ) -> dict[str, Any]:
        """Everything a checkpoint needs to continue this run exactly, the loss history included.

        The history lives in the checkpoint because a workflow manager deletes a job's declared outputs
        (losses.csv) before rerunning it; the resumed run rewrites the CSV from here.
        """
        return {
            "step": step,
            "losses": losses,
            **{r: {"spec": self.specs[r], "state_dict": cpu_state_dict(self.nets[r])} for r in self.specs},
            "optimizers": {r: o.state_dict() for r, o in self.opts.items()},
            "schedulers": {r: s.state_dict() for r, s in self.scheds.items()},
            "rng": rng,
            "train_config": asdict(self.cfg),
            "extra_meta": extra_meta,
            "world_size": world,
        }


def train(
    generator_spec: dict[str, Any],
    discriminator_spec: dict[str, Any] | None,
    dataset: Dataset,
    cfg: TrainConfig,
    out_dir: Path,
    extra_meta: dict[str, Any] | None = None,
) -> Path:
    """Train (or resume training) a generator and return the path of the final ``out_dir/model.pt``.

    ``*_spec`` is ``{"name": registry name, "kwargs": {...}}``; an adversarial mode (``UPDATES``) needs a
    discriminator spec whose input channels equal cond + target channels, the others take none.
    ``extra_meta`` (plain values only) is stored in the checkpoint and model file.
    """
    if UPDATES[cfg.mode].adversarial != (discriminator_spec is not None):
        need = "needs" if UPDATES[cfg.mode].adversarial else "takes no"
        raise ValueError(f"mode {cfg.mode!r} {need} discriminator_spec")
    try:  # checkpoints load with weights_only=True, which accepts plain values only
        json.dumps(extra_meta or {})
    except TypeError as err:
        raise TypeError(f"extra_meta must hold plain JSON-like values: {err}") from err
    specs = {"generator": generator_spec}
    if discriminator_spec is not None:
        specs["discriminator"] = discriminator_spec
    device = resolve_device(cfg.device)
    precision = resolve_precision(cfg.precision, device, cfg.channels_last)  # refuses before any work
    rank, world, created_pg = _dist_setup(device)
    # Which accelerator the scheduler handed us (SLURM sets CUDA_VISIBLE_DEVICES for --gpus jobs).
    log.info(
        "training on %s (rank %d of %d, CUDA_VISIBLE_DEVICES=%s, torch threads %d)",
        device,
        rank,
        world,
        os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"),
        torch.get_num_threads(),
    )
    log.info("arithmetic: %s (%s)", precision.name, precision.reason)
    try:
        return _train(specs, dataset, cfg, Path(out_dir), dict(extra_meta or {}), device, rank, world)
    finally:
        if created_pg and dist.is_initialized():
            dist.destroy_process_group()


def _train(
    specs: dict[str, dict[str, Any]],
    dataset: Dataset,
    cfg: TrainConfig,
    out_dir: Path,
    extra_meta: dict[str, Any],
    device: torch.device,
    rank: int,
    world: int,
) -> Path:
    ckpt_path, (csv_path, png_path) = checkpoint_file(out_dir), losses_files(out_dir)
    final = model_file(out_dir)
    _seed_all(cfg.seed)
    run = _Run(specs, cfg, device)
    _seed_all(cfg.seed + rank)  # ranks draw different dropout masks
    ckpt = load_file(ckpt_path) if ckpt_path.is_file() else None
    if ckpt is not None and (problem := resume_problem(ckpt, specs, asdict(cfg), world)):
        log.warning("%s: not resuming (%s); training from scratch", ckpt_path, problem)
        ckpt = None
    if ckpt is not None:
        run.restore(ckpt, ckpt_path)
    elif cfg.init_from:  # a fresh run that fine-tunes: step 0 starts from those weights
        roles = init_from_file(run.nets, Path(cfg.init_from))
        log.info("starting %s from %s", " and ".join(roles), cfg.init_from)
    start = ckpt["step"] if ckpt is not None else 0
    if rank == 0:
        final.unlink(missing_ok=True)  # never leave a stale result beside a new run
    run.setup(world)
    _check_shapes(run.nets, dataset)
    rows: list[list[float]] = []
    if ckpt is not None:
        run.restore_optim(ckpt)
        rows = [list(r) for r in ckpt.get("losses", [])]
        restore_rng_state(ckpt["rng"][rank])
        log.info("resuming %s from step %d of %d", out_dir, start, cfg.steps)

    loader = DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        sampler=StepSampler(len(dataset), cfg.batch_size, cfg.seed, start, rank, world, keyed=True)
        if (weights := getattr(dataset, "sample_weights", None)) is None
        else WeightedStepSampler(weights, cfg.batch_size, cfg.seed, start, rank, world),
        num_workers=cfg.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=cfg.num_workers > 0,  # no worker restart cost at each checkpoint flush
        # A private generator: creating the iterator must not draw from the global RNG (exact resume).
        generator=torch.Generator().manual_seed(cfg.seed * 1_000_003 + start * 101 + rank),
    )
    pending: list[torch.Tensor] = []

    def flush(step: int) -> None:
        """Average pending losses over ranks; rank 0 writes the log, the plot and the checkpoint."""
        stacked = torch.stack(pending)
        if world > 1:
            dist.all_reduce(stacked)
            stacked /= world
        rows.extend([float(step - len(pending) + i + 1), *r] for i, r in enumerate(stacked.cpu().tolist()))
        pending.clear()
        rng: list[Any] = [capture_rng_state()]
        if world > 1:
            rng = [None] * world
            dist.all_gather_object(rng, capture_rng_state())
        if rank == 0:
            write_losses(csv_path, ["step", "lr", *run.terms], rows)
            plot_losses(csv_path, png_path)
            save_checkpoint(ckpt_path, run.state(step, rng, extra_meta, world, rows))
            last = dict(zip(run.terms, rows[-1][2:], strict=True))
            log.info("step %d of %d: %s", step, cfg.steps, ", ".join(f"{k} {v:.4g}" for k, v in last.items()))

    quiet = rank != 0 or not sys.stderr.isatty()
    began = time.monotonic()  # the model file records this process's training time (TrainingRun)
    with tqdm(total=cfg.steps, initial=start, desc="train", disable=quiet, leave=False) as progress:
        batches = iter(loader)
        for step in range(start, cfg.steps):
            pending.append(run.step(next(batches)))
            done = step + 1
            progress.update(1)
            if not quiet and done % 25 == 0:
                progress.set_postfix(dict(zip(run.terms, pending[-1][1:].tolist(), strict=True)))
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                flush(done)
    if rank == 0:
        if start == cfg.steps:  # nothing left to train: restore the outputs a rerun may have deleted
            write_losses(csv_path, ["step", "lr", *run.terms], rows)
            plot_losses(csv_path, png_path)
        wall_s = round(time.monotonic() - began, 1)
        record = TrainingRun(str(device), run.precision.name, wall_s, cfg.steps, start)
        generator = run.nets["generator"]
        save_model(final, specs["generator"], generator, cfg.steps, extra_meta, asdict(cfg), record)
    if world > 1:
        dist.barrier()
    return final


@torch.no_grad()
def _check_shapes(nets: dict[str, nn.Module], dataset: Dataset) -> None:
    """Fail early, with a clear message, when the data do not fit the models (eval mode: no RNG drawn)."""
    item = dataset[0]
    if not isinstance(item, dict) or not {"cond", "target"} <= item.keys():
        raise ValueError(f"dataset items must be dicts with 'cond' and 'target' tensors, got {type(item)}")
    cond, target = item["cond"], item["target"]
    shapes = f"cond {tuple(cond.shape)}, target {tuple(target.shape)}"
    if cond.ndim != 3 or target.ndim != 3 or cond.shape[1:] != target.shape[1:]:
        raise ValueError(f"'cond' and 'target' must be (C, H, W) with equal H, W; got {shapes}")
    gen = nets["generator"]
    device = next(gen.parameters()).device
    gen.eval()
    try:
        fake = gen(cond[None].to(device))
        if fake.shape[1:] != target.shape:
            raise ValueError(f"generator output {tuple(fake.shape[1:])} does not match {shapes}")
        if "discriminator" in nets:
            nets["discriminator"](torch.cat([cond[None].to(device), fake], 1))
    except RuntimeError as err:
        raise ValueError(f"data ({shapes}) do not fit the models: {err}") from err
    finally:
        gen.train()
