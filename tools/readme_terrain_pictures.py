"""Rebuild the README's terraforming pictures from the workflow's own outputs (after `make run` and
`make train-terrain`): the Gale triptych, the held-out regions' side-by-sides, the example grid and the
metric plot, as JPEGs small enough for a README.

    PYTHONPATH=src .venv/bin/python tools/readme_terrain_pictures.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image

IMG = Path("docs/img")
EVAL = Path("results/corpus/eval/terrain")
GAP = 8  # white pixels between panels, as the side-by-sides have


def halves(side_by_side: Path) -> tuple[Image.Image, Image.Image]:
    """The left (hillshade) and right (terraformed) panels of a render's side_by_side.png."""
    im = Image.open(side_by_side).convert("RGB")
    w, h = im.size
    half = (w - GAP) // 2
    return im.crop((0, 0, half, h)), im.crop((w - half, 0, w, h))


def gale_triptych(out: Path, panel_px: int = 678) -> None:
    """MOLA hillshade | terraformed | terraformed with the lake: make run's two Gale renders."""
    shade, dry = halves(Path("results/mars/gale/side_by_side.png"))
    _, lake = halves(Path("results/mars/gale_lake/side_by_side.png"))
    panels = [
        p.resize((panel_px, round(p.height * panel_px / p.width)), Image.LANCZOS) for p in (shade, dry, lake)
    ]
    h = panels[0].height
    canvas = Image.new("RGB", (3 * panel_px + 2 * GAP, h), "white")
    for i, p in enumerate(panels):
        canvas.paste(p, (i * (panel_px + GAP), 0))
    canvas.save(out, quality=90)


def main() -> None:
    gale_triptych(IMG / "terraformed_gale.jpg")
    for region in ("italy", "ri"):
        Image.open(EVAL / "regions" / f"{region}.png").convert("RGB").save(
            IMG / f"terrain_{region}.jpg", quality=90
        )
    Image.open(EVAL / "examples.png").convert("RGB").save(IMG / "terrain_examples.jpg", quality=90)
    shutil.copyfile(EVAL / "metrics.png", IMG / "terrain_metrics.png")


if __name__ == "__main__":
    main()
