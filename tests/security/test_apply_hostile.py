"""apply on experiments built to attack the user: nothing under .git, nothing outside the
workspace, nothing the user cannot get back, and one line saying why."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ExptuiError
from core.project.repo import Repository
from core.workspace.apply import plan_apply, run_apply
from tests.helpers import git
from tests.security.hostile import (
    FILE,
    LINK,
    cache_object,
    dir_output,
    dvc_holding_the_lock,
    file_output,
    fingerprint,
    hostile_experiment,
    small_project,
)
from tui.cli import main

FSMONITOR = b"[core]\n\tfsmonitor = touch /tmp/exptui-pwned\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """The user's project, with a neighbour directory that must never change."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("mine\n")
    return small_project(tmp_path)


LOCKS = ("project/.dvc/tmp/lock", "project/.dvc/tmp/rwlock.lock")  # taken as DVC takes them


def refused(project: Path, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``exptui apply``, expect a refusal that wrote nothing anywhere; its line."""
    before = fingerprint(project.parent)
    assert main(["apply", name, "-C", str(project)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    after = {path: what for path, what in fingerprint(project.parent).items() if path not in LOCKS}
    assert after == {path: what for path, what in before.items() if path not in LOCKS}
    return err


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".GIT/config",
        "sub/.git/hooks/post-checkout",
        ".git./config",  # NTFS drops trailing dots
        ".git /config",  # ... and trailing spaces
        "git~1/config",  # NTFS short name
        ".g\u200cit/config",  # HFS+ ignores zero-width characters
        "a/../../../outside/x",
        "a/./b",
    ],
)
def test_tree_entries_git_refuses_are_refused(
    victim: Path, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_experiment(victim, "evil", {path: (FILE, FSMONITOR)})
    err = refused(victim, "evil", capsys)
    assert "Git refuses to check out" in err and "Nothing was written" in err


@pytest.mark.parametrize(
    "make",
    [
        lambda p: file_output(p, ".git/config", FSMONITOR),
        lambda p: dir_output(p, ".git", {"config": FSMONITOR}),
        lambda p: dir_output(p, "data", {"sub/.git/config": FSMONITOR}),
        lambda p: dir_output(p, ".dvc", {"config": b""}),
        lambda p: dir_output(p, ".dvc/cache", {"x": b""}),
        lambda p: file_output(p, ".dvc/tmp/lock", b""),
        lambda p: dir_output(p, ".", {"x": b""}),
    ],
    ids=["git-config", "git-dir", "nested-git", "dvc-dir", "cache", "dvc-tmp", "root"],
)
def test_outputs_over_the_repository_or_dvc_are_refused(
    victim: Path, make, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_experiment(victim, "evil", outs=[make(victim)])
    assert "Refusing to apply 'evil'" in refused(victim, "evil", capsys)


def test_tree_files_into_the_cache_are_refused(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tree may carry .dvc/config, never a poisoned cache object."""
    md5 = cache_object(victim, b"the real weights")
    poisoned = f".dvc/cache/files/md5/{md5[:2]}/{md5[2:]}"
    hostile_experiment(victim, "evil", {poisoned: (FILE, b"not the weights")})
    assert "DVC's cache or scratch directory" in refused(victim, "evil", capsys)


def test_symlink_chains_cannot_carry_a_write_outside(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``d/up -> ..`` stays inside, ``d/up2 -> up/..`` does not (up is the root already),
    and an output ``d/up2/x`` would land beside the workspace."""
    files = {"d/up": (LINK, b".."), "d/up2": (LINK, b"up/..")}
    hostile_experiment(victim, "evil", files, outs=[file_output(victim, "d/up2/x", b"pwned")])
    err = refused(victim, "evil", capsys)
    assert "outside the workspace" in err and not (victim.parent / "x").exists()


def test_no_output_is_written_through_a_symlink_of_the_experiment(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"sub/keep": (FILE, b""), "lnk": (LINK, b"sub")}
    hostile_experiment(victim, "evil", files, outs=[file_output(victim, "lnk/model", b"w")])
    assert "which the experiment makes a file or a symlink" in refused(victim, "evil", capsys)


def test_no_output_is_written_through_a_symlink_in_the_workspace(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (victim / "model").symlink_to(victim.parent / "outside")
    hostile_experiment(victim, "evil", outs=[dir_output(victim, "model/v1", {"w": b"1"})])
    assert "symlink that leads outside" in refused(victim, "evil", capsys)


def test_an_output_over_uncommitted_data_is_refused_until_it_is_cached(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``model/`` is ignored by Git, so the stash cannot keep it: only the cache can."""
    (victim / "model").mkdir()
    (victim / "model" / "weights.bin").write_bytes(b"three days of training")
    hostile_experiment(victim, "exp", outs=[dir_output(victim, "model", {"w.bin": b"new"})])
    err = refused(victim, "exp", capsys)
    assert "'model/weights.bin' holds data that is neither in Git nor in the DVC cache" in err
    cache_object(victim, b"three days of training")  # what `dvc commit` would do
    assert main(["apply", "exp", "-C", str(victim)]) == 0
    assert (victim / "model" / "w.bin").read_bytes() == b"new"


def test_a_file_over_a_directory_of_work_is_refused(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (victim / "results").mkdir()
    (victim / "results" / "run-1.csv").write_text("a,b\n")
    hostile_experiment(victim, "exp", {"results": (FILE, b"a file now")})
    assert "a directory in the workspace holds files" in refused(victim, "exp", capsys)


def test_ordinary_symlinks_and_outputs_still_apply(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The checks refuse escapes, not ordinary layouts: links inside, nested outputs."""
    files = {"data/raw/a.csv": (FILE, b"1\n"), "latest": (LINK, b"data/raw/a.csv")}
    outs = [dir_output(victim, "model", {"w.bin": b"w", "sub/cfg.json": b"{}"})]
    hostile_experiment(victim, "fine", files, outs=outs)
    assert main(["apply", "fine", "-C", str(victim)]) == 0
    assert (victim / "latest").read_bytes() == b"1\n"
    assert (victim / "model" / "sub" / "cfg.json").read_bytes() == b"{}"
    assert "fsck" not in git("fsck", "--no-progress", cwd=victim)


# -- property: whatever the tree, nothing outside the workspace or in .git changes --------

NAMES = st.sampled_from(["a", "b", "..", ".", ".git", ".GIT", "x", "model"])
TARGETS = st.sampled_from(["..", "../..", "a", "b/..", "/tmp", "../outside", "x/../.."])
ENTRY = st.tuples(
    st.lists(NAMES, min_size=1, max_size=3).map("/".join),
    st.one_of(st.just((FILE, b"payload")), TARGETS.map(lambda t: (LINK, t.encode()))),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(ENTRY, min_size=1, max_size=5), out=st.none() | ENTRY.map(lambda e: e[0]))
def test_no_tree_or_output_writes_outside_the_workspace(
    entries: list[tuple[str, tuple[int, bytes]]], out: str | None
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "outside").mkdir()
        project = small_project(root)
        outs = [file_output(project, out, b"payload")] if out else []
        try:
            hostile_experiment(project, "evil", dict(entries), outs=outs)
        except (ValueError, KeyError):
            return  # not a tree Git can hold (a name both a file and a directory)
        git_dir = (
            fingerprint(project / ".git" / "hooks"),
            (project / ".git" / "config").read_bytes(),
        )
        around = sorted(p.name for p in root.iterdir()), fingerprint(root / "outside")
        try:
            with Repository.open(project) as repo:
                run_apply(repo, plan_apply(repo, "evil"))
        except ExptuiError:
            pass
        assert (sorted(p.name for p in root.iterdir()), fingerprint(root / "outside")) == around
        assert not Path("/tmp/payload").exists()
        hooks = fingerprint(project / ".git" / "hooks"), (project / ".git" / "config").read_bytes()
        assert hooks == git_dir


def test_apply_waits_for_a_running_dvc_stage(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """While a stage's command runs, DVC holds no repository lock, only .dvc/tmp/rwlock."""
    hostile_experiment(victim, "exp", outs=[dir_output(victim, "model", {"w.bin": b"new"})])
    rwlock = victim / ".dvc" / "tmp" / "rwlock"
    rwlock.parent.mkdir(parents=True, exist_ok=True)
    held = {"pid": 4242, "cmd": "dvc exp run"}
    rwlock.write_text(json.dumps({"write": {str(victim / "model"): held}}))
    err = refused(victim, "exp", capsys)
    assert "is busy: it is used by PID 4242 (dvc exp run)" in err
    rwlock.write_text("{}")  # the stage finished
    assert main(["apply", "exp", "-C", str(victim)]) == 0


def test_local_ref_changes_wait_for_the_repository_lock(
    victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile_experiment(victim, "exp")
    with dvc_holding_the_lock(victim):
        assert main(["remove", "exp", "-C", str(victim)]) == 1
        assert "locked by pid 4242" in capsys.readouterr().err
        assert main(["rename", "exp", "exp-2", "-C", str(victim)]) == 1
    assert "exp" in git("for-each-ref", "refs/exps", cwd=victim)


@pytest.mark.parametrize(
    "entries, reason",
    [
        ({"x" * 300: b"1"}, "a name of 300 bytes"),
        ({"a": b"file", "a/b": b"below a file"}, "written through 'model/a'"),
    ],
    ids=["long-name", "file-and-directory"],
)
def test_a_manifest_the_disk_cannot_hold_is_refused_before_writing(
    victim: Path, entries: dict[str, bytes], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both once failed half-way through an apply."""
    hostile_experiment(victim, "exp", outs=[dir_output(victim, "model", entries)])
    assert reason in refused(victim, "exp", capsys)


@pytest.mark.parametrize("pattern", ["model", "model/", "/model", "mod*"])
def test_an_output_dvc_ignores_is_refused(
    victim: Path, pattern: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {".dvcignore": (FILE, f"{pattern}\n".encode())}
    hostile_experiment(victim, "exp", files, outs=[dir_output(victim, "model", {"w": b"1"})])
    assert "an output that .dvcignore excludes" in refused(victim, "exp", capsys)
