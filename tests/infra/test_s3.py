"""A real S3-compatible server (SeaweedFS) on 127.0.0.1: a DVC repo pushes to it and a fresh clone
pulls the same bytes back, with the keys kept out of git (.dvc/config.local or the environment)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from infra import BIN, S3Server, dvc_s3_remote, run

DVC = BIN / "dvc"


@pytest.fixture(autouse=True)
def _quiet_git_and_dvc(monkeypatch: pytest.MonkeyPatch) -> None:
    # Commits in throwaway repos need an identity; DVC must not try to send analytics anywhere.
    for var in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{var}_NAME", "areograph tests")
        monkeypatch.setenv(f"{var}_EMAIL", "tests@example.invalid")
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)


def _make_repo(path: Path, s3: S3Server, prefix: str) -> dict[str, bytes]:
    """A git + DVC repo tracking one file and one directory, with the S3 remote configured."""
    path.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=path)
    run([DVC, "init", "-q"], cwd=path)
    content = {
        "data/model.bin": os.urandom(200_000),
        "data/tiles/a.txt": b"tile a\n",
        "data/tiles/b.txt": b"tile b\n",
    }
    for rel, data in content.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    dvc_s3_remote(path, s3, prefix=prefix)
    run([DVC, "add", "-q", "data/model.bin", "data/tiles"], cwd=path)
    run(["git", "add", "-A"], cwd=path)
    run(["git", "commit", "-q", "-m", "data"], cwd=path)
    return content


def test_dvc_push_then_pull_in_a_fresh_clone(s3: S3Server, tmp_path: Path) -> None:
    content = _make_repo(tmp_path / "origin", s3, prefix="roundtrip")
    tracked = run(["git", "ls-files"], cwd=tmp_path / "origin").stdout.split()
    assert ".dvc/config" in tracked and ".dvc/config.local" not in tracked
    assert s3.secret_access_key not in (tmp_path / "origin" / ".dvc" / "config").read_text()
    assert "data/model.bin" not in tracked  # only its .dvc pointer is in git

    run([DVC, "push"], cwd=tmp_path / "origin")

    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(tmp_path / "origin"), str(clone)])
    assert not (clone / "data" / "model.bin").exists()
    assert not (clone / ".dvc" / "config.local").exists()  # keys never travel with the repo
    # A colleague adds their own keys locally, then pulls.
    run([DVC, "remote", "modify", "--local", "storage", "access_key_id", s3.access_key_id], cwd=clone)
    run([DVC, "remote", "modify", "--local", "storage", "secret_access_key", s3.secret_access_key], cwd=clone)
    run([DVC, "pull"], cwd=clone)
    for rel, data in content.items():
        assert (clone / rel).read_bytes() == data, rel


def test_credentials_from_the_environment_and_wrong_keys_rejected(s3: S3Server, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    content = _make_repo(repo, s3, prefix="envkeys")
    (repo / ".dvc" / "config.local").unlink()  # no keys on disk: only the environment

    env = dict(os.environ, AWS_ACCESS_KEY_ID=s3.access_key_id, AWS_SECRET_ACCESS_KEY="not-the-secret")
    refused = run([DVC, "push"], cwd=repo, env=env, check=False)
    assert refused.returncode != 0
    assert re.search(r"SignatureDoesNotMatch|Forbidden|403", refused.stderr), refused.stderr

    env["AWS_SECRET_ACCESS_KEY"] = s3.secret_access_key
    run([DVC, "push"], cwd=repo, env=env)
    # Drop the workspace copies and the local cache, so the pull can only come from the server.
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "data" / "tiles")
    (repo / "data" / "model.bin").unlink()
    run([DVC, "pull"], cwd=repo, env=env)
    for rel, data in content.items():
        assert (repo / rel).read_bytes() == data, rel
