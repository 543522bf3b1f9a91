"""The one elevation scaling and the Mars -> Earth rules."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from areograph.data.elevation import mars_to_earth_elevation, scale_elevation, unscale_elevation


def test_scale_maps_range_endpoints_and_round_trips() -> None:
    elev = np.array([[-500.0, 2000.0], [4500.0, 0.0]])
    scaled = scale_elevation(elev, -500, 4500)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[-1.0, 0.0], [1.0, -0.8]], atol=1e-6)
    np.testing.assert_allclose(unscale_elevation(scaled, -500, 4500), elev, atol=1e-3)


def test_in_range_values_are_not_clipped_and_not_warned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="areograph.data"):
        scale_elevation(np.linspace(-500, 4500, 50), -500, 4500)
    assert not caplog.records


def test_out_of_range_is_clipped_with_a_warning_stating_fraction_and_range(
    caplog: pytest.LogCaptureFixture,
) -> None:
    elev = np.array([-1000.0, 0.0, 1000.0, 6000.0])  # 2 of 4 outside [-500, 4500]
    with caplog.at_level(logging.WARNING, logger="areograph.data"):
        scaled = scale_elevation(elev, -500, 4500)
    assert scaled.min() == -1.0 and scaled.max() == 1.0
    (record,) = [r for r in caplog.records if r.name == "areograph.data"]
    message = record.getMessage()
    assert "50.0000%" in message and "[-500, 4500]" in message and "[-1000, 6000]" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_elevation_is_an_error(bad: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        scale_elevation(np.array([0.0, bad]), -500, 4500)


def test_empty_range_is_an_error() -> None:
    with pytest.raises(ValueError, match="lo < hi"):
        scale_elevation(np.zeros(3), 100, 100)


def test_offset_rule_puts_lowest_point_at_sea_level_and_keeps_relief() -> None:
    mars = np.array([[-4500.0, -2000.0], [1000.0, np.nan]])
    out = mars_to_earth_elevation(mars, "offset")
    np.testing.assert_allclose(out[~np.isnan(out)], [0.0, 2500.0, 5500.0])
    assert np.isnan(out[1, 1])


def test_quantile_rule_is_monotone_and_matches_the_earth_distribution() -> None:
    rng = np.random.default_rng(1)
    mars = rng.normal(-2000, 3000, size=(60, 50))  # Mars-like spread, wrong datum
    earth = rng.gamma(2.0, 600.0, size=20_000)  # skewed, all positive
    out = mars_to_earth_elevation(mars, "quantile", earth)
    order = np.argsort(mars, axis=None)
    assert np.all(np.diff(out.ravel()[order]) >= 0)  # monotone
    assert earth.min() <= out.min() and out.max() <= earth.max()
    for q in (0.1, 0.5, 0.9):
        assert abs(np.quantile(out, q) - np.quantile(earth, q)) < 0.02 * np.ptp(earth)


def test_quantile_rule_maps_equal_elevations_to_equal_values() -> None:
    mars = np.array([5.0, 5.0, 5.0, -1.0, 9.0])
    out = mars_to_earth_elevation(mars, "quantile", np.arange(1000.0))
    assert out[0] == out[1] == out[2]
    assert out[3] < out[0] < out[4]


def test_quantile_rule_needs_a_reference_and_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="earth_reference_m"):
        mars_to_earth_elevation(np.zeros(4), "quantile")
    with pytest.raises(ValueError, match="unknown Mars elevation rule 'stretch'"):
        mars_to_earth_elevation(np.zeros(4), "stretch")
