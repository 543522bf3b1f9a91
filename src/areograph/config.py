"""Load and validate config.yaml before any job runs.

The JSON schema (``config.schema.yaml`` beside this module) rejects unknown keys, wrong types and
out-of-range values; the checks that span several keys (a Mars region fed by an Earth-only source,
duplicate region names) live here. Every error names the key path and the offending value. With
``base_dirs``, the files a config names (the shipped weights) are checked too: that they exist, and
that the render settings fit the model they hold (an overlap as large as the model's window would
otherwise fail only when the render job runs, after everything before it).

The schema's ``default:`` values are filled into the validated copy, so every reader indexes keys.
:func:`run_plan` turns a validated config into the typed decisions the rules take from it
(:class:`RunPlan`: region lists, resolved weights, evaluation suites, the shipped colour method, the
whole-planet plan made on first use), so no rules file decides them at parse time.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from areograph.artefacts.layout import model_dir, terrain_model_name
from areograph.artefacts.model_dir import TERRAIN_TASK, model_file
from areograph.training.kinds import kinds_for

SCHEMA_FILE = "config.schema.yaml"


class ConfigError(ValueError):
    """A config value is missing, unknown or out of range; the message names key and value."""


def load_schema() -> dict[str, Any]:
    """The config JSON schema, shipped inside the package."""
    text = resources.files("areograph").joinpath(SCHEMA_FILE).read_text()
    return yaml.safe_load(text)


def _key_path(path: Any) -> str:
    parts = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (f".{p}" if parts else str(p)))
    return "".join(parts) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"{where}: unknown key(s) {extra}; allowed keys are {allowed}"
    if error.validator == "required":
        return f"{where}: {error.message}"
    return f"{where}: value {error.instance!r} is invalid: {error.message}"


def _fill_defaults(
    validator: jsonschema.protocols.Validator, properties: Mapping[str, Any], instance: Any, schema: Any
) -> Iterator[jsonschema.ValidationError]:
    """The ``properties`` keyword, first setting each absent property that has a ``default:``.

    The validation walk reaches every object the schema describes (through ``$ref`` too), so one
    pass fills the defaults of nested sections, a filled-in section's own defaults included (the
    jsonschema FAQ's recipe, as ``snakemake.utils.validate(set_default=True)`` does; here so that
    the CLI, which runs without Snakemake, gets the same config).
    """
    if validator.is_type(instance, "object"):
        for key, sub in properties.items():
            if isinstance(sub, Mapping) and "default" in sub and key not in instance:
                instance[key] = copy.deepcopy(sub["default"])
    yield from _VALIDATE_PROPERTIES(validator, properties, instance, schema)


_VALIDATE_PROPERTIES = jsonschema.Draft202012Validator.VALIDATORS["properties"]
_DefaultFilling = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"properties": _fill_defaults}
)


def validate_config(
    config: Mapping[str, Any], source: str = "config", base_dirs: Sequence[str | Path] | None = None
) -> dict[str, Any]:
    """Validate ``config`` against the schema and cross-key rules; return a copy with the defaults filled.

    Every ``default:`` of the schema is filled into the copy, so readers index keys (``config["a"]["b"]``)
    instead of restating a default. ``base_dirs``: the folders relative file paths of the config are
    looked up in (the working directory, then the workflow's); given, the weights files are checked
    as well (:func:`weights_problems`). Raises ConfigError listing every problem, each naming its key
    path and value.
    """
    config = copy.deepcopy(dict(config))
    validator = _DefaultFilling(load_schema())
    problems = [_describe(e) for e in sorted(validator.iter_errors(config), key=lambda e: list(e.path))]
    if not problems:
        problems = _cross_checks(config, [Path(b) for b in base_dirs or [Path.cwd()]])
    if not problems and base_dirs is not None:
        problems = weights_problems(config, [Path(b) for b in base_dirs])
    if problems:
        raise ConfigError(f"{source} is invalid:\n  " + "\n  ".join(problems))
    return config


def _cross_checks(config: Mapping[str, Any], base_dirs: Sequence[Path]) -> list[str]:
    from areograph.data.conditioning import check_conditioning
    from areograph.sources import (
        ADAPTERS,
        COLLECTION_INPUTS,
        INPUT_PLANET,
        adapter_inputs,
        adapter_options_schema,
    )

    problems: list[str] = []
    sources = config["sources"]
    specs = [(f"sources.{k}", s) for k, s in sources.items()] + [
        (f"regions[{i}].sources.{k}", s)
        for i, r in enumerate(config["regions"])
        for k, s in r.get("sources", {}).items()
    ]
    unknown = [f"{where}.adapter: value {s['adapter']!r} is not one of {sorted(ADAPTERS)}"
               for where, s in specs if s["adapter"] not in ADAPTERS]  # fmt: skip
    if unknown:  # the checks below look adapters up by name
        return unknown
    names = [r["name"] for r in config["regions"]]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"regions: region name {dup!r} is used more than once")
    for i, region in enumerate(config["regions"]):
        for key in (k for k, planet in INPUT_PLANET.items() if planet == region["planet"]):
            adapter = region_source(config, region, key)["adapter"]
            where = f"regions[{i}].sources" if key in region.get("sources", {}) else "sources"
            if key not in adapter_inputs(adapter):
                problems.append(
                    f"{where}.{key}.adapter: value {adapter!r} cannot serve {key} "
                    f"(planet {region['planet']!r}) needed by regions[{i}] ({region['name']!r})"
                )
        for key in region.get("sources", {}):
            if INPUT_PLANET[key] != region["planet"]:
                problems.append(f"regions[{i}].sources.{key}: a {region['planet']} region has no {key} input")
    scoped = [(["sources"], sources)] + [
        (["sources", i, "regions"], r["sources"]) for i, r in enumerate(config["regions"]) if "sources" in r
    ]
    for prefix, specs in scoped:
        for key, spec in specs.items():
            validator = jsonschema.Draft202012Validator(adapter_options_schema(spec["adapter"]))
            for err in validator.iter_errors(spec.get("options", {})):
                err.path.extendleft(["options", key, *prefix])  # extendleft reverses
                problems.append(_describe(err))
    for i, region in enumerate(config["regions"]):
        if region["planet"] != "mars" and region.get("sea_level_m") is not None:
            problems.append(
                f"regions[{i}].sea_level_m: {region['name']!r} is on {region['planet']}; a sea level is for "
                "Mars regions (Earth's water comes from sources.earth_water)"
            )
    for name, spec in config["terrain_models"].items():
        if spec["kind"] not in kinds_for(TERRAIN_TASK):
            problems.append(f"terrain_models.{name}.kind: value {spec['kind']!r} is not one of "
                            f"{kinds_for(TERRAIN_TASK)}")  # fmt: skip
        cond = spec["conditioning"]
        try:
            check_conditioning(cond)
        except ValueError as err:
            problems.append(f"terrain_models.{name}.conditioning: value {cond!r} is invalid: {err}")
        if "init_from" in spec and not configured_path(spec["init_from"], base_dirs).is_file():
            problems.append(f"terrain_models.{name}.init_from: {spec['init_from']!r} is not a file")
    render_model = config["render"]["model"]
    if not config["render"]["weights"] and render_model not in config["terrain_models"]:
        problems.append(
            f"render.model: value {render_model!r} is not one of terrain_models "
            f"{sorted(config['terrain_models'])}"
        )
    for key in COLLECTION_INPUTS:
        adapter = sources[key]["adapter"]
        if key not in adapter_inputs(adapter):
            problems.append(f"sources.{key}.adapter: value {adapter!r} cannot serve {key}")
    if not any(r["planet"] == "earth" and r["split"] in ("train", "blocks") for r in config["regions"]):
        problems.append("regions: at least one earth region must have split 'train' or 'blocks'")
    rovers = config["rovers"]
    methods = ship_methods(rovers)
    if rovers["ship"] not in methods:
        problems.append(f"rovers.ship: value {rovers['ship']!r} is not one of {methods} (colouriser, "
                        "baseline or a rovers.compare variant)")  # fmt: skip
    return problems + _size_checks(config)


def colour_method_dirs(rovers: Mapping[str, Any]) -> dict[str, str]:
    """Every colour method a config trains (the colouriser, its baseline, each ``rovers.compare``
    variant) -> its folder under results/models/."""
    return {"colouriser": "colouriser", "baseline": "colour_baseline",
            **{v: f"colouriser_{v}" for v in rovers["compare"] or {}}}  # fmt: skip


# A rovers.compare variant's keys that are not colouriser keys: they replace / go over their own sections.
VARIANT_OWN_KEYS = ("sampling", "training")


def colour_method_settings(rovers: Mapping[str, Any], method: str) -> dict[str, Any]:
    """What training one colour method takes: ``kind``, ``colouriser`` keys, ``training`` and ``sampling``.

    A ``rovers.compare`` variant's keys go over ``rovers.colouriser`` (its ``sampling`` replaces, its
    ``training`` goes over ``rovers.training``); the rules and the sol-block benchmark both read this.
    """
    variants = rovers["compare"] or {}
    if method not in ("colouriser", "baseline", *variants):
        raise ValueError(f"unknown colour method {method!r}; this config trains {ship_methods(rovers)}")
    variant = variants.get(method, {})
    return {
        "kind": "baseline" if method == "baseline" else "colouriser",
        "colouriser": rovers["colouriser"] | {k: v for k, v in variant.items() if k not in VARIANT_OWN_KEYS},
        "training": rovers["training"] | variant.get("training", {}),
        "sampling": variant.get("sampling", rovers["sampling"]),
    }


def ship_methods(rovers: Mapping[str, Any]) -> list[str]:
    """The colour methods a config trains, which ``rovers.ship`` may name: the two kinds and each variant."""
    return list(colour_method_dirs(rovers))


def _power_of_two(n: int) -> bool:
    return n >= 2 and n & (n - 1) == 0


def _size_checks(config: Mapping[str, Any]) -> list[str]:
    """Sizes that would pass the schema but fail only after fetching, tiling or training."""
    problems: list[str] = []
    tile_px = config["tiles"]["size_px"]
    if not _power_of_two(tile_px):
        problems.append(
            f"tiles.size_px: value {tile_px} is not a power of two, which the U-Net (and the render "
            "windows) need; use e.g. 64, 128, 256 or 512"
        )
    load_px = config["training"].get("load_px")
    if load_px is not None and load_px < tile_px:
        problems.append(
            f"training.load_px: value {load_px} is smaller than tiles.size_px {tile_px}; augmentation "
            "resizes tiles up to load_px and crops back to the tile size"
        )
    patch_px = config["rovers"].get("patches", {}).get("patch_px")
    free_depth = config["rovers"]["colouriser"].get("depth") is None
    if patch_px is not None and free_depth and not _power_of_two(patch_px):
        problems.append(
            f"rovers.patches.patch_px: value {patch_px} is not a power of two, which the colouriser's "
            "U-Net needs when rovers.colouriser.depth is null"
        )
    for key, render in (("render", config["render"]), ("rovers.render", config["rovers"]["render"])):
        window, overlap = render.get("window_px"), render.get("overlap_px")
        if window is not None and overlap is not None and overlap >= window:
            problems.append(f"{key}.overlap_px: value {overlap} must be below {key}.window_px {window}")
        if window is None and window_override(render):
            problems.append(f"{key}.overrides: names window_px, but {key}.window_px is null (the model's)")
    # A null window is the model's tile size: the one this workflow trains, unless weights are shipped.
    trained = [
        ("render", "render.weights", "tiles.size_px", tile_px),
        ("rovers.render", "rovers.colouriser.weights", "rovers.patches.patch_px", patch_px),
    ]
    for key, weights_key, size_key, size in trained:
        render = config_value(config, key)
        overlap = render.get("overlap_px")
        shipped = config_value(config, weights_key)
        free = render.get("window_px") is None and not shipped and size is not None
        if free and overlap is not None and overlap >= size:
            problems.append(
                f"{key}.overlap_px: value {overlap} must be below the render window, which is the "
                f"trained model's tile size {size_key} = {size} ({key}.window_px is null)"
            )
    return problems


# The weights files a config may name, and the render section that runs each.
WEIGHTS_KEYS = {"render.weights": "render", "rovers.colouriser.weights": "rovers.render"}


def config_value(config: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted key path (``rovers.colouriser.weights``); None where a level is missing."""
    value: Any = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def configured_path(value: str | Path, base_dirs: Sequence[Path]) -> Path:
    """A configured path: absolute as is; relative, in the first base folder holding it (else the first)."""
    path = Path(value)
    if path.is_absolute() or not base_dirs:
        return path
    return next((b / path for b in base_dirs if (b / path).exists()), base_dirs[0] / path)


