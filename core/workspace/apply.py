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
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dulwich.index import Index, IndexEntry, commit_index, commit_tree, index_entry_from_stat
from dulwich.objects import S_ISGITLINK, Blob, Commit, Tree
from dulwich.repo import get_user_identity

from core.data.objects import ManifestEntry, md5_file, parse_manifest
from core.errors import (
    ApplyInterruptedError,
    ExptuiError,
    MissingDataError,
    UnsafeApplyError,
    UnsafePathError,
)
from core.git.ids import oid, refname
from core.git.refs import APPLY_ORIG_HEAD, APPLY_STASH, EXEC_APPLY, ExpRef
from core.git.select import resolve_experiment
from core.project.dvcfiles import Output, dvcignore
from core.project.repo import Repository
from core.redact import redact
from core.workspace.dvclock import check_not_busy, dvc_lock
from core.workspace.paths import tree_path_problem
from core.workspace.writes import SYMLINK_MODE as SYMLINK
from core.workspace.writes import Workspace


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
    unpushed: list[str] = field(default_factory=list)  # push: false outputs missing data
    imports: list[Output] = field(default_factory=list)  # dvc import outputs missing data
    unpullable_objects: int = 0

    @property
    def pull_would_help(self) -> bool:
        """Whether some missing object may come with ``exptui pull``: a ``push: false``
        output's objects are on no remote by design, an import's on its source's."""
        return len(self.missing) > self.unpullable_objects

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
            "unpushed": self.unpushed,
            "imports": [o.path for o in self.imports],
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
    plan.problems += state.unresolved
    reserved = _reserved_paths(repo)
    links = {p: _link_target(repo, b) for p, (m, b) in exp_files.items() if m == SYMLINK}
    for path in exp_files:
        _check_tree_path(path, reserved, plan.problems)
    for path, target in links.items():
        if _resolve_in_tree(path, target, links) is None:
            plan.problems.append(f"{path!r}: a symlink to {target!r}, outside the workspace")
    _plan_outputs(repo, plan, state.outputs, reserved)
    if not plan.problems:
        _check_layout(repo, plan, head_files)
    return plan


def _plan_outputs(
    repo: Repository, plan: ApplyPlan, outputs: list[Output], reserved: tuple[str, ...]
) -> None:
    """The cached outputs apply checks out, with every reason one of them must not be."""
    ignored = dvcignore(repo.files_at(plan.sha))
    never_replaced = (*reserved, _dvc_dir(repo))
    for out in outputs:
        if not out.cache or out.oid is None:
            continue
        entries = _entries(repo, out, plan)
        plan.outputs.append((out, entries))
        base = _output_path(repo, out)
        _check_output(base, never_replaced, plan.writes, plan.problems)
        if ignored(out.path) or (out.is_dir and ignored(out.path + "/")):
            plan.problems.append(f"{base!r}: an output that .dvcignore excludes (DVC refuses it)")
        for entry in entries or []:
            _check_tree_path(f"{base}/{entry.relpath}", (), plan.problems)


def _link_target(repo: Repository, blob: bytes) -> str:
    return repo.git[blob].as_raw_string().decode("utf-8", "surrogateescape")


def _output_path(repo: Repository, out: Output) -> str:
    """An output's path from the Git root (outputs are relative to the DVC root)."""
    return f"{repo.prefix}/{out.path}" if repo.prefix else out.path


def _dvc_dir(repo: Repository) -> str:
    return f"{repo.prefix}/.dvc" if repo.prefix else ".dvc"


def _reserved_paths(repo: Repository) -> tuple[str, ...]:
    """Directories no experiment may write into or replace: DVC's own (the cache would be
    poisoned, its scratch space corrupted) and the cache when it lives in the workspace."""
    dvc = _dvc_dir(repo)
    reserved = [f"{dvc}/cache", f"{dvc}/tmp"]
    with contextlib.suppress(ValueError):
        cache = Path(os.path.realpath(repo.cache.root)).relative_to(os.path.realpath(repo.root))
        reserved.append(cache.as_posix())
    return tuple(r for r in reserved if r not in ("", "."))


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory + "/")


def _check_tree_path(path: str, reserved: tuple[str, ...], problems: list[str]) -> None:
    """Git's rules for a checked-out name, and never into DVC's cache or scratch space."""
    reason = tree_path_problem(path)
    if reason is None and any(_inside(path, r) for r in reserved):
        reason = "a path inside DVC's cache or scratch directory"
    if reason is not None:
        problems.append(f"{path!r}: {reason}")


