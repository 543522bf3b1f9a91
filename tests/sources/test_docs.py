"""The live config examples in docs/live-sources.md are valid configs (schema + adapter options)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from areograph.config import ConfigError, validate_config
from areograph.sources.eox import attribution

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "live-sources.md").read_text()
EXAMPLES = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)]


def test_there_is_one_example_per_live_adapter():
    adapters = {spec["adapter"] for ex in EXAMPLES for spec in ex["sources"].values()}
    assert adapters == {"earthengine", "eox", "usgs", "nasa_raw", "pds"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda ex: next(iter(ex["sources"])))
def test_example_validates_in_the_real_config(example):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["sources"] |= example["sources"]
    validate_config(config)
    key = next(iter(example["sources"]))
    config["sources"][key]["options"]["no_such_option"] = 1
    with pytest.raises(ConfigError, match="no_such_option"):
        validate_config(config)


def test_doc_carries_the_exact_attribution_and_retirement_notice():
    assert attribution(2020) in DOC
    assert "mars-photos` API was retired in 2025" in DOC


def test_readme_live_example_validates():
    """The README's all-live `sources:` block is a valid config too."""
    readme = (ROOT / "README.md").read_text()
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(sources:.*?)```", readme, flags=re.S)]
    assert blocks, "README has no live sources example"
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["sources"] = blocks[0]["sources"]
    validate_config(config)
