"""``exptui apply``: an experiment into the workspace, exactly as ``dvc exp apply`` leaves it
(DVC_FORMAT §7.6), without ever losing the user's work.

End state, as DVC's: HEAD and its branch unchanged; local changes (untracked files too)
stashed to ``refs/exps/apply/stash`` the way ``git stash -u`` records them, so
``git stash apply refs/exps/apply/stash`` brings them back; ``refs/exps/apply/ORIG_HEAD``
at HEAD; the experiment's files in the working tree (files only in HEAD removed,
untracked files kept unless the experiment has the same path); the index at HEAD; the
outputs checked out from the local cache; ``refs/exps/exec/EXEC_APPLY`` at the commit.

Unlike DVC, everything is checked before anything is written: every object the outputs
need must be in the cache, and every path (from trees, lock files, manifests) must stay
inside the workspace, symlinks included. Writes happen under DVC's repository lock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dulwich import porcelain
from dulwich.index import Index, IndexEntry, commit_index, commit_tree, index_entry_from_stat
from dulwich.objects import S_ISGITLINK, Blob, Commit, Tree
from dulwich.repo import get_user_identity

from core.dvcfiles import Output
from core.dvclock import dvc_lock
from core.errors import ExptuiError
from core.objects import ManifestEntry, parse_manifest
from core.paths import UnsafePathError
from core.refs import APPLY_ORIG_HEAD, APPLY_STASH, EXEC_APPLY, ExpRef
from core.repo import Repository
from core.select import resolve_experiment

SYMLINK = 0o120000


class MissingDataError(ExptuiError):
    """Some objects the experiment's outputs need are not in the local cache."""


class UnsafeApplyError(ExptuiError):
    """A path would leave the workspace; nothing was written."""


@dataclass
class ApplyPlan:
    ref: ExpRef
    sha: str
    head: str
    writes: dict[str, tuple[int, bytes]]  # path -> (mode, blob id), from the experiment
    deletes: list[str]  # tracked in HEAD, absent from the experiment
    outputs: list[tuple[Output, list[ManifestEntry] | None]]
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.ref.name,
            "ref": self.ref.ref,
            "sha": self.sha,
            "head": self.head,
            "files_written": sorted(self.writes),
            "files_removed": self.deletes,
            "outputs": [o.path for o, _ in self.outputs],
            "missing": self.missing,
            "problems": self.problems,
        }


def _tree_files(repo: Repository, sha: str) -> dict[str, tuple[int, bytes]]:
    commit = repo.git[sha.encode()]
    assert isinstance(commit, Commit)
    files: dict[str, tuple[int, bytes]] = {}
    stack: list[tuple[str, bytes]] = [("", commit.tree)]
    while stack:
        prefix, tree_id = stack.pop()
        tree = repo.git[tree_id]
        assert isinstance(tree, Tree)
        for entry in tree.iteritems():
            path = f"{prefix}{entry.path.decode('utf-8', 'surrogateescape')}"
            if stat.S_ISDIR(entry.mode):
                stack.append((path + "/", entry.sha))
            elif not S_ISGITLINK(entry.mode):
                files[path] = (entry.mode, entry.sha)
    return files


def plan_apply(repo: Repository, arg: str) -> ApplyPlan:
    """Everything apply will do, and every reason it must not; touches nothing."""
    ref, sha = resolve_experiment(repo, arg)
    head = repo.head_sha() or ""
    exp_files, head_files = _tree_files(repo, sha), _tree_files(repo, head)
    plan = ApplyPlan(ref, sha, head, exp_files, sorted(set(head_files) - set(exp_files)), [])
    state = repo.project_state(sha)
    plan.problems += [w for w in state.warnings if "unsafe" in w]
    for path, (mode, blob) in exp_files.items():
        _check_inside(repo.root, path, plan.problems)
        if mode == SYMLINK:
            target = repo.git[blob].as_raw_string().decode("utf-8", "replace")
            _check_link(repo.root, path, target, plan.problems)
    for out in state.outputs:
        if not out.cache or out.oid is None:
            continue
        entries = _entries(repo, out, plan)
        plan.outputs.append((out, entries))
        base = f"{repo.prefix}/{out.path}" if repo.prefix else out.path
        _check_inside(repo.root, base, plan.problems)
        for entry in entries or []:
            _check_inside(repo.root, f"{base}/{entry.relpath}", plan.problems)
    return plan


def _entries(repo: Repository, out: Output, plan: ApplyPlan) -> list[ManifestEntry] | None:
    """The files of an output that must be in the cache; records what is missing."""
    oid = out.oid or ""
    if not repo.cache.exists(oid, out.legacy):
        plan.missing.append(oid)
        return None
    if not out.is_dir:
        return None
    try:
        entries = parse_manifest(repo.cache.read(oid, out.legacy) or b"", f"manifest {oid}")
    except UnsafePathError as exc:
        plan.problems.append(f"{out.path}: {exc.message}")
        return []
    plan.missing += [e.md5 for e in entries if not repo.cache.exists(e.md5, out.legacy)]
    return entries