def weights_problems(
    config: Mapping[str, Any], base_dirs: Sequence[Path], keys: Sequence[str] = tuple(WEIGHTS_KEYS)
) -> list[str]:
    """Each configured weights file (of ``keys``) exists and fits its render settings (problems name keys)."""
    problems: list[str] = []
    for key in keys:
        value = config_value(config, key)
        if not value:
            continue
        path = configured_path(value, base_dirs)
        if not path.is_file():
            looked = ", ".join(str(b) for b in base_dirs)
            problems.append(
                f"{key}: value {value!r} is not a file (looked in {looked}); name a model file, or set "
                "it to null to use the model this workflow trains"
            )
            continue
        render_key = WEIGHTS_KEYS[key]
        problems += model_render_problems(path, key, render_key, config_value(config, render_key))
        if key == "render.weights":
            problems += sea_level_problems(config, path)
    return problems


def sea_level_problems(config: Mapping[str, Any], weights: Path) -> list[str]:
    """A Mars sea level needs render weights with a water input: said before any job runs."""
    from areograph.training.checkpoint import load_model_meta

    mars = (r for r in config["regions"] if r["planet"] == "mars")
    wet = [r["name"] for r in mars if sea_level_for(config, r) is not None]
    if not wet:
        return []
    try:
        inputs = load_model_meta(weights).conditioning or ("elevation",)
    except (OSError, ValueError):
        return []  # model_render_problems has named the unreadable file
    if "water" in inputs:
        return []
    return [
        f"render.sea_level_m / regions[].sea_level_m: {', '.join(wet)} asks for a sea, but render.weights "
        f"{weights} has no water input (its inputs: {', '.join(inputs)}); use a model trained with water, "
        "or no sea level"
    ]


