"""A trained generator as the numpy batch function window inference runs (Mars mosaics and rover frames)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from areograph.training.precision import resolve_precision


def generator_predictor(
    model: torch.nn.Module, precision: str = "auto"
) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a generator as a numpy batch -> numpy batch function for window inference (eval mode).

    Batches run in inference mode on the model's device, channels_last (NHWC convolutions). ``precision``
    (training/precision.py): auto = bf16 autocast on CUDA and on CPUs with native bf16, fp32 elsewhere;
    the bf16 render differs from fp32 by under one 8-bit level on average (docs/performance.md).
    """
    model.eval()
    device = next(model.parameters()).device
    arithmetic = resolve_precision(precision, device, channels_last=True)
    model.to(memory_format=torch.channels_last)

    def predict(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).float().to(device, memory_format=torch.channels_last)
        with torch.inference_mode(), arithmetic.autocast(device):
            out = model(x)
        return out.float().clamp(-1, 1).contiguous().cpu().numpy()

    return predict
