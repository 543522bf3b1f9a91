"""Shipping weights: fp16 files that load as models, byte-reproducible, within the limit; the shipped one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from areograph.artefacts.evaluation import eval_files
from areograph.artefacts.layout import benchmark_file, eval_dir, log_file, model_dir
from areograph.artefacts.model_dir import TrainingRun, model_file
from areograph.artefacts.shipped import shipped_files
from areograph.config import load_config
from areograph.models.init import init_weights
from areograph.models.registry import build_model
from areograph.ship import export_fp16, export_terrain
from areograph.training.checkpoint import load_generator, load_model_meta, model_scaling, save_model

ROOT = Path(__file__).resolve().parents[1]
SPEC = {"name": "unet", "kwargs": {"in_channels": 1, "out_channels": 3, "ngf": 4, "depth": 6, "dropout": 0.5}}


def test_fp16_export_loads_reproducibly_and_respects_the_limit(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = init_weights(build_model(SPEC["name"], **SPEC["kwargs"]))
    model = save_model(tmp_path / "model.pt", SPEC, net, 7, extra_meta={"elevation_range_m": [0.0, 1.0]})
    info = export_fp16(model, tmp_path / "a.pt", max_mb=30)
    export_fp16(model, tmp_path / "b.pt", max_mb=30)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()
    assert info["size_mb"] < (tmp_path / "model.pt").stat().st_size / 1e6  # half-size weights
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        full, half = load_generator(model)(x), load_generator(tmp_path / "a.pt")(x)
    assert (full - half).abs().max() < 1e-2
    assert load_model_meta(tmp_path / "a.pt").elevation_range_m == (0, 1)
    with pytest.raises(ValueError, match=r"over the 0\.001 MB limit"):
        export_fp16(model, tmp_path / "c.pt", max_mb=0.001)
    assert not (tmp_path / "c.pt").exists()


def test_the_shipped_terrain_weights_match_the_default_config() -> None:
    cfg = load_config(ROOT / "config.yaml")
    path = ROOT / cfg["render"]["weights"]
    assert path.stat().st_size < 30e6 and (path.parent / "MODEL_CARD.md").is_file()
    _, conditioning = model_scaling(path, cfg["elevation"]["earth_range_m"])  # a mismatch would raise
    meta = load_model_meta(path)
    assert conditioning[0] == "elevation" and meta.tile_px == cfg["tiles"]["size_px"]
    assert len(meta.earth_reference_quantiles_m) == 1001
    assert {"italy", "ri"}.isdisjoint(meta.train_regions)  # the held-out regions stayed out
    state = torch.load(path, weights_only=True)["generator"]["state_dict"]
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())


def test_export_terrain_finds_the_run_where_the_rules_put_it(tmp_path: Path) -> None:
    """The model, its evaluation, benchmark and log by the results layout the rules use; shipped files."""
    results = tmp_path / "results"
    cfg = load_config(ROOT / "config.yaml") | {"results_dir": str(results)}
    cfg["render"] = cfg["render"] | {"model": "pix2pix"}
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(cfg))
    torch.manual_seed(0)
    net = init_weights(build_model(SPEC["name"], **SPEC["kwargs"]))
    save_model(model_file(model_dir(results, "terrain_pix2pix")), SPEC, net, 5, extra_meta={"tile_px": 64})
    scores = dict.fromkeys(["l1", "block_l1", "texture", "palette", "psnr", "ssim"], 0.5)
    metrics = {"train_regions": ["sierra"], "regions": {"italy": {"methods": {"pix2pix": scores}}}}
    metrics_json = eval_files(eval_dir(results, "terrain"))["metrics"]
    metrics_json.parent.mkdir(parents=True)
    metrics_json.write_text(json.dumps(metrics))
    bench = benchmark_file(results, "train_terrain", "pix2pix")
    bench.parent.mkdir(parents=True)
    bench.write_text("s\th:m:s\n120.0\t0:02:00\n")
    train_log = log_file(results, "train_terrain", "pix2pix")
    train_log.parent.mkdir(parents=True)
    train_log.write_text("training on cuda:0 (NVIDIA H200)\n")
    export_terrain(config_file, tmp_path / "ship")
    shipped = shipped_files(tmp_path / "ship")
    assert json.loads(shipped["metrics"].read_text()) == metrics
    card = shipped["card"].read_text()
    # a model file from before the training record: the log's device and the benchmark's time, said so
    assert "| device, precision | cuda:0, not recorded |" in card
    assert "| wall time | 2.0 min (the training job's last run; the model file records none) |" in card
    assert "| italy | **pix2pix** | 0.5 | 0.5 | 0.5 | 0.5 | 0.5 | 0.5 | - |" in card  # no lattice figure
    x = torch.randn(1, 1, 64, 64)
    with torch.no_grad():  # the shipped file is this run's generator, in fp16
        trained = load_generator(model_file(model_dir(results, "terrain_pix2pix")))(x)
        assert (load_generator(shipped["model"])(x) - trained).abs().max() < 1e-2
    # a model file that records how it trained: the card reads it, not the log or the benchmark
    run = TrainingRun("cuda:1", "bf16", 600.0, 5, start_step=2)
    save_model(model_file(model_dir(results, "terrain_pix2pix")), SPEC, net, 5, {"tile_px": 64}, {}, run)
    export_terrain(config_file, tmp_path / "ship2")
    text = shipped_files(tmp_path / "ship2")["card"].read_text()
    assert "| device, precision | cuda:1, bf16 |" in text
    assert "| wall time | 10.0 min (steps 2-5, resumed from a checkpoint) |" in text
