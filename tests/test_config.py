"""The config schema and cross-key checks: every rejection names the key and the value."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from areograph.config import (
    ConfigError,
    colour_method_settings,
    load_config,
    run_plan,
    tiles_shape,
    validate_config,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def config() -> dict:
    return load_config(ROOT / "config.yaml")


def rejected(cfg: dict) -> str:
    with pytest.raises(ConfigError) as err:
        validate_config(cfg)
    return str(err.value)


def test_shipped_config_is_valid(config: dict) -> None:
    assert {r["planet"] for r in config["regions"]} == {"earth", "mars"}


def test_unknown_key_is_rejected_with_its_name(config: dict) -> None:
    config["tiles"]["tile_szie"] = 256
    msg = rejected(config)
    assert "tiles: unknown key(s) ['tile_szie']" in msg
    assert "size_px" in msg  # the allowed keys are listed


def test_unknown_top_level_key(config: dict) -> None:
    config["trainig"] = {}
    assert "unknown key(s) ['trainig']" in rejected(config)


def test_wrong_type_names_key_and_value(config: dict) -> None:
    config["tiles"]["size_px"] = "256"
    assert "tiles.size_px: value '256' is invalid" in rejected(config)


def test_latitude_out_of_range(config: dict) -> None:
    config["regions"][0]["lat"] = 95
    msg = rejected(config)
    assert "regions[0].lat: value 95 is invalid" in msg


def test_mars_region_fed_by_earth_source(config: dict) -> None:
    config["sources"]["mars_elevation"] = {"adapter": "earthengine"}
    msg = rejected(config)
    assert "sources.mars_elevation.adapter: value 'earthengine'" in msg
    assert "'gale'" in msg


def test_unknown_adapter_option(config: dict) -> None:
    config["sources"]["earth_elevation"]["options"] = {"rooot": "x"}
    assert "sources.earth_elevation.options: unknown key(s) ['rooot']" in rejected(config)


def test_fine_tuning_from_a_missing_file_is_refused(
    config: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = next(iter(config["terrain_models"]))
    config["terrain_models"][name]["init_from"] = str(tmp_path / "nope.pt")
    assert f"terrain_models.{name}.init_from: '{tmp_path / 'nope.pt'}' is not a file" in rejected(config)
    monkeypatch.chdir(ROOT)
    config["terrain_models"][name]["init_from"] = "weights/terrain_pix2pix/model.pt"
    validate_config(config)  # relative to the working directory, as the workflow runs
    # run elsewhere (snakemake --directory): found in the workflow's folder, as the shipped weights are
    monkeypatch.chdir(tmp_path)
    checked = validate_config(config, base_dirs=[tmp_path, ROOT])
    shipped = str(ROOT / "weights/terrain_pix2pix/model.pt")
    assert run_plan(checked, ROOT).init_from(name) == shipped
    assert run_plan(checked, ROOT).init_from("baseline") is None


def test_duplicate_region_names(config: dict) -> None:
    config["regions"].append(copy.deepcopy(config["regions"][0]))
    assert "region name 'sierra' is used more than once" in rejected(config)


def test_tiles_per_side_square_or_pair(config: dict) -> None:
    assert tiles_shape({"tiles_per_side": 3}) == (3, 3)
    assert tiles_shape({"tiles_per_side": [2, 4]}) == (2, 4)
    config["regions"][0]["tiles_per_side"] = [2, 4, 1]
    assert "regions[0].tiles_per_side" in rejected(config)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("tiles: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        load_config(bad)


def test_snakemake_stops_before_any_job(tmp_path: Path, config: dict) -> None:
    """The workflow itself validates: a dry run with a bad config fails with the key in the message."""
    config["regions"][1]["lat"] = 95
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(config))
    snakemake = Path(sys.executable).parent / "snakemake"
    run = subprocess.run(
        [
            str(snakemake),
            "-n",
            "--cores",
            "1",
            "--configfile",
            str(cfg),
            "--directory",
            str(tmp_path),
            "--snakefile",
            str(ROOT / "Snakefile"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "regions[1].lat: value 95 is invalid" in run.stdout + run.stderr


def test_corpus_config_is_valid_and_holds_regions_out() -> None:
    cfg = load_config(ROOT / "configs/terrain_corpus.yaml")
    splits = {r["name"]: r["split"] for r in cfg["regions"] if r["planet"] == "earth"}
    assert {n for n, s in splits.items() if s == "val"} == {"italy", "ri"}
    assert {n for n, s in splits.items() if s == "train"} == {"sierra", "andes", "cali", "nw"}
    assert cfg["elevation"]["earth_range_m"][1] >= 8849  # no Earth summit is clipped


def test_region_sources_override_and_are_checked(config: dict) -> None:
    from areograph.config import region_source

    earth = config["regions"][0]
    earth["sources"] = {"earth_elevation": {"adapter": "files", "options": {"path": "/data/dem.vrt"}}}
    validate_config(config)
    assert region_source(config, earth, "earth_elevation")["adapter"] == "files"
    assert region_source(config, earth, "earth_imagery")["adapter"] == "sample"
    earth["sources"]["earth_elevation"]["options"] = {"pth": "x"}
    assert "sources.earth_elevation.options" in rejected(config) and "pth" in rejected(config)
    earth["sources"] = {"mars_elevation": {"adapter": "sample"}}
    assert "a earth region has no mars_elevation input" in rejected(config)
    earth["sources"] = {"earth_imagery": {"adapter": "pix2pix_terraform"}}
    assert "'root' is a required property" in rejected(config)


def test_terrain_models_and_render_model_are_checked(config: dict) -> None:
    config["terrain_models"]["odd"] = {"kind": "pix2pix", "conditioning": ["latitude"]}
    assert "terrain_models.odd.conditioning" in rejected(config)
    del config["terrain_models"]["odd"]
    config["terrain_models"]["x"] = {"kind": "gan"}
    assert "terrain_models.x.kind" in rejected(config)
    del config["terrain_models"]["x"]
    config["render"] = {"window_px": 256, "overlap_px": 128, "model": "nope", "weights": None}
    assert "render.model: value 'nope'" in rejected(config)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda c: c["tiles"].update(size_px=200), "tiles.size_px: value 200 is not a power of two"),
        (lambda c: c["render"].update(window_px=64, overlap_px=64), "render.overlap_px: value 64 must be"),
        (
            lambda c: c["rovers"]["render"].update(window_px=64, overlap_px=80),
            "rovers.render.overlap_px: value 80",
        ),
        (lambda c: c["training"].update(load_px=200), "training.load_px: value 200 is smaller than tiles"),
        (lambda c: c["rovers"]["patches"].update(patch_px=48), "rovers.patches.patch_px: value 48"),
        (
            lambda c: c["render"].update(window_px=None, overrides=["window_px"]),
            "render.overrides: names window_px, but render.window_px is null",
        ),
        (lambda c: c["render"].update(overrides=["elevation_range_m"]), "render.overrides"),
    ],
)
def test_sizes_that_would_fail_after_fetching_or_training_are_rejected_up_front(
    config: dict, edit: object, expected: str
) -> None:
    edit(config)
    assert expected in rejected(config)


def test_unknown_adapter_is_named_with_the_known_ones(config: dict) -> None:
    """The adapter names live in sources.ADAPTERS only; the config check reads them from there."""
    config["sources"]["earth_imagery"] = {"adapter": "nope"}
    msg = rejected(config)
    assert "sources.earth_imagery.adapter: value 'nope' is not one of" in msg and "'sample'" in msg


@pytest.mark.parametrize("overlay", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_every_shipped_config_validates_as_snakemake_merges_it(overlay: str) -> None:
    """`snakemake --configfile configs/X.yaml` extends config.yaml with X: the result must pass every check,
    weights and model windows included (a stale key there stops `make train-terrain` before it starts)."""
    from snakemake.utils import update_config

    merged = yaml.safe_load((ROOT / "config.yaml").read_text())
    update_config(merged, yaml.safe_load((ROOT / "configs" / overlay).read_text()))
    validate_config(merged, overlay, base_dirs=[ROOT])


def test_schema_defaults_are_filled_and_explicit_values_kept(config: dict) -> None:
    """validate_config fills every ``default:`` (so rules index keys) on a copy; set values win."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text())
    del raw["planet"]  # (config.yaml sets no results_dir)
    del raw["evaluation"]["n_examples"]
    del raw["terrain_models"]["pix2pix"]["conditioning"]
    before = copy.deepcopy(raw)
    filled = validate_config(raw)
    assert raw == before  # the caller's dict is not touched
    assert filled["results_dir"] == "results"
    assert filled["evaluation"]["n_examples"] == 4
    # a defaulted section gets its own keys' defaults too
    assert filled["planet"] == {"enabled": False, "distortion_max": 0.01, "overlap_km": 20,
                                "tiles_max": None, "extent": None, "gsd_m": 1000}  # fmt: skip
    assert filled["terrain_models"]["pix2pix"]["conditioning"] == ["elevation"]
    assert filled["terrain_models"]["pix2pix"]["pix2pix"] == {}
    assert (filled["rovers"]["ship"], filled["rovers"]["eval_sets"]) == ("colouriser", {})
    raw["evaluation"]["n_examples"] = 9
    raw["planet"] = {"enabled": True, "gsd_m": 500}
    filled = validate_config(raw)
    assert filled["evaluation"]["n_examples"] == 9
    assert (filled["planet"]["gsd_m"], filled["planet"]["overlap_km"]) == (500, 20)


