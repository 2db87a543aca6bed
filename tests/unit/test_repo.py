"""Opening repositories, labelling baselines as DVC does, and enumerating experiment refs."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from core.errors import NotADvcProjectError, NotARepositoryError, UnknownRevisionError
from core.git.refstore import read_namespace
from core.project.repo import Repository
from tests.helpers import git


def make_project(path: Path, commits: int = 2) -> list[str]:
    """A Git repo with .dvc/ and ``commits`` commits on main; returns their SHAs."""
    path.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=path)
    (path / ".dvc").mkdir()
    (path / ".dvc" / "config").write_text("")
    shas = []
    for i in range(commits):
        (path / "params.yaml").write_text(f"i: {i}\n")
        git("add", "-A", cwd=path)
        git("commit", "-q", "-m", f"c{i}", cwd=path)
        shas.append(git("rev-parse", "HEAD", cwd=path).strip())
    return shas


def add_exp(path: Path, baseline: str, name: str, sha: str | None = None) -> str:
    ref = f"refs/exps/{baseline[:2]}/{baseline[2:]}/{name}"
    git("update-ref", ref, sha or baseline, cwd=path)
    return ref


def test_opening_from_a_subdirectory_finds_the_project(tmp_path: Path) -> None:
    make_project(tmp_path / "p")
    (tmp_path / "p" / "src" / "deep").mkdir(parents=True)
    with Repository.open(tmp_path / "p" / "src" / "deep") as repo:
        assert repo.root == (tmp_path / "p").resolve()
        assert repo.prefix == ""


def test_a_dvc_project_in_a_subdirectory_of_the_git_repo(tmp_path: Path) -> None:
    make_project(tmp_path / "mono", commits=0)
    sub = tmp_path / "mono" / "ml"
    (sub / ".dvc").mkdir(parents=True)
    (sub / "params.yaml").write_text("lr: 1\n")
    git("add", "-A", cwd=tmp_path / "mono")
    git("commit", "-q", "-m", "x", cwd=tmp_path / "mono")
    with Repository.open(sub) as repo:
        assert repo.prefix == "ml"
        assert repo.project_state(repo.head_sha() or "").params == {"params.yaml": {"lr": 1}}


@pytest.mark.parametrize(
    ("setup", "error", "words"),
    [
        ("missing", NotARepositoryError, "does not exist"),
        ("plain", NotARepositoryError, "not inside a Git repository"),
        ("nodvc", NotADvcProjectError, "dvc init"),
        ("bare", NotARepositoryError, "bare Git repository"),
    ],
)
def test_opening_the_wrong_place_says_what_to_do(
    tmp_path: Path, setup: str, error: type[Exception], words: str
) -> None:
    target = tmp_path / "t"
    if setup == "plain":
        target.mkdir()
    elif setup == "nodvc":
        target.mkdir()
        git("init", "-q", cwd=target)
    elif setup == "bare":
        git("init", "-q", "--bare", str(target), cwd=tmp_path)
    with pytest.raises(error) as info:
        Repository.open(target)
    assert words in str(info.value)


def test_baseline_labels_follow_dvc_describe(tmp_path: Path) -> None:
    first, second = make_project(tmp_path / "p")
    path = tmp_path / "p"
    git("tag", "v1", first, cwd=path)
    git("branch", "feature", first, cwd=path)
    with Repository.open(path) as repo:
        assert repo.baseline_label(second) == "main"  # HEAD's branch
        assert repo.baseline_label(first) == "v1"  # a tag beats a branch
    git("tag", "-d", "v1", cwd=path)
    with Repository.open(path) as repo:
        assert repo.baseline_label(first) == "feature"
    git("branch", "-D", "feature", cwd=path)
    with Repository.open(path) as repo:
        assert repo.baseline_label(first) == first[:7]
    git("checkout", "-q", "--detach", second, cwd=path)
    git("tag", "-a", "-m", "annotated", "rel", second, cwd=path)
    with Repository.open(path) as repo:
        assert repo.baseline_label(second) == "rel"  # detached: annotated tag, peeled


def test_experiments_skip_private_namespaces_and_report_malformed_refs(tmp_path: Path) -> None:
    first, second = make_project(tmp_path / "p")
    path = tmp_path / "p"
    add_exp(path, second, "exp-1")
    add_exp(path, first, "exp-1")
    git("update-ref", "refs/exps/exec/EXEC_HEAD", second, cwd=path)
    git("update-ref", "refs/exps/celery/stash", second, cwd=path)
    git("update-ref", "refs/exps/apply/ORIG_HEAD", second, cwd=path)
    git("update-ref", f"refs/exps/{second[:2]}/{second[2:]}/nested/name", second, cwd=path)
    with Repository.open(path) as repo:
        found = {(e.baseline, e.name) for e in repo.experiments()}
        assert found == {(second, "exp-1"), (first, "exp-1")}
        assert repo.skipped_refs == [f"refs/exps/{second[:2]}/{second[2:]}/nested/name"]


def test_revisions_resolve_like_git(tmp_path: Path) -> None:
    first, second = make_project(tmp_path / "p")
    with Repository.open(tmp_path / "p") as repo:
        assert repo.resolve_rev("HEAD") == second
        assert repo.resolve_rev("HEAD~1") == first
        assert repo.resolve_rev("main^") == first
        assert repo.resolve_rev("HEAD^0") == second
        assert repo.resolve_rev(first[:8]) == first
        assert repo.first_parents(second, 5) == [second, first]
        assert repo.first_parents(second, -1) == [second, first]
        with pytest.raises(UnknownRevisionError, match="not a commit"):
            repo.resolve_rev("no-such-branch")
        with pytest.raises(UnknownRevisionError):
            repo.resolve_rev("HEAD~5")


def test_git_remotes_come_from_git_config(tmp_path: Path) -> None:
    make_project(tmp_path / "p")
    git("remote", "add", "origin", "git@example.com:team/repo.git", cwd=tmp_path / "p")
    git("remote", "add", "backup", "/srv/backup.git", cwd=tmp_path / "p")
    with Repository.open(tmp_path / "p") as repo:
        assert [(r.name, r.url) for r in repo.git_remotes()] == [
            ("backup", "/srv/backup.git"),
            ("origin", "git@example.com:team/repo.git"),
        ]


def test_commits_reached_through_alternates_are_found(demo_dir: Path, tmp_path: Path) -> None:
    """A clone made with --shared keeps no objects of its own: they are in alternates."""
    shared = tmp_path / "shared"
    git("clone", "-q", "--shared", str(demo_dir), str(shared), cwd=tmp_path)
    with Repository.open(demo_dir) as source:
        head = source.head_sha()
    assert not list((shared / ".git" / "objects" / "pack").glob("*.pack"))
    with Repository.open(shared) as repo:
        assert head is not None and repo.has_commit(head)
        assert repo.commit(head).sha == head


def test_a_namespace_reads_as_git_sees_it_loose_packed_and_locked(tmp_path: Path) -> None:
    first, second = make_project(tmp_path / "p")
    path = tmp_path / "p"
    packed = add_exp(path, first, "packed")
    both = add_exp(path, first, "both")
    git("pack-refs", "--all", cwd=path)
    git("update-ref", both, second, cwd=path)  # the loose ref now overrides its packed line
    loose = add_exp(path, second, "loose")
    lock = path / ".git" / f"{loose}.lock"
    lock.write_text(first + "\n")  # a ref being written: not a ref yet
    (path / ".git" / "refs" / "exps" / "garbage").write_text("not a sha\n")
    git("symbolic-ref", "refs/exps/pointer", "refs/heads/main", cwd=path)
    listed = git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps/", cwd=path)
    seen_by_git = dict(line.split() for line in listed.splitlines())
    with Repository.open(path) as repo:
        found = read_namespace(repo.git, "refs/exps/")
    assert found == {packed: first, both: second, loose: second}
    assert {ref: seen_by_git[ref] for ref in found} == found  # git agrees on each
    assert "refs/exps/pointer" in seen_by_git  # symbolic refs are left out on purpose


def test_commits_in_packs_are_found_and_read(tmp_path: Path) -> None:
    first, second = make_project(tmp_path / "p")
    path = tmp_path / "p"
    git("gc", "-q", "--prune=now", cwd=path)  # every object now lives in a pack
    assert not any((path / ".git" / "objects" / first[:2]).glob("*"))
    with Repository.open(path) as repo:
        assert repo.has_commit(first) and repo.has_commit(second)
        assert repo.commit(second).parents == (first,)
        assert not repo.has_commit("0" * 40)


def test_packed_refs_are_read_line_by_line_whatever_the_names_contain(tmp_path: Path) -> None:
    """packed-refs is searched for the namespace, not split: only lines that are a whole
    lowercase SHA, a space and a name under the prefix count, wherever they are (a file
    git did not sort included: the reader relies on sorting for speed only)."""
    first, second = make_project(tmp_path / "p")
    path = tmp_path / "p"
    exps = f"refs/exps/{first[:2]}/{first[2:]}"
    (path / ".git" / "packed-refs").write_bytes(
        "# pack-refs with: peeled fully-peeled sorted\n"
        f"{first} {exps}/unsorted-first\n"
        f"{first} refs/heads/packed\n"
        f"{first} refs/heads/odd refs/exps/{first[:2]}/{first[2:]}/inside\n"
        f"{second} refs/tags/v1\n^{first}\n"
        f"{second} {exps}/kept\n"
        f"{second.upper()} {exps}/upper\n"
        f"{second[:39]} {exps}/short\n"
        f"x{second} {exps}/long\n"
        f"{first} {exps}/crlf\r\n"
        f"{second} refs/heads/unsorted-last\n"
        f"{first} {exps}/last-without-newline".encode()
    )
    with Repository.open(path) as repo:
        found = read_namespace(repo.git, "refs/exps/")
        heads = read_namespace(repo.git, "refs/heads/")
    assert found == {
        f"{exps}/unsorted-first": first,
        f"{exps}/kept": second,
        f"{exps}/crlf": first,
        f"{exps}/last-without-newline": first,
    }
    assert heads == {
        "refs/heads/main": second,
        "refs/heads/packed": first,
        f"refs/heads/odd {exps}/inside": first,
        "refs/heads/unsorted-last": second,
    }


def test_a_fifo_among_the_loose_refs_is_skipped_not_waited_on(tmp_path: Path) -> None:
    """A loose ref is opened without waiting: a FIFO in ``refs/exps`` (a path remote
    on a shared disk can hold anything) hung the listing forever on its open."""
    first, _ = make_project(tmp_path / "p")
    path = tmp_path / "p"
    kept = add_exp(path, first, "kept")
    os.mkfifo(path / ".git" / "refs" / "exps" / "fifo")
    found: dict[str, str] = {}

    def read() -> None:
        with Repository.open(path) as repo:
            found.update(read_namespace(repo.git, "refs/exps/"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading the refs waited on a FIFO"
    assert found == {kept: first}


def test_many_commits_are_found_at_once_loose_packed_and_borrowed(tmp_path: Path) -> None:
    """``present_commits`` (a remote's thousands of experiments at once) agrees with git
    on each: loose, packed, in a repository borrowed from by a ``--shared`` clone, or
    absent."""
    packed = make_project(tmp_path / "p", commits=6)
    origin = tmp_path / "p"
    git("gc", "-q", "--prune=now", cwd=origin)  # these six now live in a pack
    git("clone", "-q", "--shared", str(origin), "clone", cwd=tmp_path)
    clone = tmp_path / "clone"
    (clone / ".dvc").mkdir(exist_ok=True)
    loose = []
    for i in range(6):
        (clone / "params.yaml").write_text(f"loose: {i}\n")
        git("commit", "-q", "-am", f"l{i}", cwd=clone)
        loose.append(git("rev-parse", "HEAD", cwd=clone).strip())
    absent = [f"{i:040x}" for i in range(1, 7)] + [packed[0][:-1] + "x", "HEAD"]
    asked = packed + loose + absent
    with Repository.open(clone) as repo:
        one_by_one = {sha for sha in asked if repo.has_commit(sha)}
    with Repository.open(clone) as repo:
        at_once = repo.present_commits(asked)
    assert at_once == one_by_one == set(packed + loose)
    with Repository.open(origin) as repo:  # packed, no alternates to fall back on
        assert repo.present_commits(asked) == set(packed)
    for sha in asked:  # git agrees on each
        known = subprocess.run(["git", "cat-file", "-e", sha], cwd=clone).returncode == 0
        assert known is (sha in at_once) or sha == "HEAD", sha
