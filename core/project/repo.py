"""The local repository: its DVC project, baselines and labels, experiments, and files read
straight from commits (no checkout, no lock: reads never need DVC's repo lock).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar

from dulwich.errors import NotGitRepository
from dulwich.objects import Commit, ShaFile, Tag, Tree
from dulwich.repo import Repo

from core.data.stores import LocalStore
from core.errors import (
    ExptuiError,
    NotADvcProjectError,
    NotARepositoryError,
    UnknownRevisionError,
)
from core.git.ids import oid, refname
from core.git.refs import EXPS_PREFIX, ExpRef, is_experiment_namespace, is_sha
from core.git.refstore import read_namespace
from core.project.config import DvcConfig, GitRemote, load_dvc_config
from core.project.dvcfiles import Output, ProjectState, plot_documents, read_project
from core.project.plots import PlotData, resolve

_REV_SUFFIXES = re.compile(r"^(.+?)((?:[~^]\d*)*)$")

# Commits parsed by any Repository of this process, by (objects directory, sha): the app's
# local and remote panes open their own Repository in parallel threads and read the same
# 2,000 commits. A commit never changes, and the key keeps repositories apart.
_SHARED_COMMITS: dict[tuple[str, str], tuple[CommitInfo, bytes]] = {}
_SHARED_COMMITS_MAX = 50_000
# Up to this many unknown commits, one by one is cheaper than listing directories.
_ONE_BY_ONE = 8


class CommitPlots(NamedTuple):
    """A commit's plots, and the cache objects whose absence left points out (the
    experiment's DVC remote may have them: ``core.data.values.fetch_plot_data``)."""

    plots: list[PlotData]
    uncached: list[tuple[Output, str]]


@dataclass(frozen=True)
class CommitInfo:
    """The parts of a commit a listing shows."""

    sha: str
    parents: tuple[str, ...]
    timestamp: int
    tz_offset: int
    author: str
    message: str


@dataclass(frozen=True)
class Experiment:
    """An experiment ref and the commit it points at."""

    ref: ExpRef
    sha: str

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def baseline(self) -> str:
        return self.ref.baseline


_T = TypeVar("_T")


class TreeCache:
    """Trees, small blobs and path lists by object id, shared by every commit a
    Repository reads. Experiments share almost all of their tree with their baseline and
    with each other, so 2,000 of them cost little more than one (objects never change)."""

    LIMIT = 50_000  # entries per table before it starts afresh: memory stays bounded
    SMALL_BLOB = 256 * 1024

    def __init__(self, repo: Repo) -> None:
        self._repo = repo
        self._trees: dict[bytes, Tree] = {}
        self._blobs: dict[bytes, bytes] = {}
        self._paths: dict[bytes, tuple[str, ...]] = {}

    def tree(self, tree_id: bytes) -> Tree:
        tree = self._trees.get(tree_id)
        if tree is None:
            found = self._repo.object_store[oid(tree_id)]
            assert isinstance(found, Tree)
            tree = self._remember(self._trees, tree_id, found)
        return tree

    def blob(self, blob_id: bytes) -> bytes:
        data = self._blobs.get(blob_id)
        if data is None:
            data = self._repo.object_store[oid(blob_id)].as_raw_string()
            if len(data) <= self.SMALL_BLOB:
                self._remember(self._blobs, blob_id, data)
        return data

    def paths(self, tree_id: bytes) -> tuple[str, ...]:
        """Every regular file under a tree, relative to it."""
        found = self._paths.get(tree_id)
        if found is None:
            names: list[str] = []
            for entry in self.tree(tree_id).iteritems():
                name = entry.path.decode("utf-8", "surrogateescape")
                if stat.S_ISDIR(entry.mode):
                    names.extend(f"{name}/{sub}" for sub in self.paths(entry.sha))
                elif stat.S_ISREG(entry.mode):
                    names.append(name)
            found = self._remember(self._paths, tree_id, tuple(names))
        return found

    def _remember(self, table: dict[bytes, _T], key: bytes, value: _T) -> _T:
        if len(table) >= self.LIMIT:
            table.clear()
        table[key] = value
        return value


