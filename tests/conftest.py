"""Shared fixtures: paths of the repository and its offline sample."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Tiny models gain nothing from threads, and OpenMP threads crawl on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory where the tiny config (tests/tiny.py) was built end to end, once per session.

    Tests that modify it must work on a copy.
    """
    from tiny import snakemake, write_tiny_config

    workdir = tmp_path_factory.mktemp("tiny_workflow")
    write_tiny_config(workdir)
    run = snakemake(workdir, "--cores", "2", "all", "train")  # the default run and the demo training
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    return workdir


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real S3-compatible server (SeaweedFS) on 127.0.0.1 for this module; skipped where none can run."""
    from infra import Unavailable, running_s3

    try:
        with running_s3(tmp_path_factory.mktemp("s3")) as server:
            yield server
    except Unavailable as exc:
        pytest.skip(f"no local S3 server: {exc}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium (tests/browser.py) for this module; skipped where none can be had."""
    from browser import chromium
    from infra import Unavailable

    try:
        with chromium() as b:
            yield b
    except Unavailable as exc:
        pytest.skip(f"no headless Chromium: {exc}")


CORPORA = ROOT.parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    """The real public data sets beside the clone (../shared/corpora); CI always has them."""
    import os

    if not CORPORA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{CORPORA} is missing; CI runs with ../shared beside the clone")
        pytest.skip(f"{CORPORA} not present (clone the data sets there to run this test)")
    return CORPORA