def test_rovers_ship_must_name_a_trained_method(config: dict) -> None:
    config["rovers"]["ship"] = "wide"
    assert "rovers.ship: value 'wide' is not one of ['colouriser', 'baseline']" in rejected(config)
    config["rovers"]["compare"] = {"wide": {"ngf": 16}}
    validate_config(config)


def test_a_colour_variant_goes_over_the_colouriser_and_keeps_its_own_sections() -> None:
    rovers = load_config(ROOT / "configs" / "colouriser_msl.yaml")["rovers"]
    base = colour_method_settings(rovers, "colouriser")
    assert base == {"kind": "colouriser", "colouriser": rovers["colouriser"], "training": rovers["training"],
                    "sampling": rovers["sampling"]}  # fmt: skip
    final = colour_method_settings(rovers, "final")  # loss and steps of its own, the rest inherited
    assert final["colouriser"] == rovers["colouriser"] | {"loss": "l1_colourfulness"}
    assert final["training"] == rovers["training"] | {"steps": 6000}
    assert final["sampling"] == rovers["sampling"]
    sc70 = colour_method_settings(rovers, "global_sc70")
    assert sc70["sampling"] == {"group_share": {"scenery": 0.7, "hardware": 0.3}}
    assert "sampling" not in sc70["colouriser"] and "training" not in final["colouriser"]
    assert colour_method_settings(rovers, "baseline")["kind"] == "baseline"
    with pytest.raises(ValueError, match="unknown colour method 'wide'"):
        colour_method_settings(rovers, "wide")


