# Whole Mars: every planned region is rendered by render_mars (one job per region); one job assembles them.


rule assemble_planet:
    """One global terraformed mosaic: Mars equirectangular (IAU_2015:49910) COG, feathered overlaps."""
    input:
        # every planned region's mosaic (the plan is made here, when this job is asked for)
        lambda w: expand(
            results("mars/{region}", MOSAIC_FILES["tif"]),
            region=RUN.planned_region_names(),
        ),
    output:
        results("mars/planet", PLANET_MOSAIC),
    log:
        results("logs/assemble_planet.log"),
    benchmark:
        results("benchmarks/assemble_planet.tsv")
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=480,
    params:
        gsd_m=config["planet"]["gsd_m"],
        feather_m=config["planet"]["overlap_km"] * 1000,
    script:
        "../workflow_scripts/assemble_planet.py"
