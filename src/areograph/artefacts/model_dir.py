"""A model directory, as training writes it: the model file, the resumable checkpoint and the loss log.

``model.pt`` is self-describing (spec, weights, typed metadata; training/checkpoint.py reads and
writes it); ``checkpoints/latest.pt`` lets an interrupted run resume; ``losses.csv`` / ``losses.png``
are the loss log and its plot (training/plots.py).
"""

from __future__ import annotations

from pathlib import Path

MODEL_FILE = "model.pt"
CHECKPOINT_FILE = "checkpoints/latest.pt"
LOSSES_CSV = "losses.csv"
LOSSES_PNG = "losses.png"
# What a training job declares as outputs (the checkpoint is its private state, not an output).
TRAINING_OUTPUTS = (MODEL_FILE, LOSSES_CSV, LOSSES_PNG)


def model_file(model_dir: Path | str) -> Path:
    """The model file of a model directory."""
    return Path(model_dir) / MODEL_FILE


def checkpoint_file(model_dir: Path | str) -> Path:
    """The resumable checkpoint of a model directory."""
    return Path(model_dir) / CHECKPOINT_FILE


def losses_files(model_dir: Path | str) -> tuple[Path, Path]:
    """(loss log CSV, its plot) of a model directory."""
    return Path(model_dir) / LOSSES_CSV, Path(model_dir) / LOSSES_PNG
