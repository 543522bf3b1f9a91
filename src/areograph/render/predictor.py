"""A trained generator as the numpy batch function window inference runs (Mars mosaics and rover frames)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def generator_predictor(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a generator as a numpy batch -> numpy batch function for window inference (eval mode)."""
    model.eval()

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(batch).float()).clamp(-1, 1).numpy()

    return predict
