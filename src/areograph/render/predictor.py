"""A trained generator as the numpy batch function window inference runs (Mars mosaics and rover frames)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from areograph.training.trainer import autocast_for


def generator_predictor(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a generator as a numpy batch -> numpy batch function for window inference (eval mode).

    Batches run in inference mode on the model's device, channels_last (NHWC convolutions), with bf16
    autocast on CUDA (as in training; fp32 on CPU, where bf16 changes the rendered colours).
    """
    model.eval()
    device = next(model.parameters()).device
    model.to(memory_format=torch.channels_last)

    def predict(batch: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(batch).float().to(device, memory_format=torch.channels_last)
        with torch.inference_mode(), autocast_for(device):
            out = model(x)
        return out.float().clamp(-1, 1).contiguous().cpu().numpy()

    return predict
