# Render terraformed Mars: the trained generator over each Mars region, as blended overlapping windows.


rule mars_hypsometry:
    """The heights of every Mars region of the run as one distribution: one Mars -> Earth height map."""
    input:
        # with planet.enabled the planned regions too: planned only when this job is in the DAG
        lambda w: expand(
            results("tiles/{region}/elevation"), region=RUN.hypsometry_regions()
        ),
    output:
        results("mars", HYPSOMETRY),
    log:
        results("logs/mars_hypsometry.log"),
    benchmark:
        results("benchmarks/mars_hypsometry.tsv")
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
        tif=results("mars/{region}", MOSAIC_FILES["tif"]),
        footprint=results("mars/{region}", MOSAIC_FILES["footprint"]),
        quicklook=report(
            results("mars/{region}", MOSAIC_FILES["quicklook"]),
            caption="../report/mars_quicklook.rst",
            category="Terraformed Mars",
            labels={"region": "{region}", "figure": "quicklook"},
        ),
        side_by_side=report(
            results("mars/{region}", MOSAIC_FILES["side_by_side"]),
            caption="../report/mars_side_by_side.rst",
            category="Terraformed Mars",
            labels={"region": "{region}", "figure": "hillshade | terraformed"},
        ),
    log:
        results("logs/render_mars/{region}.log"),
    benchmark:
        results("benchmarks/render_mars/{region}.tsv")
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=8000,
        runtime=60,
    params:
        elevation=config["elevation"],
        render=config["render"],
        sea_level_m=lambda w: sea_level_for(config, RUN.region(w.region)),
    script:
        "../workflow_scripts/render_mars.py"
