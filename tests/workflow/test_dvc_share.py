"""Sharing results through DVC without Snakemake rebuilding them.

Static checks keep dvc.yaml honest against rules/*.smk (every rule in one stage, every config key a
rule reads among its stage's params, every script, env, rules file and upstream output among its
deps). The round trip then runs for real: the tiny workflow is committed to DVC and pushed to a
SeaweedFS S3 server on 127.0.0.1; a fresh git clone runs ``make pull`` and Snakemake has nothing
to do; a changed training key reruns training and what follows it, nothing upstream.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from infra import BIN, S3Server, dvc_s3_remote, run
from tiny import tiny_config

from areograph.rebaseline import STALE_MTIME, backdate, stage_outputs, stale_stages

ROOT = Path(__file__).resolve().parents[2]
DVC = BIN / "dvc"
SNAKEMAKE = BIN / "snakemake"
VENV = BIN.parent
DVC_YAML = yaml.safe_load((ROOT / "dvc.yaml").read_text())
STAGES: dict[str, dict] = DVC_YAML["stages"]
STAGE_RULES: dict[str, list[str]] = {s: r.split() for s, r in DVC_YAML["vars"][0]["rules"].items()}
RULE_STAGE = {rule: stage for stage, rules in STAGE_RULES.items() for rule in rules}
# Names rules/common.smk and config.py's RunPlan derive from config["regions"]; a rule using one reads
# that key.
FROM_REGIONS = ("RUN.region", "RUN.earth", "RUN.mars", "RUN.held_out", "input_name")
# What the working tree must carry for a copy of the project to build and share itself.
PROJECT_FILES = (
    "Snakefile", "rules", "workflow_scripts", "src", "envs", "data/sample", "weights", "dvc.yaml", "report",
    ".dvcignore", ".dvc/config", ".dvc/.gitignore", ".gitignore", "Makefile", "pyproject.toml",
)  # fmt: skip
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN")
# Rules outside the default DAG: one run only as an explicit target (packaging weights/colouriser/),
# the colouriser variants, which exist only when rovers.compare names some, and the planet assembly,
# which exists only when planet.enabled.
EXPLICIT_TARGETS = {"ship_colouriser"}
NOT_IN_DEFAULT_DAG = EXPLICIT_TARGETS | {"train_colour_variant", "assemble_planet"}
# The metric tables and the viewers follow the evaluation and the renders they show.
TERRAIN_TRAINING_AND_AFTER = {
    "train_terrain", "evaluate_terrain", "compare_region", "render_mars", "metrics_table", "viewer", "all",
    "train",
}  # fmt: skip


# --- dvc.yaml against rules/*.smk ---------------------------------------------------------------


def _rule_blocks() -> dict[str, dict]:
    """Each rule of rules/*.smk: its file, text, and (for ``use rule A as B``) its parent."""
    blocks: dict[str, dict] = {}
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        text = smk.read_text()
        starts = [m for m in re.finditer(r"^(?:rule (\w+)|use rule (\w+) as (\w+) with):", text, re.M)]
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            name = m.group(1) or m.group(3)
            blocks[name] = {"file": f"rules/{smk.name}", "text": text[m.start() : end], "parent": m.group(2)}
    return blocks


def _directive(block: dict, blocks: dict[str, dict], name: str) -> str | None:
    """A one-string directive (script, conda) of a rule, inherited through ``use rule``."""
    m = re.search(rf"^    {name}:\s*\n\s*\"([^\"]+)\"", block["text"], re.M)
    if m:
        return os.path.normpath(f"rules/{m.group(1)}")
    return _directive(blocks[block["parent"]], blocks, name) if block["parent"] else None


def _config_reads(text: str) -> set[str]:
    """Dotted config keys a rule's text reads: config["a"]["b"], config["a"].get("b"), derived names."""
    keys = set()
    for m in re.finditer(r"config((?:\[\s*\"\w+\"\s*\])+)(?:\.get\(\s*\"(\w+)\")?", text):
        parts = re.findall(r"\"(\w+)\"", m.group(1)) + ([m.group(2)] if m.group(2) else [])
        keys.add(".".join(parts))
    if any(re.search(rf"\b{re.escape(name)}\b", text) for name in FROM_REGIONS):
        keys.add("regions")
    return keys


def _stage_params(stage: str) -> list[str]:
    return [key for entry in STAGES[stage].get("params", []) for key in entry["config.yaml"]]


def _stage_deps(stage: str) -> list[str]:
    return list(STAGES[stage].get("deps", []))


def _covered(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def test_every_rule_belongs_to_exactly_one_stage() -> None:
    rules = set(_rule_blocks())
    listed = [rule for rules_ in STAGE_RULES.values() for rule in rules_]
    assert len(listed) == len(set(listed)), f"a rule is in two stages: {listed}"
    assert set(listed) == rules, f"not in any stage: {rules - set(listed)}; unknown: {set(listed) - rules}"
    assert set(STAGE_RULES) == set(STAGES)


def test_stage_params_cover_every_config_key_its_rules_read() -> None:
    blocks = _rule_blocks()
    missing = {}
    for name, block in blocks.items():
        reads = _config_reads(block["text"])
        if block["parent"]:
            reads |= _config_reads(blocks[block["parent"]]["text"])
        params = _stage_params(RULE_STAGE[name])
        if gaps := sorted(
            k for k in reads if not _covered(k.replace(".", "/"), [p.replace(".", "/") for p in params])
        ):
            missing[name] = gaps
    assert not missing, f"config keys read by rules but not in their stage's params: {missing}"
    # And the parser does see reads (so the check above cannot pass vacuously).
    assert _config_reads(blocks["train_terrain"]["text"]) >= {"training", "models", "tiles.size_px"}
    assert "evaluation.n_examples" in _config_reads(blocks["evaluate_terrain"]["text"])
    assert "regions" in _config_reads(blocks["tile_layer"]["text"])


def test_stage_deps_name_each_rules_file_script_env_and_the_modules_its_adapter_imports() -> None:
    blocks = _rule_blocks()
    for name, block in blocks.items():
        deps = _stage_deps(RULE_STAGE[name])
        script, conda = _directive(block, blocks, "script"), _directive(block, blocks, "conda")
        assert script and conda, name
        needed = ["Snakefile", "rules/common.smk", block["file"], script, conda]
        tree = ast.parse((ROOT / script).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("areograph."):
                if node.module in ("areograph.logs", "areograph.atomic"):
                    continue  # where logs go and how files are renamed do not shape outputs
                module = Path("src", *node.module.split("."))
                needed.append(
                    str(module / "__init__.py" if (ROOT / module).is_dir() else module.with_suffix(".py"))
                )
        assert all((ROOT / p).exists() for p in needed), needed
        missing = [p for p in needed if not _covered(p, deps)]
        assert not missing, f"rule {name}: stage {RULE_STAGE[name]!r} lacks deps {missing}"


def _dry_run_jobs(workdir: Path) -> list[tuple[str, list[str], list[str]]]:
    """(rule, inputs, outputs) of every job of the default run and the demo training (``all train``)."""
    proc = run([SNAKEMAKE, "-n", "--forceall", "--cores", "1", "all", "train"], cwd=workdir)
    jobs: list[tuple[str, list[str], list[str]]] = []
    for block in re.split(r"^(?:local)?rule ", proc.stdout, flags=re.M)[1:]:
        rule = block.split(":", 1)[0]
        files = {k: v.split(", ") for k, v in re.findall(r"^    (input|output): (.+)$", block, re.M)}
        jobs.append((rule, files.get("input", []), files.get("output", [])))
    return jobs


def test_stage_outs_hold_every_output_and_deps_name_every_upstream_output(tmp_path: Path) -> None:
    _copy_project(tmp_path)
    cfg = tiny_config()
    cfg["rovers"]["compare"] = {"l1": {"loss": "l1"}}  # puts train_colour_variant into the DAG
    cfg["planet"] = {"enabled": True, "tiles_max": 2, "overlap_km": 2, "extent": [137.7, -5.5, 137.8, -5.4]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    outs = stage_outputs(tmp_path / "dvc.yaml")
    jobs = [j for j in _dry_run_jobs(tmp_path) if j[0] not in ("all", "train")]
    assert {rule for rule, _, _ in jobs} == set(RULE_STAGE) - EXPLICIT_TARGETS
    producer = {out: RULE_STAGE[rule] for rule, _, outputs in jobs for out in outputs}
    for rule, inputs, outputs in jobs:
        stage = RULE_STAGE[rule]
        for out in outputs:
            assert _covered(out, outs[stage]), f"{out} of {rule} is not among stage {stage!r}'s outs"
        for inp in inputs:
            if producer.get(inp, stage) != stage:
                assert _covered(inp, _stage_deps(stage)), f"{rule} reads {inp}: not a dep of stage {stage!r}"


# --- the re-baseline's pieces --------------------------------------------------------------------


def test_stale_stages_ignore_outputs_not_pulled_and_keep_dvcs_reasons() -> None:
    status = {
        "models": [{"changed deps": {"config.yaml": {"training": "modified"}}}],
        "evaluate": [{"changed outs": {"results/eval/colour/metrics.json": "deleted"}}],
        "render": [{"changed deps": {"src/areograph/render": "modified"}}, "changed command"],
        "data.dvc": [{"changed outs": {"data": "modified"}}],
    }
    assert stale_stages(status, STAGES) == {
        "models": ["changed deps config.yaml: training modified"],
        "render": ["changed deps src/areograph/render: modified", "changed command"],
    }


def test_backdate_reaches_files_and_directories_inside_outputs(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for rel in ("d/.snakemake_timestamp", "d/sub/a.txt", "f.csv"):
        (tmp_path / rel).write_text("x")
    assert backdate([tmp_path / "d", tmp_path / "f.csv", tmp_path / "missing"]) == 5
    for rel in ("d", "d/sub", "d/.snakemake_timestamp", "d/sub/a.txt", "f.csv"):
        assert (tmp_path / rel).lstat().st_mtime == STALE_MTIME, rel


# --- the round trip through a real S3 server -----------------------------------------------------


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits need an identity; DVC sends no analytics; stage commands find snakemake on PATH."""
    for var in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{var}_NAME", "areograph tests")
        monkeypatch.setenv(f"{var}_EMAIL", "tests@example.invalid")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    # No outer make's flags (make test -> pytest -> make pull), no keys but the ones tests set.
    for var in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", *AWS_VARS):
        monkeypatch.delenv(var, raising=False)


def _copy_project(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for rel in PROJECT_FILES:
        src, dst = ROOT / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=ignore)
        else:
            shutil.copy2(src, dst)


def _scheduled(workdir: Path) -> set[str]:
    """Rules ``snakemake -n all train`` would run: the default run and the demo training DVC shares."""
    out = run([SNAKEMAKE, "-n", "--cores", "1", "all", "train"], cwd=workdir).stdout
    if "Nothing to be done" in out:
        return set()
    table = out.split("Job stats:", 1)[1].split("total", 1)[0]
    return set(re.findall(r"^(\w+)\s+\d+\s*$", table, re.M))


def _set_training_steps(workdir: Path, steps: int) -> None:
    path = workdir / "config.yaml"
    config = yaml.safe_load(path.read_text())
    config["training"]["steps"] = steps
    path.write_text(yaml.safe_dump(config))


def _clone_with_keys(origin: Path, dest: Path, s3: S3Server) -> Path:
    run(["git", "clone", "-q", str(origin), str(dest)])
    assert not (dest / "results").exists() and not (dest / ".dvc" / "config.local").exists()
    run([DVC, "remote", "modify", "--local", "storage", "access_key_id", s3.access_key_id], cwd=dest)
    run([DVC, "remote", "modify", "--local", "storage", "secret_access_key", s3.secret_access_key], cwd=dest)
    return dest


def _make_pull(workdir: Path) -> str:
    """``make pull`` as users run it, on this test's venv (-o: never rebuild the venv here)."""
    stamp = VENV / ".installed"
    proc = run(["make", "-s", "pull", f"VENV={VENV}", "-o", str(stamp)], cwd=workdir, timeout=300)
    return proc.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("env")
def test_pull_in_a_fresh_clone_rebuilds_nothing_and_a_training_change_reruns_only_what_follows(
    s3: S3Server, tiny_workflow: Path, tmp_path: Path
) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    origin = tmp_path / "origin"
    _copy_project(origin)
    shutil.copy2(tiny_workflow / "config.yaml", origin / "config.yaml")
    shutil.copytree(tiny_workflow / "results", origin / "results", symlinks=True)
    run(["git", "init", "-q", "-b", "main"], cwd=origin)
    dvc_s3_remote(origin, s3, prefix="share")
    # The tiny workflow was built from this code and config: record it (dvc repro would rebuild it).
    run([DVC, "commit", "-f", "-q"], cwd=origin)
    assert run([DVC, "status", "--json"], cwd=origin).stdout.strip() == "{}"
    run(["git", "add", "-A"], cwd=origin)
    run(["git", "commit", "-q", "-m", "tiny workflow shared"], cwd=origin)
    tracked = run(["git", "ls-files"], cwd=origin).stdout.split()
    assert "dvc.lock" in tracked and ".dvc/config.local" not in tracked
    assert not any(p.startswith("results/") for p in tracked)
    assert s3.secret_access_key not in (origin / ".dvc" / "config").read_text()
    run([DVC, "push", "-q"], cwd=origin)

    clone = _clone_with_keys(origin, tmp_path / "clone", s3)
    assert "every stage matches dvc.lock" in _make_pull(clone)
    for rel in ("results/eval/terrain/metrics.json", "results/models/terrain_pix2pix/checkpoints/latest.pt"):
        assert (clone / rel).read_bytes() == (origin / rel).read_bytes(), rel
    assert _scheduled(clone) == set()
    # Touching (and the .snakemake_timestamp flags it creates, .dvcignore'd) leaves DVC content-clean.
    assert run([DVC, "status", "--json"], cwd=clone).stdout.strip() == "{}"

    steps = tiny_config()["training"]["steps"]
    _set_training_steps(clone, steps + 1)
    assert _scheduled(clone) == TERRAIN_TRAINING_AND_AFTER
    _set_training_steps(clone, steps)
    assert _scheduled(clone) == set()  # params are compared by value, not by file time

    adapter = clone / "workflow_scripts" / "render_mars.py"
    adapter.write_text(adapter.read_text() + "# edited\n")
    assert _scheduled(clone) == {"render_mars", "viewer", "all"}  # the viewer shows the new mosaic
    run(["git", "checkout", "-q", "--", "workflow_scripts"], cwd=clone)

    # Package code: DVC sees which stage's code changed (Snakemake watches only the adapters).
    video = clone / "src" / "areograph" / "render" / "video.py"
    video.write_text(video.read_text() + "# edited\n")
    status = yaml.safe_load(run([DVC, "status", "--json"], cwd=clone).stdout)
    assert set(stale_stages(status, STAGES)) == {"render"}
    run(["git", "checkout", "-q", "--", "src"], cwd=clone)

    # A second colleague edits the config before pulling: the models stage no longer matches
    # dvc.lock, so Snakemake must retrain (all of that stage) and redo what follows, but no more.
    late = _clone_with_keys(origin, tmp_path / "late", s3)
    _set_training_steps(late, steps + 2)
    out = _make_pull(late)
    assert "stage 'models' does not match dvc.lock" in out and "training modified" in out
    assert "'raw'" not in out and "'datasets'" not in out
    after_training = {r for s in ("models", "evaluate", "render") for r in STAGE_RULES[s]} | {"all", "train"}
    # The Opportunity video is made with the shipped weights, not with the models trained here.
    after_training -= NOT_IN_DEFAULT_DAG | {"colourise_opportunity", "render_rover_video"}
    after_training -= {"mars_hypsometry"}  # Mars heights only: no training before it
    assert _scheduled(late) == after_training
    _set_training_steps(late, steps)
    run([sys.executable, "-m", "areograph.rebaseline"], cwd=late)
    assert _scheduled(late) == set()


@pytest.mark.slow
@pytest.mark.usefixtures("env")
def test_dvc_repro_reruns_a_changed_stage_through_snakemake(tiny_workflow: Path, tmp_path: Path) -> None:
    """The stage commands work: a params change reruns that stage's rules and both tools agree after."""
    repo = tmp_path / "repo"
    _copy_project(repo)
    shutil.copy2(tiny_workflow / "config.yaml", repo / "config.yaml")
    shutil.copytree(tiny_workflow / "results", repo / "results", symlinks=True)
    shutil.copytree(tiny_workflow / ".snakemake" / "metadata", repo / ".snakemake" / "metadata")
    # The code predates the outputs (as where they were built), even if someone edits it meanwhile.
    backdate(repo / p for p in ("Snakefile", "rules", "workflow_scripts", "src"))
    run(["git", "init", "-q", "-b", "main"], cwd=repo)
    run([DVC, "commit", "-f", "-q"], cwd=repo)
    before = (repo / "results/eval/terrain/examples.png").read_bytes()

    config = yaml.safe_load((repo / "config.yaml").read_text())
    config["evaluation"]["n_examples"] = 2
    (repo / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run([DVC, "repro"], cwd=repo, timeout=600)
    ran = re.findall(r"Running stage '(\w+)'", proc.stdout)
    assert ran == ["evaluate"], proc.stdout[-3000:]
    finished = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", proc.stdout + proc.stderr))
    assert finished - {"all", "train"} == set(STAGE_RULES["evaluate"]) - EXPLICIT_TARGETS  # targets aside
    assert (repo / "results/eval/terrain/examples.png").read_bytes() != before
    assert run([DVC, "status", "--json"], cwd=repo).stdout.strip() == "{}"
    assert _scheduled(repo) == set()
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    assert lock["stages"]["evaluate"]["params"]["config.yaml"]["evaluation"] == {"n_examples": 2}