def _check_output(
    base: str,
    never_replaced: tuple[str, ...],
    exp_files: dict[str, tuple[int, bytes]],
    problems: list[str],
) -> None:
    """An output replaces whatever is at its path: never the repository, ``.dvc`` or the
    cache, and never a path the experiment also tracks in Git."""
    _check_tree_path(base, (), problems)
    if any(_inside(base, r) or _inside(r, base) for r in never_replaced):
        problems.append(f"{base!r}: an output over DVC's own directory or its cache")
    if base in exp_files or any(_inside(p, base) for p in exp_files):
        problems.append(f"{base!r}: both an output and a file Git tracks in the experiment")


def _resolve_in_tree(path: str, target: str, links: dict[str, str], hops: int = 40) -> str | None:
    """Where the symlink ``path -> target`` leads once the experiment's own symlinks are
    followed (as the filesystem will), or None when it leaves the workspace."""
    if target.startswith("/") or hops == 0:
        return None
    parts: list[str] = path.split("/")[:-1]
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
        here = "/".join(parts)
        if here in links:
            resolved = _resolve_in_tree(here, links[here], links, hops - 1)
            if resolved is None:
                return None
            parts = resolved.split("/") if resolved else []
    return "/".join(parts)


def _entries(repo: Repository, out: Output, plan: ApplyPlan) -> list[ManifestEntry] | None:
    """The files of an output that must be in the cache; records what is missing."""
    oid = out.oid or ""
    if not repo.cache.exists(oid, out.legacy):
        _missing(plan, out, [oid])
        return None
    if not out.is_dir:
        return None
    try:
        entries = parse_manifest(repo.cache.read(oid, out.legacy) or b"", f"manifest {oid}")
    except UnsafePathError as exc:
        plan.problems.append(f"{out.path}: {exc.message}")
        return []
    _missing(plan, out, [e.md5 for e in entries if not repo.cache.exists(e.md5, out.legacy)])
    return entries


def _missing(plan: ApplyPlan, out: Output, oids: list[str]) -> None:
    plan.missing += oids
    if oids and out.is_import:
        plan.imports.append(out)
        plan.unpullable_objects += len(oids)
    elif oids and not out.push:
        plan.unpushed.append(out.path)
        plan.unpullable_objects += len(oids)


def _check_layout(repo: Repository, plan: ApplyPlan, head_files: dict[str, Any]) -> None:
    """What the workspace holds must let every write land where it says, through real
    directories only, without destroying anything Git or the cache cannot give back."""
    workspace = Workspace(repo.root)
    deleted = set(plan.deletes)
    kinds: dict[str, str | None] = {}

    def kind(path: str) -> str | None:
        if path not in kinds:
            kinds[path] = workspace.kind(path)
        return kinds[path]

    written = list(_written_paths(repo, plan))
    directories = {_output_path(repo, out) for out, _ in plan.outputs if out.is_dir}
    files = set(plan.writes) | (set(written) - directories)
    for path in written:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            reason = _not_a_directory(repo, files, parent, kind(parent), deleted)
            if reason:
                plan.problems.append(f"{path!r}: {reason}")
                break
    for path in plan.writes:
        if kind(path) == "dir" and _files_below(repo.root, path) - deleted:
            reason = "a directory in the workspace holds files where the experiment has a file"
            plan.problems.append(f"{path!r}: {reason}; move them away")
    tracked = set(head_files) | set(plan.writes)
    for out, _files in plan.outputs:
        lost = next(_unrecoverable(repo, _output_path(repo, out), tracked, out.legacy), None)
        if lost is not None:
            reason = "holds data that is neither in Git nor in the DVC cache"
            plan.problems.append(f"{lost!r} {reason}; `dvc commit` it or move it away")


def _not_a_directory(
    repo: Repository, files: set[str], parent: str, kind: str | None, deleted: set[str]
) -> str | None:
    """Why ``parent`` will not be a real directory when apply writes below it, if so:
    ``files`` are every file and symlink the apply itself creates."""
    if parent in files:
        return f"written through {parent!r}, which the experiment makes a file or a symlink"
    if kind not in ("link", "file", "other") or parent in deleted:
        return None
    if kind != "link":
        return f"{parent!r} in the workspace is a file, not a directory"
    real, root = os.path.realpath(repo.root / parent), os.path.realpath(repo.root)
    if not real.startswith(root + os.sep):
        return f"{parent!r} in the workspace is a symlink that leads outside it ({real})"
    return f"{parent!r} in the workspace is a symlink; exptui writes nothing through one"


