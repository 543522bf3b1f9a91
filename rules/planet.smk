# Whole Mars: every planned region is rendered by render_mars (one job per region); one job assembles them.


rule assemble_planet:
    """One global terraformed mosaic: Mars equirectangular (IAU_2015:49910) COG, feathered overlaps."""
    input:
        planet_region_tifs,
    output:
        PLANET_MOSAIC,
    log:
        f"{RESULTS}/logs/assemble_planet.log",
    benchmark:
        f"{RESULTS}/benchmarks/assemble_planet.tsv"
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=480,
    params:
        gsd_m=config.get("planet", {}).get("gsd_m", 1000),
        feather_m=config.get("planet", {}).get("overlap_km", 20) * 1000,
    script:
        "../workflow_scripts/assemble_planet.py"
