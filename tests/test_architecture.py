"""The house rules that keep the package layered: no upward import, one home per artefact file name.

Both read the source with ``ast`` (every import, function-level ones included), so a new module that
breaks the order or spells a contract's file name itself fails here, not in review.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "areograph"

# Bottom to top; a module may import its own layer or any layer below (docs/architecture.md). A name
# is a top-level module or package, or a module inside one ("evaluation.lattice"): the longest match wins,
# so the evaluation package's maths sits low (the renderer uses the lattice metric) and the rest high.
EVALUATION_MATHS = ("image_metrics", "texture", "lattice", "realism", "shoreline", "baselines")
LAYERS: list[tuple[str, ...]] = [
    ("artefacts", "faults", "logs", "workflow"),
    ("atomic",),
    ("geo", "images", *(f"evaluation.{m}" for m in EVALUATION_MATHS), "download"),
    ("sources",),
    ("data",),
    ("models",),
    ("training",),
    ("render",),
    ("config",),
    ("evaluation",),
    ("terraform", "colourise", "ship", "rebaseline", "cli"),
]
# File names of the on-disk contracts: each may be spelled in one src module only (artefacts/*).
ARTEFACT_NAMES = ("MANIFEST.csv", "region.tif", "index.geojson", "model.pt", "losses.csv", "losses.png",
                  "checkpoints/latest.pt", "terraformed.tif", "terraformed.geojson", "quicklook.png",
                  "side_by_side.png", "terrain_pairs.npz", "colour_patches.npz", "frames.csv", "index.html",
                  "metrics.json", "examples.png", "metrics.png", "metrics.html",
                  "MODEL_CARD.md", "quality_report.csv", "opportunity_colour.mp4",
                  "opportunity_side_by_side.mp4", "still.png", "hypsometry.json",
                  "terraformed_mars.tif")  # fmt: skip


def _layer(dotted: str) -> int | None:
    """Layer of ``areograph.<top>...``; None for the package root and non-areograph names."""
    parts = dotted.split(".")
    if parts[0] != "areograph" or len(parts) < 2:
        return None
    for depth in (2, 1):  # "evaluation.lattice" before "evaluation"
        name = ".".join(parts[1 : 1 + depth])
        for i, names in enumerate(LAYERS):
            if name in names:
                return i
    raise AssertionError(f"areograph.{parts[1]} is in no layer: add it to LAYERS and docs/architecture.md")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        out.append((".".join(p for p in rel.parts if p != "__init__"), path))
    return out


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _string_constants(path: Path) -> list[str]:
    """String literals that are not docstrings (comments are not in the tree at all)."""
    tree = ast.parse(path.read_text())
    docs = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
    }  # fmt: skip
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    ]


def upward_imports() -> list[str]:
    found = []
    for name, path in _modules():
        own = _layer(name)
        for target in _imports(path):
            other = _layer(target)
            if own is not None and other is not None and other > own:
                found.append(f"{name} (layer {own}) imports {target} (layer {other})")
    return found


def test_every_module_has_a_layer():
    for name, _ in _modules():
        _layer(name)


def test_no_import_runs_upward():
    assert upward_imports() == []


def test_a_package_split_over_layers_imports_nothing_in_its_init():
    """Importing the evaluation maths runs evaluation/__init__.py: it must not load the upper layer."""
    packages = {names.split(".")[0] for layer in LAYERS for names in layer if "." in names}
    for package in packages:
        assert _imports(SRC / package / "__init__.py") == [], package


def test_the_evaluation_maths_sits_below_the_renderer_and_the_rest_above():
    assert _layer("areograph.evaluation.lattice") < _layer("areograph.render.mosaic")
    terrain = _layer("areograph.evaluation.terrain")
    assert terrain == _layer("areograph.evaluation") and terrain > _layer("areograph.config")


def test_layer_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a geo module importing the renderer is reported."""
    fake = tmp_path / "areograph" / "geo"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from areograph.render.mosaic import to_uint8\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", tmp_path / "areograph")
    assert upward_imports() == ["areograph.geo.bad (layer 2) imports areograph.render.mosaic (layer 7)"]


@pytest.mark.parametrize("file_name", ARTEFACT_NAMES)
def test_artefact_file_name_has_one_home(file_name):
    homes = [name for name, path in _modules() if any(file_name in s for s in _string_constants(path))]
    assert len(homes) == 1 and homes[0].startswith("areograph.artefacts."), homes


WORKFLOW_FILES = [SRC.parents[1] / "Snakefile", *sorted((SRC.parents[1] / "rules").glob("*.smk"))]


def _workflow_code(text: str) -> str:
    """A Snakefile's text without comments and triple-quoted docstrings (prose may name files)."""
    text = re.sub(r'"""(?:.|\n)*?"""', "", text)
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def files_spelled_in_rules(files: list[Path] = WORKFLOW_FILES) -> list[str]:
    """(file: name) for each contract file name a Snakefile spells instead of importing it."""
    return [f"{path.name}: {name}" for path in files for name in ARTEFACT_NAMES
            if name in _workflow_code(path.read_text())]  # fmt: skip


def test_rules_import_contract_file_names():
    assert files_spelled_in_rules() == []


