# What the report shows beyond the figures the other phases mark with report(): one map viewer per
# Mars region and per held-out Earth region, and the metric JSON files as tables. `make report` builds
# results/report.zip (a zip because the viewers are folders; README "Report and viewer").
REPORT = "../report"


rule viewer:
    """Self-contained pan-and-zoom viewer: two tile pyramids, vendored Leaflet, index.html."""
    input:
        unpack(viewer_inputs),
    output:
        report(
            directory(results("viewer/{region}")),
            htmlindex=VIEWER_PAGE,
            caption=f"{REPORT}/viewer.rst",
            category="Map viewers",
            labels={"region": "{region}"},
        ),
    log:
        results("logs/viewer/{region}.log"),
    benchmark:
        results("benchmarks/viewer/{region}.tsv")
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        region=lambda w: RUN.region(w.region),
        render=config["render"],
    script:
        "../workflow_scripts/viewer.py"


rule metrics_table:
    """A metrics JSON as an HTML table for the report."""
    input:
        results("eval/{track}", METRICS_JSON),
    output:
        report(
            results("eval/{track}", METRICS_HTML),
            caption=f"{REPORT}/metrics_table.rst",
            category="Metrics",
            labels={"track": "{track}", "figure": "table"},
        ),
    log:
        results("logs/metrics_table/{track}.log"),
    wildcard_constraints:
        track="|".join([*RUN.terrain_suites, *RUN.colour_suites]),
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        title=lambda w: f"{w.track} validation metrics",
    script:
        "../workflow_scripts/metrics_table.py"