def model_render_problems(
    path: Path, what: str, render_key: str, render: Mapping[str, Any]
) -> list[str]:
    """Whether the render settings ``render`` (at ``render_key``) can run the model file ``path``.

    The window must be the model's tile size (unless overridden) and the overlap below the window;
    ``what`` names where the file came from (a config key or a command-line option).
    """
    from areograph.training.checkpoint import load_model_meta

    try:
        meta = load_model_meta(path)
        asked, override = render.get("window_px"), window_override(render)
        window = meta.window_px(asked, path, f"{render_key}.window_px", override)
    except (OSError, ValueError) as err:  # ModelMismatchError is a ValueError
        return [f"{what}: {err}"]
    overlap = render.get("overlap_px")
    if overlap is not None and overlap >= window:
        return [
            f"{render_key}.overlap_px: value {overlap} must be below the render window {window} px "
            f"(the tile size of the model {what} = {path})"
        ]
    return []


def window_override(render: Mapping[str, Any]) -> bool:
    """Whether a render section deliberately runs another window than the model's tile size."""
    return "window_px" in render.get("overrides", ())


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file and validate it; errors name the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return validate_config(data, source=str(path))


def regions(config: Mapping[str, Any], planet: str | None = None) -> list[dict[str, Any]]:
    """Regions of the config, optionally only one planet's."""
    return [r for r in config["regions"] if planet is None or r["planet"] == planet]


