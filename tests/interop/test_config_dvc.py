"""DVC config files written by real `dvc remote add` / `dvc config`, read back by exptui
value for value as `dvc config --list` reads them (quotes, '#', commas, escapes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.project.config import load_dvc_config
from tests.helpers import Dvc, git

pytestmark = pytest.mark.dvc


def dvc_values(dvc: Dvc, repo: Path, *level: str) -> dict[tuple[tuple[str, str], str], str]:
    """`dvc config --list` as {((section, name), key): value}."""
    found = {}
    for line in dvc("config", "--list", *level, cwd=repo).splitlines():
        dotted, _, value = line.partition("=")
        parts = dotted.split(".")
        section = (parts[0], parts[1]) if parts[0] == "remote" else (parts[0], "")
        found[(section, parts[-1])] = value
    return found


def test_values_dvc_wrote_read_as_dvc_reads_them(dvc: Dvc, tmp_path: Path) -> None:
    """`dvc remote add -d storage "/x/st#hash"` writes the URL quoted; exptui kept the
    quotes and put the objects in a directory named '"/x/st#hash"' inside .dvc."""
    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    dvc("init", "-q", cwd=repo)
    storage = tmp_path / "st#hash"
    dvc("remote", "add", "-d", "storage", str(storage), cwd=repo)
    dvc("remote", "add", "other", "s3://bucket/a b;c", cwd=repo)
    dvc("config", "cache.type", "hardlink,symlink", cwd=repo)
    dvc("remote", "add", "--local", "secret", "ssh://host/path", cwd=repo)
    dvc("remote", "modify", "--local", "secret", "password", 'p#w"d,x', cwd=repo)
    dvc("remote", "modify", "--local", "secret", "user", "a, b", cwd=repo)
    written = (repo / ".dvc" / "config").read_text() + (repo / ".dvc" / "config.local").read_text()
    assert '"hardlink,symlink"' in written and f'"{storage}"' in written  # DVC quoted them

    expected = dvc_values(dvc, repo)
    assert len(expected) == 7  # core.remote, cache.type, 2 urls, the secret remote's 3
    ours = load_dvc_config(repo / ".dvc")
    for (section, key), value in expected.items():
        assert ours.sections[section][key] == value, (section, key)
    assert ours.remote().url == str(storage)
    assert ours.sections[("cache", "")]["type"].split(",") == ["hardlink", "symlink"]
