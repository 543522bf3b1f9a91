# Render terraformed Mars: the trained generator over each Mars region, as blended overlapping windows.


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
    script:
        "../workflow_scripts/render_mars.py"
