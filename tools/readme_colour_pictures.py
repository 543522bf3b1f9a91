"""Rebuild the README's colourisation pictures from the workflow's own outputs (after `make run` with the
shipped colouriser, and `make colouriser-weights`): the Opportunity still and the MSL validation grid, as
JPEGs small enough for a README.

    PYTHONPATH=src .venv/bin/python tools/readme_colour_pictures.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

IMG = Path("docs/img")
STILL_PX = 1400  # the still's width in the README (the side-by-side video frame is 2048 px + a gap)


def main() -> None:
    still = Image.open("results/rovers/still.png").convert("RGB")
    still.resize((STILL_PX, round(still.height * STILL_PX / still.width)), Image.LANCZOS).save(
        IMG / "opportunity_still.jpg", quality=90
    )
    Image.open("results/msl/eval/colour_trained/examples.png").convert("RGB").save(
        IMG / "colour_msl_examples.jpg", quality=90
    )


if __name__ == "__main__":
    main()
