"""The workspace writer's descriptor handling, where a slip closes someone else's file."""

from __future__ import annotations

import os
from pathlib import Path

from core.workspace.writes import Workspace


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_removing_below_a_directory_that_is_gone_is_a_no_op(tmp_path: Path) -> None:
    """apply deletes files the experiment lacks; the user had removed their directory.
    The walk closed its descriptor twice and apply stopped with EBADF half-way."""
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "file").write_text("x")
    before = open_descriptors()
    workspace = Workspace(tmp_path)
    workspace.remove("gone/deeper/file.txt")
    workspace.remove("kept/file")
    assert not (tmp_path / "kept").exists()  # emptied parents pruned, as before
    assert open_descriptors() == before
