# Render terraformed Mars: the trained generator over each Mars region, as blended overlapping windows.


rule mars_hypsometry:
    """The heights of every Mars region of the run as one distribution: one Mars -> Earth height map."""
    input:
        tiles_dirs("elevation", HYPSOMETRY_REGIONS),
    output:
        MARS_HYPSOMETRY,
    log:
        f"{RESULTS}/logs/mars_hypsometry.log",
    benchmark:
        f"{RESULTS}/benchmarks/mars_hypsometry.tsv"
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/mars_hypsometry.py"


rule render_mars:
    """Terraformed mosaic as a COG (Mars AEQD CRS) + lon/lat footprint, a quicklook, hillshade | terraformed."""
    input:
        unpack(render_inputs),
    output:
        tif=mosaic("tif"),
        footprint=mosaic("footprint"),
        quicklook=report(
            mosaic("quicklook"),
            caption="../report/mars_quicklook.rst",
            category="Terraformed Mars",
            labels={"region": "{region}", "figure": "quicklook"},
        ),
        side_by_side=report(
            mosaic("side_by_side"),
            caption="../report/mars_side_by_side.rst",
            category="Terraformed Mars",
            labels={"region": "{region}", "figure": "hillshade | terraformed"},
        ),
    log:
        f"{RESULTS}/logs/render_mars/{{region}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/render_mars/{{region}}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        elevation=config["elevation"],
        render=config["render"],
        sea_level_m=lambda w: sea_level_for(config, REGIONS[w.region]),
    script:
        "../workflow_scripts/render_mars.py"