def _written_paths(repo: Repository, plan: ApplyPlan) -> Iterator[str]:
    yield from plan.writes
    for out, entries in plan.outputs:
        base = _output_path(repo, out)
        if out.is_dir:
            yield base
            yield from (f"{base}/{e.relpath}" for e in entries or [])
        else:
            yield base


def _files_below(root: Path, directory: str) -> set[str]:
    """Every non-directory below ``directory`` (links listed, never followed), as paths
    from ``root``."""
    found: set[str] = set()
    for top, dirs, files in os.walk(root / directory):
        links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
        found.update(Path(top, name).relative_to(root).as_posix() for name in files + links)
    return found


def _unrecoverable(repo: Repository, base: str, tracked: set[str], legacy: bool) -> Iterator[str]:
    """Files at an output's path that replacing the output would lose: not tracked by Git
    (HEAD or the experiment) and whose content the cache does not hold."""
    target = repo.root / base
    if target.is_symlink() or not target.exists():
        return
    files = (
        [target]
        if target.is_file()
        else [Path(top) / name for top, _dirs, names in os.walk(target) for name in names]
    )
    for path in files:
        rel = path.relative_to(repo.root).as_posix()
        if rel in tracked or path.is_symlink() or not path.is_file():
            continue
        md5 = md5_file(path)
        if not (repo.cache.exists(md5) or repo.cache.exists(md5, legacy=True)):
            yield rel


# -- running -------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    plan: ApplyPlan
    stashed: bool
    kept_in_stash: list[str] = field(default_factory=list)


def check_apply(plan: ApplyPlan, remote_hint: str = "origin") -> None:
    """Raise the reason this plan must not run, if any: asked before the user is."""
    if plan.problems:
        raise UnsafeApplyError(
            f"Refusing to apply '{plan.ref.name}': {plan.problems[0]}"
            + (f" (and {len(plan.problems) - 1} more)" if len(plan.problems) > 1 else ""),
            "Nothing was written.",
        )
    if plan.imports and not plan.pull_would_help:
        first = plan.imports[0]
        raise MissingDataError(
            f"'{plan.ref.name}' has imported outputs whose data is not in the local cache: "
            f"{', '.join(o.path for o in plan.imports)} (imported from "
            f"{redact(first.imported_from or '')}); exptui does not fetch imports.",
            f"Nothing was written. Fetch them with 'dvc pull {first.source}' (DVC fetches "
            "imports from their source project), then apply again.",
        )
    if plan.missing and not plan.pull_would_help:
        raise MissingDataError(
            f"'{plan.ref.name}' has push: false outputs whose data is not in the local cache "
            f"and on no remote by design: {', '.join(plan.unpushed[:3])}"
            + (f" (and {len(plan.unpushed) - 3} more)" if len(plan.unpushed) > 3 else "")
            + ".",
            "Nothing was written. Reproduce them where the experiment ran, or apply there.",
        )
    if plan.missing:
        raise MissingDataError(
            f"{len(plan.missing)} object(s) of '{plan.ref.name}' are not in the local cache "
            f"(first: {sorted(plan.missing)[0]}).",
            f"Nothing was written. Fetch them with: exptui pull {remote_hint} {plan.ref.name}",
        )


def run_apply(repo: Repository, plan: ApplyPlan, remote_hint: str = "origin") -> ApplyResult:
    """Apply, or refuse before writing anything."""
    check_apply(plan, remote_hint)
    with dvc_lock(repo.dvc_dir):
        check_not_busy(repo.dvc_dir, repo.root)  # a stage runs without the lock above
        stash_files = _stash(repo, plan)
        repo.git.refs[refname(APPLY_ORIG_HEAD)] = oid(plan.head)
        workspace = Workspace(repo.root)
        try:
            _write_tree(repo, workspace, plan)
            kept = _restore(repo, workspace, plan, stash_files)
            _reset_index(repo, plan.head)
            _checkout_outputs(repo, workspace, plan)
        except (OSError, UnsafePathError) as exc:
            raise _interrupted(plan, exc, bool(stash_files)) from exc
        repo.git.refs[refname(EXEC_APPLY)] = oid(plan.sha)
    return ApplyResult(plan, bool(stash_files), kept)


