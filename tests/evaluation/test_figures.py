"""The example grid both evaluations draw (evaluation.example_grid): panels, titles, labels, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from areograph.evaluation.figures import ExampleRow, example_figure, example_grid, pyplot

COLUMNS = ["elevation", "real", "pix2pix", "lookup"]


def _rows(n: int) -> list[ExampleRow]:
    rng = np.random.default_rng(0)
    return [
        ExampleRow(
            f"tile_{i}",
            {
                "elevation": rng.normal(1000, 200, (16, 16)),  # 2-D: drawn with the colormap
                "real": rng.integers(0, 256, (16, 16, 3), dtype=np.uint8),
                "pix2pix": rng.uniform(-0.2, 1.2, (16, 16, 3)),  # clipped to [0, 1]
                "lookup": rng.uniform(0, 1, (16, 16, 3)).astype(np.float32),
            },
        )
        for i in range(n)
    ]


def test_one_panel_per_row_and_column_titled_on_top_and_labelled_on_the_left() -> None:
    fig = example_figure(_rows(3), COLUMNS, cmap="terrain")
    axes = fig.axes
    assert len(axes) == 3 * len(COLUMNS)
    assert [ax.get_title() for ax in axes[: len(COLUMNS)]] == COLUMNS
    assert all(ax.get_title() == "" for ax in axes[len(COLUMNS) :])
    assert [axes[r * len(COLUMNS)].get_ylabel() for r in range(3)] == ["tile_0", "tile_1", "tile_2"]
    assert axes[0].images[0].get_cmap().name == "terrain"
    shown = axes[2].images[0].get_array()
    assert shown.min() >= 0 and shown.max() <= 1
    pyplot().close(fig)


def test_columns_pick_and_order_the_panels(tmp_path: Path) -> None:
    out = example_grid(_rows(2), ["real", "elevation"], tmp_path / "examples.png")
    assert out == tmp_path / "examples.png"
    width, height = Image.open(out).size
    assert (width, height) == (round(2.2 * 2 * 80), round(2.3 * 2 * 80))  # panel_size x dpi 80
    assert [p.name for p in tmp_path.iterdir()] == ["examples.png"]  # written atomically


def test_no_examples_or_a_missing_panel_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"examples.png: example grid: nothing to draw \(0 example rows"):
        example_grid([], COLUMNS, tmp_path / "examples.png")
    with pytest.raises(ValueError, match=r"row 'tile_0' has no image for column\(s\) \['truth'\]"):
        example_grid(_rows(1), [*COLUMNS, "truth"], tmp_path / "examples.png")
    with pytest.raises(ValueError, match=r"column 'real': shape \(16, 16, 4\)"):
        example_grid([ExampleRow("x", {"real": np.zeros((16, 16, 4))})], ["real"], tmp_path / "e.png")
    assert not any(tmp_path.iterdir())


def test_terrain_examples_show_each_tile_once() -> None:
    from areograph.evaluation.terrain import example_indices

    assert example_indices(2, 4) == [0, 1]  # linspace would repeat both tiles
    assert example_indices(10, 4) == [0, 3, 6, 9]
    assert example_indices(1, 3) == [0]
