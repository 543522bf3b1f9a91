"""Config sections -> model specs, shared by both products; every spec builds a working model."""

from __future__ import annotations

import pytest
import torch

from areograph.models.registry import build_model
from areograph.models.specs import generator_specs

PIX2PIX = {"ngf": 4, "ndf": 4, "depth": None, "d_layers": 3, "dropout": 0.5}


def test_terrain_specs_follow_tile_size() -> None:
    gen, disc = generator_specs("pix2pix", 1, 3, PIX2PIX, {"width": 4}, tile_px=256)
    assert gen["kwargs"]["depth"] == 8 and gen["kwargs"]["out_channels"] == 3
    assert disc == {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": 4, "n_layers": 3}}


def test_colour_specs_build_and_run() -> None:
    gen, disc = generator_specs("pix2pix", 1, 2, {"ngf": 4, "ndf": 4, "dropout": 0.5}, {}, tile_px=64)
    assert gen["kwargs"]["depth"] == 6 and disc["kwargs"]["in_channels"] == 3
    g = build_model(gen["name"], **gen["kwargs"]).eval()
    d = build_model(disc["name"], **disc["kwargs"])
    x = torch.zeros(1, 1, 64, 64)
    y = g(x)
    assert y.shape == (1, 2, 64, 64)
    assert d(torch.cat([x, y], 1)).dim() == 4


def test_non_adversarial_and_baseline() -> None:
    assert generator_specs("pix2pix", 1, 2, PIX2PIX, {}, 64, adversarial=False)[1] is None
    gen, disc = generator_specs("baseline", 1, 3, PIX2PIX, {"width": 8}, 256)
    assert disc is None and gen == {
        "name": "baseline",
        "kwargs": {"in_channels": 1, "out_channels": 3, "width": 8},
    }
    with pytest.raises(ValueError, match="unknown model kind"):
        generator_specs("gan", 1, 3, PIX2PIX, {}, 256)
