# Terrain inputs: fetch each region's rasters through its source, reproject once, cut square tiles,
# pair the Earth tiles into one packed dataset. Jobs are per region (and layer) or per dataset.


rule fetch_raster:
    """Download (or copy from the sample) one layer of one region for its Haversine-planned box."""
    output:
        results("raw/{region}/{layer}.tif"),
    log:
        results("logs/fetch_raster/{region}_{layer}.log"),
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        input_name=input_name,
        region=lambda w: RUN.region(w.region),
        tiles=config["tiles"],
        source=lambda w: region_source(config, RUN.region(w.region), input_name(w)),
    script:
        "../workflow_scripts/fetch_raster.py"


rule tile_layer:
    """Reproject one region's layer onto its AEQD grid and cut 256 px tiles plus a GeoJSON index.

    An Earth elevation layer also reads the region's water raster: the sea goes in at 0 m.
    """
    input:
        raster=results("raw/{region}/{layer}.tif"),
        sea=sea_raster,
    output:
        directory(results("tiles/{region}/{layer}")),
    log:
        results("logs/tile_layer/{region}_{layer}.log"),
    benchmark:
        results("benchmarks/tile_layer/{region}_{layer}.tsv")
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        region=lambda w: RUN.region(w.region),
        tiles=config["tiles"],
        layer=lambda w: w.layer,
    script:
        "../workflow_scripts/tile_layer.py"


rule pack_terrain_pairs:
    """Pair elevation and imagery tiles of all Earth regions, with spatial train/validation splits."""
    input:
        elevation=expand(results("tiles/{region}/elevation"), region=RUN.earth),
        imagery=expand(results("tiles/{region}/imagery"), region=RUN.earth),
        water=expand(results("tiles/{region}/water"), region=RUN.earth),
    output:
        results("datasets", TERRAIN_PAIRS),
    log:
        results("logs/pack_terrain_pairs.log"),
    benchmark:
        results("benchmarks/pack_terrain_pairs.tsv")
    conda:
        "../envs/terrain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        regions=[RUN.region(n) for n in RUN.earth],
    script:
        "../workflow_scripts/pack_terrain_pairs.py"
