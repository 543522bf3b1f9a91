"""Snakemake adapter: the two 5 FPS videos and a still (areograph.colourise.render_rover_videos)."""

from areograph.colourise import render_rover_videos
from areograph.logs import log_to

with log_to(snakemake.log[0]):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    render_rover_videos(
        i.frames, i.edrs, o.video, o.side_by_side, o.still, fps=p.fps, stretch_percentiles=p.stretch
    )
