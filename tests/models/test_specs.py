"""Config sections -> model specs by network family (both products); every spec builds a working model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from areograph.models.registry import MODELS, build_model
from areograph.models.specs import FAMILIES, SpecInputs, family, patchgan_spec, unet_spec

PIX2PIX = {"ngf": 4, "ndf": 4, "depth": None, "d_layers": 3, "dropout": 0.5}


def test_terrain_specs_follow_tile_size() -> None:
    x = SpecInputs(1, 3, 256, PIX2PIX, {"width": 4})
    gen = unet_spec(x)
    assert gen["kwargs"]["depth"] == 8 and gen["kwargs"]["out_channels"] == 3
    assert patchgan_spec(x) == {"name": "patchgan", "kwargs": {"in_channels": 4, "ndf": 4, "n_layers": 3}}


def test_colour_specs_build_and_run() -> None:
    x = SpecInputs(1, 2, 64, {"ngf": 4, "ndf": 4, "dropout": 0.5}, {})
    gen, disc = unet_spec(x), patchgan_spec(x)
    assert gen["kwargs"]["depth"] == 6 and disc["kwargs"]["in_channels"] == 3
    g = build_model(gen["name"], **gen["kwargs"]).eval()
    d = build_model(disc["name"], **disc["kwargs"])
    inp = torch.zeros(1, 1, 64, 64)
    y = g(inp)
    assert y.shape == (1, 2, 64, 64)
    assert d(torch.cat([inp, y], 1)).dim() == 4


def test_every_family_builds_its_registered_network() -> None:
    """Each family's spec names the family itself in the registry, and the network runs on the tile."""
    hist = np.zeros((4, 4))
    hist[1, 2], hist[2, 1] = 3.0, 1.0
    data = {"global_px": 16, "ab_hist": hist, "ab_edges": np.linspace(-1, 1, 5)}
    for name, fam in FAMILIES.items():
        x = SpecInputs(1 + len(fam.extra_inputs), 2, 32, PIX2PIX, {"width": 4}, data)
        spec = fam.build(x)
        assert spec["name"] == name and name in MODELS
        net = build_model(spec["name"], **spec["kwargs"]).eval()
        assert net(torch.zeros(1, x.in_channels, 32, 32)).shape == (1, 2, 32, 32)
    assert family("baseline").build(SpecInputs(1, 3, 256, PIX2PIX, {"width": 8})) == {
        "name": "baseline",
        "kwargs": {"in_channels": 1, "out_channels": 3, "width": 8},
    }


def test_unknown_family_and_missing_data_are_named() -> None:
    with pytest.raises(ValueError, match="unknown network family 'gan'"):
        family("gan")
    with pytest.raises(ValueError, match="ab_bins_unet network needs 'ab_hist'"):
        family("ab_bins_unet").build(SpecInputs(1, 2, 32, PIX2PIX, {}))