def region_source(config: Mapping[str, Any], region: Mapping[str, Any], input_name: str) -> dict[str, Any]:
    """The source spec serving ``input_name`` for ``region``: its ``sources`` entry, else the global one
    (else the input's default, sources.DEFAULT_SOURCES)."""
    from areograph.sources import DEFAULT_SOURCES

    spec = region.get("sources", {}).get(input_name) or config["sources"].get(input_name)
    return dict(spec or DEFAULT_SOURCES[input_name])


def sea_level_for(config: Mapping[str, Any], region: Mapping[str, Any]) -> float | None:
    """A Mars region's sea level (areoid m): its own ``sea_level_m``, else ``render.sea_level_m``; None = dry.

    A region that sets ``sea_level_m: null`` is dry even when the run has a sea level.
    """
    if "sea_level_m" in region:
        return region["sea_level_m"]
    return config["render"].get("sea_level_m")


def tiles_shape(region: Mapping[str, Any]) -> tuple[int, int]:
    """(columns, rows) of a region: ``tiles_per_side`` is an int (square) or [east-west, north-south]."""
    n = region["tiles_per_side"]
    return (n, n) if isinstance(n, int) else (int(n[0]), int(n[1]))


# --- what a validated config decides for the workflow -------------------------------------------


def workflow_path(value: str, workflow_dir: Path | str) -> str:
    """A configured file for the rules: as written when it is there (absolute, or relative to the working
    directory), else the repository's own (relative to the workflow's folder), so any --directory finds it.
    """
    if Path(value).is_absolute() or Path(value).exists():
        return value
    return str(Path(workflow_dir) / value)