def test_run_plan_plans_the_planet_only_when_a_planned_region_is_asked_for(
    config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules' decisions (config.py RunPlan): building it, the region wildcard and the configured
    regions never plan the planet; a planned region or the planet target plans it once."""
    import areograph.geo.planet as planet

    calls = []

    def counted(cfg):
        calls.append(1)
        return real(cfg)

    real = planet.planet_plan
    monkeypatch.setattr(planet, "planet_plan", counted)
    small = {"enabled": True, "tiles_max": 2, "overlap_km": 2, "extent": [137.7, -5.5, 137.8, -5.4]}
    config["planet"] |= small
    run = run_plan(validate_config(config), ROOT)
    assert re.fullmatch(run.region_pattern, "planet_b07_012") and re.fullmatch(run.region_pattern, "gale")
    assert re.fullmatch(run.region_pattern, "planet_b231_1137")  # past the padding on a fine grid
    assert not re.fullmatch(run.region_pattern, "planet_b7")
    assert run.region("gale")["planet"] == "mars" and calls == []
    names = run.planned_region_names()
    assert names and all(re.fullmatch(run.region_pattern, n) for n in names)
    assert run.region(names[0])["split"] == "render"
    assert run.hypsometry_regions() == [*run.mars, *names]
    assert calls == [1]  # planned once, then cached
    config["planet"]["enabled"] = False
    run = run_plan(validate_config(config), ROOT)
    with pytest.raises(ConfigError, match=r"planet target needs planet\.enabled: true"):
        run.planned_region_names()
    assert run.hypsometry_regions() == list(run.mars) and calls == [1]


def test_run_plan_resolves_shipped_weights_and_suites(config: dict, tmp_path: Path, monkeypatch) -> None:
    """Relative weights are the repository's when not in the working directory; suites follow them."""
    monkeypatch.chdir(tmp_path)
    run = run_plan(config, ROOT)
    assert run.terrain_weights == str(ROOT / config["render"]["weights"])
    assert run.terrain_suites["terrain"] == {"shipped": run.terrain_weights}
    assert set(run.terrain_suites["terrain_trained"]) == {*config["terrain_models"], "shipped"}
    config["rovers"]["colouriser"]["weights"] = None
    run = run_plan(config, ROOT)
    assert (
        run.colour_suites["colour"]
        == run.trained_colour
        == {
            "colouriser": "results/models/colouriser/model.pt",
            "baseline": "results/models/colour_baseline/model.pt",
        }
    )
    assert run.opportunity_model_file == "results/models/colouriser/model.pt"