def test_the_rules_check_can_fail(tmp_path):
    smk = tmp_path / "bad.smk"
    smk.write_text('# model.pt in a comment is prose\nrule x:\n    """so is model.pt here"""\n'
                   '    output:\n        "results/mars/planet/terraformed_mars.tif",\n')  # fmt: skip
    assert files_spelled_in_rules([smk]) == ["bad.smk: terraformed_mars.tif"]


ROOT = SRC.parents[1]
API_DOC = ROOT / "docs" / "architecture.md"
# Called by the framework, never by name (nn.Module.__call__ runs forward).
IMPLICIT = {"forward"}


def _public_functions() -> dict[str, str]:
    """Public functions and methods of src/, by name -> the module defining it."""
    found = {}
    for name, path in _modules():
        for node in ast.parse(path.read_text()).body:
            bodies = [node] if isinstance(node, ast.FunctionDef) else []
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bodies = [m for m in node.body if isinstance(m, ast.FunctionDef)]
            for fn in bodies:
                if not fn.name.startswith("_") and fn.name not in IMPLICIT:
                    found[fn.name] = name
    return found


def _referenced_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return names


def documented_api() -> set[str]:
    """Function names listed in docs/architecture.md's "Public API without a caller in src/" section."""
    text = API_DOC.read_text().split("## Public API without a caller in src/", 1)[1].split("\n## ", 1)[0]
    return {dotted.rsplit(".", 1)[1] for dotted in re.findall(r"`([a-z_.]+\.[a-z_0-9]+)`", text)}


def uncalled_functions() -> list[str]:
    """Public functions nobody calls: not src/, not the rules or their adapters, not the documented API."""
    used: set[str] = set()
    for _, path in _modules():
        used |= _referenced_names(path)
    for path in [*(ROOT / "workflow_scripts").glob("*.py")]:
        used |= _referenced_names(path)
    rules = "\n".join(p.read_text() for p in [ROOT / "Snakefile", *(ROOT / "rules").glob("*.smk")])
    api = documented_api()
    return sorted(f"{module}.{fn}" for fn, module in _public_functions().items()
                  if fn not in used and fn not in api and not re.search(rf"\b{fn}\b", rules))  # fmt: skip


def test_every_public_function_has_a_caller_or_is_documented_api():
    assert uncalled_functions() == [], "call it, make it private, or list it in docs/architecture.md"


def test_the_documented_api_exists():
    assert documented_api() and documented_api() <= set(_public_functions())


def test_the_caller_check_can_fail(tmp_path, monkeypatch):
    fake = tmp_path / "areograph"
    fake.mkdir()
    (fake / "lonely.py").write_text("def nobody_calls_me():\n    return 1\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", fake)
    assert uncalled_functions() == ["areograph.lonely.nobody_calls_me"]


TESTS = ROOT / "tests"
# Test folders that mirror no subpackage: end-to-end runs of the whole workflow, and the tests of the
# test infrastructure itself (tests/infra.py's SLURM cluster and S3 server).
OWN_TEST_FOLDERS = {"workflow", "infra"}
# Tests of the house itself (these rules, the docs' links) rather than of one module.
HOUSE_TESTS = {"test_architecture.py", "test_readme.py"}


def misplaced_tests(tests: Path, src: Path) -> list[str]:
    """Test modules outside the mirror: tests/<subpackage>/test_*.py, or tests/test_<top-level module>.py."""
    subpackages = {p.parent.name for p in src.glob("*/__init__.py")}
    folders = subpackages | OWN_TEST_FOLDERS
    top_modules = {p.stem for p in src.glob("*.py")}
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        rel = path.relative_to(tests)
        if rel.parts[0] == "fixtures":
            continue
        if len(rel.parts) == 1:
            if rel.name not in HOUSE_TESTS and path.stem.removeprefix("test_") not in top_modules:
                found.append(f"tests/{rel.as_posix()}: no module areograph.{path.stem.removeprefix('test_')}")
        elif len(rel.parts) > 2 or rel.parts[0] not in folders:
            found.append(f"tests/{rel.as_posix()}: tests/{rel.parent.as_posix()} mirrors no subpackage")
    return found


def test_every_test_module_lives_where_the_package_puts_its_subject():
    assert misplaced_tests(TESTS, SRC) == [], (
        "tests/<subpackage>/test_<module>.py for src/areograph/<subpackage>/<module>.py; "
        f"tests/test_<module>.py for a top-level module; {sorted(OWN_TEST_FOLDERS)} for the rest"
    )


def test_the_test_layout_check_can_fail(tmp_path):
    src, tests = tmp_path / "areograph", tmp_path / "tests"
    for name in ("geo/__init__.py", "geo/grid.py", "cli.py"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text("")
    for name in ("geo/test_grid.py", "test_cli.py", "workflow/test_e2e.py", "fixtures/x/test_data.py",
                 "test_geo_grid.py", "georef/test_grid.py", "geo/deep/test_grid.py"):  # fmt: skip
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text("")
    assert misplaced_tests(tests, src) == [
        "tests/geo/deep/test_grid.py: tests/geo/deep mirrors no subpackage",
        "tests/georef/test_grid.py: tests/georef mirrors no subpackage",
        "tests/test_geo_grid.py: no module areograph.geo_grid",
    ]
