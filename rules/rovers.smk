# Rover colourisation track: colour frames (NASA raw-image APIs / sample) -> quality filter -> LAB
# patches -> colouriser; greyscale Opportunity HazCam EDRs (PDS / sample) -> colourised 5 FPS video.


wildcard_constraints:
    collection="|".join(COLLECTIONS),


rule fetch_collection:
    """Download (or copy from the sample) one rover image collection with its MANIFEST.csv."""
    output:
        directory(f"{RESULTS}/raw/rovers/{{collection}}"),
    log:
        f"{RESULTS}/logs/fetch_collection/{{collection}}.log",
    conda:
        "../envs/rovers.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        input_name=lambda w: COLLECTIONS[w.collection],
        source=lambda w: config["sources"][COLLECTIONS[w.collection]],
    script:
        "../workflow_scripts/fetch_collection.py"