def _check_inside(root: Path, path: str, problems: list[str]) -> None:
    """The nearest existing ancestor must resolve inside the workspace (no symlink out)."""
    target = root / path
    probe = target.parent
    while not probe.exists() and probe != root:
        probe = probe.parent
    real_root = os.path.realpath(root)
    real = os.path.realpath(probe)
    if real != real_root and not real.startswith(real_root + os.sep):
        problems.append(f"{path}: a symlink in the workspace leads outside it ({real})")


def _check_link(root: Path, path: str, target: str, problems: list[str]) -> None:
    resolved = os.path.normpath(os.path.join(root, os.path.dirname(path), target))
    if os.path.isabs(target) or not (resolved + os.sep).startswith(str(root) + os.sep):
        problems.append(f"{path}: a symlink to {target!r}, outside the workspace")


# -- running -------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    plan: ApplyPlan
    stashed: bool


def run_apply(repo: Repository, plan: ApplyPlan, remote_hint: str = "origin") -> ApplyResult:
    """Apply, or refuse before writing anything."""
    if plan.problems:
        raise UnsafeApplyError(
            f"Refusing to apply '{plan.ref.name}': {plan.problems[0]}"
            + (f" (and {len(plan.problems) - 1} more)" if len(plan.problems) > 1 else ""),
            "Nothing was written. The experiment's files point outside the workspace.",
        )
    if plan.missing:
        raise MissingDataError(
            f"{len(plan.missing)} object(s) of '{plan.ref.name}' are not in the local cache "
            f"(first: {sorted(plan.missing)[0]}).",
            f"Nothing was written. Fetch them with: exptui pull {remote_hint} {plan.ref.name}",
        )
    with dvc_lock(repo.dvc_dir):
        stash_files = _stash(repo, plan)
        repo.git.refs[APPLY_ORIG_HEAD.encode()] = plan.head.encode()
        _write_tree(repo, plan)
        _restore(repo, plan, stash_files)
        _reset_index(repo, plan.head)
        _checkout_outputs(repo, plan)
        repo.git.refs[EXEC_APPLY.encode()] = plan.sha.encode()
    return ApplyResult(plan, bool(stash_files))


def _identity(repo: Repository) -> bytes:
    return get_user_identity(repo.git.get_config_stack())


def _stash(repo: Repository, plan: ApplyPlan) -> dict[str, tuple[int, bytes]]:
    """Record local changes as ``git stash push -u`` does; returns the stashed files
    (worktree + untracked) by path, or {} when there was nothing to stash."""
    if not has_local_changes(repo):
        return {}
    status = porcelain.status(repo.git, untracked_files="all")
    untracked = [p.decode() if isinstance(p, bytes) else p for p in status.untracked]
    store = repo.git.object_store
    index = repo.git.open_index()
    index_tree = commit_index(store, index)
    worktree = {}
    for raw in index.paths():
        path = raw.decode("utf-8", "surrogateescape")
        if (found := _store_file(repo, repo.root / path)) is not None:
            worktree[path] = found
    untracked_files = {p: b for p in untracked if (b := _store_file(repo, repo.root / p))}
    branch = repo.head_branch() or "(no branch)"
    head = repo.git[plan.head.encode()]
    assert isinstance(head, Commit)
    subject = head.message.decode("utf-8", "replace").splitlines()[0] if head.message else ""
    where = f"{branch}: {plan.head[:7]} {subject}"
    index_commit = _commit(repo, index_tree, [plan.head], f"index on {where}\n")
    parents = [plan.head, index_commit]
    if untracked_files:
        parents.append(
            _commit(repo, _tree(repo, untracked_files), [], f"untracked files on {where}\n")
        )
    message = f"On {branch}: dvc-exp-apply:{plan.head}:{plan.sha}:{plan.ref.name}"
    stash = _commit(repo, _tree(repo, worktree), parents, message + "\n")
    old = repo.ref_sha(APPLY_STASH)
    repo.git.refs.set_if_equals(
        APPLY_STASH.encode(), old.encode() if old else None, stash.encode(),
        committer=_identity(repo),
        timestamp=int(time.time()), timezone=0, message=message.encode(),
    )  # fmt: skip
    return {**worktree, **untracked_files}


