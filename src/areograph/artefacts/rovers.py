"""The rover track's products in ``results/rovers/``: the quality report, the two videos and a still.

``quality_report.csv`` has one row per colour frame: its size, hash, the greyscale and blur figures,
whether it was kept and why not (images.quality.filter_collection, via colourise.filter_colour_frames;
people read it); ``opportunity_colour.mp4`` is the colourised Opportunity sequence and
``opportunity_side_by_side.mp4`` greyscale | colourised, both captioned 5 FPS H.264, and ``still.png``
the middle side-by-side frame (colourise.render_rover_videos writes all three).
"""

from __future__ import annotations

ROVER_FILES = {
    "quality_report": "quality_report.csv",
    "video": "opportunity_colour.mp4",
    "side_by_side": "opportunity_side_by_side.mp4",
    "still": "still.png",
}
