# Terrain inputs: fetch each region's rasters through its source, reproject once, cut square tiles,
# pair the Earth tiles into one packed dataset. Jobs are per region (and layer) or per dataset.


rule fetch_raster:
    """Download (or copy from the sample) one layer of one region for its Haversine-planned box."""
    output:
        raw(),
    log:
        f"{RESULTS}/logs/fetch_raster/{{region}}_{{layer}}.log",
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        input_name=input_name,
        region=lambda w: REGIONS[w.region],
        tiles=config["tiles"],
        source=lambda w: region_source(config, REGIONS[w.region], input_name(w)),
    script:
        "../workflow_scripts/fetch_raster.py"


rule tile_layer:
    """Reproject one region's layer onto its AEQD grid and cut 256 px tiles plus a GeoJSON index.

    An Earth elevation layer also reads the region's water raster: the sea goes in at 0 m.
    """
    input:
        raster=raw(),
        sea=sea_raster,
    output:
        directory(tiles()),
    log:
        f"{RESULTS}/logs/tile_layer/{{region}}_{{layer}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/tile_layer/{{region}}_{{layer}}.tsv"
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        region=lambda w: REGIONS[w.region],
        tiles=config["tiles"],
        layer=lambda w: w.layer,
    script:
        "../workflow_scripts/tile_layer.py"


rule pack_terrain_pairs:
    """Pair elevation and imagery tiles of all Earth regions, with spatial train/validation splits."""
    input:
        elevation=tiles_dirs("elevation", EARTH),
        imagery=tiles_dirs("imagery", EARTH),
        water=tiles_dirs("water", EARTH),
    output:
        TERRAIN_PAIRS_NPZ,
    log:
        f"{RESULTS}/logs/pack_terrain_pairs.log",
    benchmark:
        f"{RESULTS}/benchmarks/pack_terrain_pairs.tsv"
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        regions=[REGIONS[n] for n in EARTH],
    script:
        "../workflow_scripts/pack_terrain_pairs.py"