@dataclass(frozen=True)
class RunPlan:
    """The decisions the rules take from a validated config, made once here and typed.

    Region lists by planet and split, the shipped weights (resolved against the workflow folder), the
    evaluation suites (which models each scores), the colour methods and the one that is shipped. The
    whole-planet plan is computed only when a rule asks for a planned region (``planet_regions``,
    cached), so a run that does not render the planet never plans it.
    """

    config: Mapping[str, Any] = field(repr=False)
    workflow_dir: str
    results: str
    regions: Mapping[str, Mapping[str, Any]]
    earth: tuple[str, ...]
    held_out: tuple[str, ...]
    mars: tuple[str, ...]
    terrain_weights: str | None
    colouriser_weights: str | None
    compare: Mapping[str, Mapping[str, Any]]
    eval_sets: Mapping[str, str]
    ship_method: str
    planet_enabled: bool

    @property
    def render_model_file(self) -> str:
        """The generator the Mars mosaics are rendered with: the shipped weights, else ``render.model``'s."""
        return self.terrain_weights or self._model_file(terrain_model_name(self.config["render"]["model"]))

    @property
    def trained_terrain(self) -> dict[str, str]:
        """The model file of each ``terrain_models`` entry (rule train_terrain), by name."""
        return {m: self._model_file(terrain_model_name(m)) for m in self.config["terrain_models"]}

    @property
    def colour_dirs(self) -> dict[str, str]:
        """Every colouriser this config trains: method -> its folder under results/models/."""
        return colour_method_dirs(self.config["rovers"])

    @property
    def trained_colour(self) -> dict[str, str]:
        """The model file of each colour method, by method."""
        return {m: self._model_file(d) for m, d in self.colour_dirs.items()}

    def _model_file(self, name: str) -> str:
        return str(model_file(model_dir(self.results, name)))

    @property
    def terrain_suites(self) -> dict[str, dict[str, str]]:
        """Terrain evaluation suites (results/eval/<suite>/): {method: model file}, scored with the baselines.

        The default run (suite ``terrain``) evaluates the shipped weights and trains nothing; ``snakemake
        train`` scores the demo models beside them (``terrain_trained``). Without shipped weights both
        are of trained models.
        """
        shipped = {"shipped": self.terrain_weights} if self.terrain_weights else {}
        return {"terrain": shipped or self.trained_terrain, "terrain_trained": self.trained_terrain | shipped}

    @property
    def colour_suites(self) -> dict[str, dict[str, str]]:
        """Colour evaluation suites as :attr:`terrain_suites`: ``colour`` (shipped), ``colour_trained``."""
        shipped = {"shipped": self.colouriser_weights} if self.colouriser_weights else {}
        return {"colour": shipped or self.trained_colour, "colour_trained": self.trained_colour | shipped}

    def init_from(self, model: str) -> str | None:
        """The file a ``terrain_models`` entry fine-tunes from, found as the weights are (workflow_path)."""
        value = self.config["terrain_models"][model].get("init_from")
        return workflow_path(value, self.workflow_dir) if value else None

    @property
    def opportunity_model_file(self) -> str:
        """The colouriser for the Opportunity frames: the shipped weights, else the one trained here."""
        return self.colouriser_weights or self.trained_colour["colouriser"]

    @property
    def region_pattern(self) -> str:
        """A regex for the {region} wildcard: the configured names, and the planned ones' form with planet."""
        from areograph.geo.planet import planet_region_pattern

        names = [*self.regions] + ([planet_region_pattern()] if self.planet_enabled else [])
        return "|".join(names) or "NO_REGION"

    @functools.cached_property
    def planet_regions(self) -> dict[str, dict[str, Any]]:
        """The whole-planet plan's regions by name, planned on first use (empty when planet is disabled)."""
        from areograph.geo import planet

        plan = planet.planet_plan(self.config) if self.planet_enabled else None
        return {r["name"]: r for r in plan.regions} if plan else {}

    def planned_region_names(self) -> list[str]:
        """The planned regions' names, for the planet target, which needs planet.enabled."""
        if not self.planet_enabled:
            raise ConfigError("the planet target needs planet.enabled: true in the config")
        return list(self.planet_regions)

    def region(self, name: str) -> Mapping[str, Any]:
        """A region by name: a configured one, else a planned one (which plans the planet)."""
        return self.regions[name] if name in self.regions else self.planet_regions[name]

    def hypsometry_regions(self) -> list[str]:
        """The Mars regions sharing one height distribution: every configured one, and the planned ones."""
        return [*self.mars, *(n for n in self.planet_regions if n not in self.mars)]


def run_plan(config: Mapping[str, Any], workflow_dir: Path | str) -> RunPlan:
    """The rules' decisions for a config :func:`validate_config` returned (defaults filled, cross-checked)."""
    earth = regions(config, "earth")
    weights = {key: config_value(config, key) for key in WEIGHTS_KEYS}
    resolved = {k: workflow_path(v, workflow_dir) if v else None for k, v in weights.items()}
    rovers = config["rovers"]
    return RunPlan(
        config=config,
        workflow_dir=str(workflow_dir),
        results=config["results_dir"],
        regions={r["name"]: r for r in config["regions"]},
        earth=tuple(r["name"] for r in earth),
        held_out=tuple(r["name"] for r in earth if r["split"] == "val"),
        mars=tuple(r["name"] for r in regions(config, "mars")),
        terrain_weights=resolved["render.weights"],
        colouriser_weights=resolved["rovers.colouriser.weights"],
        compare=rovers["compare"] or {},
        eval_sets=rovers["eval_sets"] or {},
        ship_method=rovers["ship"],
        planet_enabled=config["planet"]["enabled"],
    )