class TreeFiles:
    """A :class:`core.project.dvcfiles.FileSource` over one Git tree, relative to the DVC root."""

    def __init__(self, cache: TreeCache, tree_id: bytes | None) -> None:
        self._cache = cache
        self._tree_id = tree_id

    def read(self, path: str) -> bytes | None:
        if not path or self._tree_id is None:
            return None
        tree_id, parts = self._tree_id, path.encode().split(b"/")
        try:
            for part in parts[:-1]:
                mode, tree_id = self._cache.tree(tree_id)[part]
                if not stat.S_ISDIR(mode):
                    return None
            mode, sha = self._cache.tree(tree_id)[parts[-1]]
        except KeyError:
            return None
        return self._cache.blob(sha) if stat.S_ISREG(mode) else None

    def paths(self) -> Iterable[str]:
        if self._tree_id is None:
            return ()
        every = self._cache.paths(self._tree_id)
        return sorted(p for p in every if not p.startswith((".git/", ".dvc/")))


class Repository:
    """A Git repository holding a DVC project, read with dulwich."""

    def __init__(self, git: Repo, dvc_root: Path) -> None:
        self.git = git
        self.root = Path(git.path).resolve()
        self.dvc_root = dvc_root.resolve()
        rel = self.dvc_root.relative_to(self.root).as_posix()
        self.prefix = "" if rel == "." else rel
        self.skipped_refs: list[str] = []
        self._states: dict[str, ProjectState] = {}
        self._configs: dict[str | None, DvcConfig] = {}
        self.trees = TreeCache(git)
        self._commits: dict[str, tuple[CommitInfo, bytes]] = {}
        self._present: set[str] = set()  # commits has_commit found (objects never go away)
        self._objects = os.fsdecode(git.object_store.path)

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".") -> Repository:
        """Open the repository containing ``path`` (any subdirectory works)."""
        start = Path(path).expanduser()
        if not start.exists():
            raise NotARepositoryError(
                f"'{start}' does not exist.", "Give the path of a DVC project checkout."
            )
        try:
            git = Repo.discover(str(start))
        except NotGitRepository:
            raise NotARepositoryError(
                f"'{start.resolve()}' is not inside a Git repository.",
                "Run exptui inside a DVC project (git init && dvc init), or try 'exptui demo'.",
            ) from None
        if git.bare:
            git.close()
            raise NotARepositoryError(
                f"'{start.resolve()}' is a bare Git repository.",
                "Open a working copy of the project, not the Git remote.",
            )
        dvc_root = _find_dvc_root(start.resolve(), Path(git.path).resolve())
        if dvc_root is None:
            git.close()
            raise NotADvcProjectError(
                f"No DVC project in '{Path(git.path).resolve()}' (no .dvc/ directory).",
                "Run 'dvc init' there, or open the directory that holds .dvc/.",
            )
        return cls(git, dvc_root)

    def close(self) -> None:
        self.git.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- revisions and labels ---------------------------------------------------------

    def head_sha(self) -> str | None:
        """HEAD's commit, or None in a repository with no commit yet."""
        return self.ref_sha("HEAD")

    def ref_sha(self, name: str) -> str | None:
        """What one ref points at (symbolic refs followed), or None when it does not
        exist. Cheaper than ``as_dict()``, which reads every experiment and peek ref."""
        try:
            return self.git.refs[refname(name)].decode()
        except KeyError:
            return None

    def head_branch(self) -> str | None:
        target = self.git.refs.read_ref(refname("HEAD")) or b""
        if target.startswith(b"ref: refs/heads/"):
            return target[len(b"ref: refs/heads/") :].decode("utf-8", "surrogateescape")
        return None

    def resolve_rev(self, rev: str) -> str:
        """A commit SHA for a branch, tag or (short) SHA, with git's ``~n``/``^n`` suffixes."""
        from dulwich.objectspec import parse_commit

        match = _REV_SUFFIXES.match(rev)
        base, suffixes = (match.group(1), match.group(2)) if match else (rev, "")
        try:
            sha = parse_commit(self.git, base.encode()).id.decode()
            for op, count in re.findall(r"([~^])(\d*)", suffixes):
                sha = self._walk(sha, op, int(count) if count else 1)
            return sha
        except (KeyError, ValueError, IndexError, NotImplementedError):
            raise UnknownRevisionError(
                f"'{rev}' is not a commit in {self.root}.",
                "Use a branch, tag or commit SHA ('git log --oneline' lists them).",
            ) from None

    def _walk(self, sha: str, op: str, count: int) -> str:
        """``~n``: n first parents back; ``^n``: the n-th parent (``^0`` is the commit)."""
        if op == "^":
            return sha if count == 0 else self.commit(sha).parents[count - 1]
        for _ in range(count):
            sha = self.commit(sha).parents[0]
        return sha

    def first_parents(self, sha: str, count: int) -> list[str]:
        """``sha`` and its first-parent ancestors, ``count`` in all (negative: all of them)."""
        chain: list[str] = []
        current: str | None = sha
        while current and (count < 0 or len(chain) < count):
            chain.append(current)
            parents = self.commit(current).parents
            current = parents[0] if parents else None
        return chain

    @functools.cached_property
    def _labels(
        self,
    ) -> tuple[dict[str, list[str]], dict[str, list[str]], tuple[str, str] | None]:
        """Branches and tags by the commit they point at (annotated tags peeled), and HEAD's
        branch with its commit (None when detached): read once, as the branch and tag
        listing is, since labelling 200 baselines read HEAD 400 times."""
        branches: dict[str, list[str]] = {}
        tags: dict[str, list[str]] = {}
        # Only these two namespaces, read by prefix: thousands of experiment (and peek)
        # refs would otherwise be read and validated here.
        for name, sha in sorted(read_namespace(self.git, "refs/heads/").items()):
            branches.setdefault(sha, []).append(name.removeprefix("refs/heads/"))
        for name, sha in sorted(read_namespace(self.git, "refs/tags/").items()):
            peeled = self._peel(sha)
            if peeled:
                tags.setdefault(peeled, []).append(name.removeprefix("refs/tags/"))
        head_branch, head_sha = self.head_branch(), self.head_sha()
        head = (head_branch, head_sha) if head_branch and head_sha else None
        return branches, tags, head

    def _peel(self, sha: str) -> str | None:
        obj = self._read_object(sha)
        while isinstance(obj, Tag):
            obj = self._read_object(obj.object[1].decode())
        return obj.id.decode() if isinstance(obj, Commit) else None

    def baseline_label(self, sha: str) -> str:
        """DVC's ``describe``: HEAD's branch, else a tag, else a branch, else the short SHA."""
        branches, tags, head = self._labels
        if head is not None and sha == head[1]:
            return head[0]
        if sha in tags:
            return tags[sha][0]
        if sha in branches:
            return branches[sha][0]
        return sha[:7]

    # -- commits and files ------------------------------------------------------------

    def has_commit(self, sha: str) -> bool:
        """Loose objects first, by their file alone: DVC writes experiment commits loose,
        dulwich's ``contains_loose`` reads and parses the whole object, and its pack
        lookup re-lists the pack directory on every miss."""
        if self._known(sha):
            return True
        if not is_sha(sha):
            return False  # not a full commit id: dulwich raised on one that is not hex
        key = oid(sha)
        store = self.git.object_store
        if os.path.exists(self._loose_path(sha)) or (
            # The full check last: it also looks in alternates (clones made with --shared).
            store.contains_packed(key) or key in store
        ):
            self._present.add(sha)  # asked again per ref: 100,000 refs to a packed commit
            return True
        return False

    def present_commits(self, shas: Iterable[str]) -> set[str]:
        """Which of ``shas`` this repository has, for many at once. One by one, each
        miss re-listed the pack directory twice and stat'ed three paths (150 us): a
        remote's 10,000 experiments not pulled yet were 1.5 s of its first listing.
        Here each loose directory involved is listed once and the packs' indexes are
        looked up in memory; what is still unknown and could be elsewhere (alternates)
        gets the object store's full check."""
        wanted = set(shas)
        found = {sha for sha in wanted if self._known(sha)}
        unknown = {sha for sha in wanted - found if is_sha(sha)}
        if len(unknown) <= _ONE_BY_ONE:
            return found | {sha for sha in unknown if self.has_commit(sha)}
        store = self.git.object_store
        here = self._loose_among(unknown)
        packs = store.packs  # the pack directory, listed once
        here |= {sha for sha in unknown - here if any(oid(sha) in pack for pack in packs)}
        if store.alternates:  # borrowed objects (clones made with --shared)
            here |= {sha for sha in unknown - here if oid(sha) in store}
        self._present |= here
        return found | here

    def _known(self, sha: str) -> bool:
        """Found or read before, by this repository or another on the same objects."""
        shared = (self._objects, sha) in _SHARED_COMMITS
        return shared or sha in self._present or sha in self._commits

    def _loose_among(self, shas: set[str]) -> set[str]:
        """The loose objects among ``shas``: one listing per two-hex directory."""
        by_folder: dict[str, list[str]] = {}
        for sha in shas:
            by_folder.setdefault(sha[:2], []).append(sha)
        found: set[str] = set()
        for folder, group in by_folder.items():
            try:
                names = set(os.listdir(os.path.join(self._objects, folder)))
            except OSError:
                continue  # no loose object with this prefix
            found.update(sha for sha in group if sha[2:] in names)
        return found

    def commit(self, sha: str) -> CommitInfo:
        return self._read_commit(sha)[0]

    def _read_commit(self, sha: str) -> tuple[CommitInfo, bytes]:
        """A commit's header and tree, parsed once per Repository (commits never change)."""
        cached = self._commits.get(sha) or _SHARED_COMMITS.get((self._objects, sha))
        if cached is None:
            obj = self._read_object(sha)
            if not isinstance(obj, Commit):
                raise UnknownRevisionError(f"{sha} is not a commit.")
            info = CommitInfo(
                sha=sha,
                parents=tuple(p.decode() for p in obj.parents),
                timestamp=obj.commit_time,
                tz_offset=obj.commit_timezone,
                author=obj.author.decode("utf-8", "replace"),
                message=obj.message.decode("utf-8", "replace"),
            )
            cached = (info, obj.tree)
            if len(_SHARED_COMMITS) >= _SHARED_COMMITS_MAX:
                _SHARED_COMMITS.clear()
            _SHARED_COMMITS[(self._objects, sha)] = cached
        self._commits[sha] = cached
        return cached

    def _read_object(self, sha: str) -> ShaFile:
        """Loose objects straight from their file: dulwich's lookup searches the packs
        first and re-lists the pack directory on each miss, and DVC writes experiment
        commits loose."""
        if is_sha(sha):
            with contextlib.suppress(FileNotFoundError):
                return ShaFile.from_path(self._loose_path(sha))
        return self.git.object_store[oid(sha)]

    def _loose_path(self, sha: str) -> str:
        return os.path.join(self._objects, sha[:2], sha[2:])

    def files_at(self, sha: str) -> TreeFiles:
        """The DVC project's files as of commit ``sha``."""
        tree_id = self._read_commit(sha)[1]
        if self.prefix:
            tree = self.git.object_store[oid(tree_id)]
            assert isinstance(tree, Tree)
            try:
                _, tree_id = tree.lookup_path(
                    self.git.object_store.__getitem__, self.prefix.encode()
                )
            except KeyError:
                return TreeFiles(self.trees, None)  # the project did not exist yet there
        return TreeFiles(self.trees, tree_id)

    def adopt_states(self, states: Mapping[str, ProjectState]) -> None:
        """Take states another Repository of this project already read (a worker's), so
        the app's data badges do not parse every commit a second time."""
        for sha, state in states.items():
            self._states.setdefault(sha, state)

    def forget_states(self, shas: Iterable[str]) -> None:
        """Read these commits' states again next time: their values were fetched."""
        for sha in shas:
            self._states.pop(sha, None)

    def project_state(self, sha: str) -> ProjectState:
        """Params, metrics and outputs of a commit (cached: commits never change)."""
        if sha not in self._states:
            cache = self.cache
            self._states[sha] = read_project(self.files_at(sha), cache.read)
        return self._states[sha]

    def plots(self, sha: str) -> CommitPlots:
        """The points of every plot of a commit, as ``dvc plots show`` has them."""
        state = self.project_state(sha)
        documents, uncached = plot_documents(self.files_at(sha), state, self.cache.read)
        plots = [plot for definition in state.plots for plot in resolve(definition, documents)]
        return CommitPlots(plots, uncached)

    # -- experiments ------------------------------------------------------------------

    def experiments(self) -> list[Experiment]:
        """Every local experiment ref, skipping DVC's private namespaces and bad refs."""
        found: list[Experiment] = []
        self.skipped_refs = []
        for full, sha in read_namespace(self.git, EXPS_PREFIX).items():
            if not is_experiment_namespace(full):
                continue
            try:
                found.append(Experiment(ExpRef.parse(full), sha))
            except ExptuiError:
                self.skipped_refs.append(full)
        return sorted(found, key=lambda e: e.ref.ref)  # the (baseline, name) order

    # -- configuration ----------------------------------------------------------------

    @property
    def dvc_dir(self) -> Path:
        return self.dvc_root / ".dvc"

    def dvc_config(self, repo_config_text: str | None = None) -> DvcConfig:
        """The workspace's DVC config, or a commit's ``.dvc/config`` merged with the
        workspace's other levels. Cached per text: commits mostly share one config, and
        every output of every experiment asks for it."""
        if repo_config_text not in self._configs:
            self._configs[repo_config_text] = load_dvc_config(self.dvc_dir, repo_config_text)
        return self._configs[repo_config_text]

    @functools.cached_property
    def cache(self) -> LocalStore:
        """The local cache: ``cache.dir`` from config, else ``.dvc/cache``."""
        cache_dir = self.dvc_config().sections.get(("cache", ""), {}).get("dir")
        return LocalStore(Path(cache_dir) if cache_dir else self.dvc_dir / "cache")

    def git_remotes(self) -> list[GitRemote]:
        """Remotes from the repository's Git config, in name order."""
        config = self.git.get_config()
        remotes = []
        for section in config.sections():
            if len(section) == 2 and section[0] == b"remote":
                name = section[1].decode("utf-8", "surrogateescape")
                try:
                    url = config.get(section, b"url").decode("utf-8", "surrogateescape")
                except KeyError:
                    continue
                remotes.append(GitRemote(name, url))
        return sorted(remotes, key=lambda r: r.name)


def _find_dvc_root(start: Path, git_root: Path) -> Path | None:
    """The nearest directory from ``start`` up to the Git root that holds ``.dvc/``."""
    current = start if start.is_dir() else start.parent
    for candidate in _upwards(current, git_root):
        if (candidate / ".dvc").is_dir():
            return candidate
    return None


def _upwards(current: Path, stop: Path) -> Iterator[Path]:
    while True:
        yield current
        if current == stop or current.parent == current:
            return
        current = current.parent