def _interrupted(plan: ApplyPlan, exc: BaseException, stashed: bool) -> ApplyInterruptedError:
    reason = exc.message if isinstance(exc, ExptuiError) else str(exc)
    where = "your changes are in refs/exps/apply/stash (git stash apply refs/exps/apply/stash)"
    return ApplyInterruptedError(
        f"Applying '{plan.ref.name}' stopped half-way: {reason}",
        f"Fix the cause and apply again; {where if stashed else 'you had no local changes'}.",
    )


def _identity(repo: Repository) -> bytes:
    return get_user_identity(repo.git.get_config_stack())


def _stash(repo: Repository, plan: ApplyPlan) -> dict[str, tuple[int, bytes]]:
    """Record local changes as ``git stash push -u`` does; returns the stashed files
    (worktree + untracked) by path, or {} when there was nothing to stash."""
    if not has_local_changes(repo):
        return {}
    from dulwich import porcelain  # with tarfile and patch: 60 ms of every start

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
        refname(APPLY_STASH),
        oid(old) if old else None,
        oid(stash),
        committer=_identity(repo),
        timestamp=int(time.time()),
        timezone=0,
        message=message.encode(),
    )
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
        (p.encode("utf-8", "surrogateescape"), oid(sha), mode)
        for p, (mode, sha) in sorted(files.items())
    ]
    return commit_tree(repo.git.object_store, entries)


def _commit(repo: Repository, tree: bytes, parents: list[str], message: str) -> str:
    commit = Commit()
    commit.tree = tree
    commit.parents = [oid(p) for p in parents]
    commit.author = commit.committer = _identity(repo)
    commit.author_time = commit.commit_time = int(time.time())
    commit.author_timezone = commit.commit_timezone = 0
    commit.message = message.encode()
    repo.git.object_store.add_object(commit)
    return commit.id.decode()


def _write_tree(repo: Repository, workspace: Workspace, plan: ApplyPlan) -> None:
    for path in plan.deletes:
        if workspace.kind(path) in (None, "dir"):
            continue  # gone, behind a symlink, or a tracked file the user made a directory
        workspace.remove(path)
    for path, (mode, blob) in plan.writes.items():
        workspace.write(path, repo.git[blob].as_raw_string(), mode)


def _restore(
    repo: Repository,
    workspace: Workspace,
    plan: ApplyPlan,
    stashed: dict[str, tuple[int, bytes]],
) -> list[str]:
    """Stashed files that neither HEAD nor the experiment track come back (untracked and
    newly added files), as DVC does; tracked edits stay in the stash, and so does a file
    the experiment's layout has no room for (returned, so the user is told)."""
    head_paths = set(_tree_files(repo, plan.head))
    kept = []
    for path, (mode, blob) in stashed.items():
        if path not in plan.writes and path not in head_paths:
            try:
                workspace.write(path, repo.git[blob].as_raw_string(), mode)
            except (OSError, UnsafePathError):
                kept.append(path)
    return kept


def _reset_index(repo: Repository, head: str) -> None:
    """Index = HEAD's tree. A file whose content equals HEAD's keeps its real stat; any
    other gets a blank stat, so git re-reads it and can never mistake it for unchanged."""
    index = Index(repo.git.index_path(), read=False)
    for path, (mode, sha) in _tree_files(repo, head).items():
        target = repo.root / path
        entry = IndexEntry(0, 0, 0, 0, mode, 0, 0, 0, oid(sha))
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


def _checkout_outputs(repo: Repository, workspace: Workspace, plan: ApplyPlan) -> None:
    """Replace each output from the cache with the first link type that works here."""
    kinds = link_types(repo)
    for out, entries in plan.outputs:
        base = _output_path(repo, out)
        workspace.remove(base)
        if out.is_dir:
            for entry in entries or []:
                source = repo.cache.path_for(entry.md5, out.legacy)
                workspace.link(f"{base}/{entry.relpath}", source, kinds)
        else:
            workspace.link(base, repo.cache.path_for(out.oid or "", out.legacy), kinds)


def has_local_changes(repo: Repository) -> bool:
    """Whether apply will stash something (staged, unstaged or untracked changes)."""
    from dulwich import porcelain  # with tarfile and patch: 60 ms of every start

    status = porcelain.status(repo.git, untracked_files="all")
    return bool(any(status.staged.values()) or status.unstaged or status.untracked)