def _read_file(path: Path) -> tuple[int, bytes] | None:
    """A workspace file as (git mode, bytes); None when it is gone or not a file."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return SYMLINK, os.readlink(path).encode("utf-8", "surrogateescape")
    if stat.S_ISREG(info.st_mode):
        return (0o100755 if info.st_mode & stat.S_IXUSR else 0o100644), path.read_bytes()
    return None


def _store_file(repo: Repository, path: Path) -> tuple[int, bytes] | None:
    """Store a workspace file as a blob: (mode, blob id)."""
    found = _read_file(path)
    if found is None:
        return None
    blob = Blob.from_string(found[1])
    repo.git.object_store.add_object(blob)
    return found[0], blob.id


def _tree(repo: Repository, files: dict[str, tuple[int, bytes]]) -> bytes:
    entries = [
        (p.encode("utf-8", "surrogateescape"), sha, mode)
        for p, (mode, sha) in sorted(files.items())
    ]
    return commit_tree(repo.git.object_store, entries)


def _commit(repo: Repository, tree: bytes, parents: list[str], message: str) -> str:
    commit = Commit()
    commit.tree = tree
    commit.parents = [p.encode() for p in parents]
    commit.author = commit.committer = _identity(repo)
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode()
    repo.git.object_store.add_object(commit)
    return commit.id.decode()


def _write_file(target: Path, data: bytes, mode: int) -> None:
    """Replace ``target`` atomically with a file (or symlink) of the given git mode."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    if mode == SYMLINK:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        os.symlink(data.decode("utf-8", "surrogateescape"), target)
        return
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".exptui-", suffix=".tmp")
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    umask = _umask()
    os.chmod(tmp, (0o777 if mode == 0o100755 else 0o666) & ~umask)
    os.replace(tmp, target)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _write_tree(repo: Repository, plan: ApplyPlan) -> None:
    for path in plan.deletes:
        with contextlib.suppress(FileNotFoundError):
            (repo.root / path).unlink()
        _prune_empty_dirs(repo.root, (repo.root / path).parent)
    for path, (mode, blob) in plan.writes.items():
        _write_file(repo.root / path, repo.git[blob].as_raw_string(), mode)


def _prune_empty_dirs(root: Path, directory: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _restore(repo: Repository, plan: ApplyPlan, stashed: dict[str, tuple[int, bytes]]) -> None:
    """Stashed files that neither HEAD nor the experiment track come back (untracked and
    newly added files), as DVC does; tracked edits stay in the stash."""
    head_paths = set(_tree_files(repo, plan.head))
    for path, (mode, blob) in stashed.items():
        if path not in plan.writes and path not in head_paths:
            _write_file(repo.root / path, repo.git[blob].as_raw_string(), mode)


def _reset_index(repo: Repository, head: str) -> None:
    """Index = HEAD's tree. A file whose content equals HEAD's keeps its real stat; any
    other gets a blank stat, so git re-reads it and can never mistake it for unchanged."""
    index = Index(repo.git.index_path(), read=False)
    for path, (mode, sha) in _tree_files(repo, head).items():
        target = repo.root / path
        entry = IndexEntry(0, 0, 0, 0, mode, 0, 0, 0, sha)
        found = _read_file(target)
        if found is not None and Blob.from_string(found[1]).id == sha:
            entry = index_entry_from_stat(os.lstat(target), sha, mode)
        index[path.encode("utf-8", "surrogateescape")] = entry
    index.write()


LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")


def link_types(repo: Repository) -> list[str]:
    """``cache.type`` as DVC reads it: a comma-separated preference, default reflink,copy."""
    raw = repo.dvc_config().sections.get(("cache", ""), {}).get("type", "reflink,copy")
    chosen = [t.strip() for t in raw.split(",") if t.strip() in LINK_TYPES]
    return chosen or ["reflink", "copy"]


def _checkout_outputs(repo: Repository, plan: ApplyPlan) -> None:
    """Replace each output from the cache with the first link type that works here."""
    kinds = link_types(repo)
    for out, entries in plan.outputs:
        target = repo.dvc_root / out.path
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        if out.is_dir:
            for entry in entries or []:
                _link(repo.cache.path_for(entry.md5, out.legacy), target / entry.relpath, kinds)
        else:
            _link(repo.cache.path_for(out.oid or "", out.legacy), target, kinds)


def _link(source: Path, target: Path, kinds: list[str]) -> None:
    """Materialise one cache file at ``target`` through a temporary name, trying the link
    types in order; a copy always works and never shares bytes with the cache."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".exptui-")) / "f"
    try:
        for kind in kinds:
            if _try_link(kind, source, tmp):
                os.replace(tmp, target)
                return
        _try_link("copy", source, tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp.parent)


def _try_link(kind: str, source: Path, tmp: Path) -> bool:
    try:
        if kind == "hardlink":
            os.link(source, tmp)
        elif kind == "symlink":
            os.symlink(source, tmp)
        elif kind == "reflink":
            _reflink(source, tmp)
        else:
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o666 & ~_umask())
        return True
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        return False


def _reflink(source: Path, target: Path) -> None:
    """A copy-on-write clone (Btrfs, XFS, APFS); raises OSError where unsupported."""
    import fcntl

    ficlone = 0x40049409  # Linux FICLONE ioctl
    with open(source, "rb") as src, open(target, "wb") as dst:
        fcntl.ioctl(dst.fileno(), ficlone, src.fileno())
    os.chmod(target, 0o666 & ~_umask())


def has_local_changes(repo: Repository) -> bool:
    """Whether apply will stash something (staged, unstaged or untracked changes)."""
    status = porcelain.status(repo.git, untracked_files="all")
    return bool(any(status.staged.values()) or status.unstaged or status.untracked)
