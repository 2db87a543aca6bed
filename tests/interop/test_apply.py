"""apply, side by side with dvc exp apply on twin copies, and refusals that write nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from core.data.objects import md5_bytes
from tests.big_experiment import add_raw_dir_output
from tests.helpers import Dvc, git
from tests.security.hostile import dvc_holding_the_lock
from tui.cli import main

SKIP = {".git", ".dvc/tmp", ".dvc/cache"}


def snapshot(project: Path) -> dict[str, object]:
    """Everything apply may change, as plain values."""
    files = {}
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in SKIP) or path.is_dir():
            continue
        files[rel] = (oct(path.lstat().st_mode), path.read_bytes())
    stash = {}
    if "refs/exps/apply/stash" in git("for-each-ref", "--format=%(refname)", cwd=project):
        stash = {
            part: git("rev-parse", f"refs/exps/apply/stash{part}", cwd=project).strip()
            for part in ("^{tree}", "^2^{tree}", "^1")
        }
        stash["message"] = git("log", "-1", "--format=%B", "refs/exps/apply/stash", cwd=project)
    return {
        "status": git("status", "--porcelain", cwd=project),
        "index": git("ls-files", "-s", cwd=project),
        "files": files,
        "refs": git(
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/exps/exec",
            "refs/exps/apply/ORIG_HEAD",
            "refs/heads",
            cwd=project,
        ),
        "head": (project / ".git" / "HEAD").read_text(),
        "stash": stash,
    }


@pytest.fixture
def twins(fresh_demo: Path, tmp_path: Path) -> tuple[Path, Path]:
    other = tmp_path / "twin"
    shutil.copytree(fresh_demo.parent, other, symlinks=True)
    return fresh_demo, other / "project"


def local_edits(project: Path) -> None:
    with open(project / "train.py", "a") as stream:
        stream.write("# a local edit\n")
    (project / "extra.yaml").write_text("seed: 1\n")
    git("add", "extra.yaml", cwd=project)
    (project / "scratch.txt").write_text("notes\n")
    (project / "notes").mkdir()
    (project / "notes" / "todo.md").write_text("- try lr 0.03\n")


@pytest.mark.dvc
@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "local-edits"])
def test_apply_matches_dvc_exp_apply(
    dvc: Dvc, twins: tuple[Path, Path], dirty: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs, ours = twins
    if dirty:
        local_edits(theirs)
        local_edits(ours)
    dvc("exp", "apply", "tuned-lr", cwd=theirs)
    assert main(["apply", "tuned-lr", "-C", str(ours)]) == 0
    assert "have been applied to your current workspace" in capsys.readouterr().out
    assert snapshot(ours) == snapshot(theirs)
    assert bool(snapshot(ours)["stash"]) is dirty
    for project in (theirs, ours):
        assert "up to date" in dvc("status", cwd=project)
    if dirty:  # DVC's recovery hint works on our stash exactly as on DVC's
        for project in (theirs, ours):
            git("checkout", "--", ".", cwd=project)
            subprocess.run(["git", "clean", "-fdq"], cwd=project, check=True)
            git("stash", "apply", "refs/exps/apply/stash", cwd=project)
        assert snapshot(ours) == snapshot(theirs)
        assert "# a local edit" in (ours / "train.py").read_text()
        assert (ours / "notes" / "todo.md").is_file()


def test_apply_refuses_when_data_is_missing_and_writes_nothing(
    fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "-A", "--json", "-C", str(fresh_demo)]) == 0
    out = capsys.readouterr().out
    exp = next(r for r in json.loads(out) if r["name"] == "tuned-lr")
    model = next(o for o in exp["outputs"] if o["path"] == "model.pkl")
    cached = fresh_demo / ".dvc/cache/files/md5" / model["oid"][:2] / model["oid"][2:]
    cached.unlink()
    local_edits(fresh_demo)
    before = snapshot(fresh_demo)
    assert main(["apply", "tuned-lr", "-C", str(fresh_demo)]) == 1
    err = capsys.readouterr().err
    assert "not in the local cache" in err and "exptui pull origin tuned-lr" in err
    assert snapshot(fresh_demo) == before


@pytest.mark.parametrize(
    "relpath",
    ["../../outside.txt", "/etc/evil", "ok/../../../escape"],
    ids=["dotdot", "abs", "deep"],
)
def test_hostile_manifest_is_refused_before_writing(
    fresh_demo: Path, tmp_path: Path, relpath: str, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = json.dumps([{"md5": md5_bytes(b"x"), "relpath": relpath}]).encode()
    add_raw_dir_output(fresh_demo, "evil", manifest)
    before = snapshot(fresh_demo)
    assert main(["apply", "evil", "-C", str(fresh_demo)]) == 1
    assert "Refusing" in capsys.readouterr().err
    assert snapshot(fresh_demo) == before
    assert not (fresh_demo.parent / "outside.txt").exists()


def test_symlink_out_of_the_workspace_is_refused(
    fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.rmtree(fresh_demo / "eval")
    os.symlink(outside, fresh_demo / "eval")  # the eval output now leads out of the workspace
    before = snapshot(fresh_demo)
    assert main(["apply", "wide-net", "-C", str(fresh_demo)]) == 1
    assert "leads outside" in capsys.readouterr().err
    assert snapshot(fresh_demo) == before and not any(outside.iterdir())


def test_apply_stops_cleanly_while_dvc_holds_the_lock(
    fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with dvc_holding_the_lock(fresh_demo):
        before = snapshot(fresh_demo)
        assert main(["apply", "tuned-lr", "-C", str(fresh_demo)]) == 1
        err = capsys.readouterr().err
        assert "locked by pid 4242" in err and snapshot(fresh_demo) == before
    assert main(["apply", "tuned-lr", "-C", str(fresh_demo)]) == 0  # free again: it works


@pytest.mark.dvc
@pytest.mark.parametrize("link", ["hardlink", "symlink", "reflink,copy"])
def test_apply_links_outputs_as_cache_type_asks(
    dvc: Dvc, twins: tuple[Path, Path], link: str, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs, ours = twins
    for project in twins:
        (project / ".dvc" / "config.local").write_text(f"[cache]\n    type = {link}\n")
    dvc("exp", "apply", "wide-net", cwd=theirs)
    assert main(["apply", "wide-net", "-C", str(ours)]) == 0
    for rel in ("model.pkl", "eval/predictions.csv"):
        mine, dvcs = (ours / rel), (theirs / rel)
        assert mine.is_symlink() == dvcs.is_symlink(), rel
        assert oct(mine.stat().st_mode) == oct(dvcs.stat().st_mode), rel
        assert (mine.stat().st_nlink > 1) == (dvcs.stat().st_nlink > 1), rel
        assert mine.read_bytes() == dvcs.read_bytes()
    assert "up to date" in dvc("status", cwd=ours)
