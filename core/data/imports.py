"""Where ``dvc import`` outputs come from: the DVC remote of their source project.

``dvc exp push`` never uploads an import's data and ``dvc exp pull`` fetches it from the
source, as DVC's ``open_repo`` finds it (DVC_FORMAT: imports):

- a source that is a directory on this machine is opened where it is: its *workspace*
  configuration names the remote (config.local included), and a source without a
  default remote lends its own cache as one;
- any other URL is cloned (here: fetched once into ``.dvc/tmp/exptui/imports/``, through
  the same Git transports and credentials as every remote) and the ``.dvc/config`` of
  the locked revision names the remote.

The objects keep their md5 in both projects, so an import is fetched like any output,
md5-checked, into this project's cache. A source that cannot be reached is one note
naming it, never a silent gap.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dulwich.object_store import tree_lookup_path
from dulwich.objects import Commit
from dulwich.repo import Repo

from core.errors import ExptuiError
from core.git.ids import oid
from core.git.transport import Connection, resolve_remote
from core.project.config import DvcRemote, load_dvc_config
from core.project.dvcfiles import Output
from core.project.repo import Repository
from core.redact import redact

UPSTREAM_CACHE = "auto-generated-upstream"  # DVC's name for a source's cache as remote


class SourceRemotes:
    """The DVC remote of each import source, resolved once per operation; the remote's
    name says where it is from, as two projects may both call theirs 'storage'."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._found: dict[tuple[str, str | None], DvcRemote] = {}

    def remote(self, output: Output) -> DvcRemote:
        key = (output.imported_from or "", output.import_rev)
        if key not in self._found:
            self._found[key] = self._resolve(*key)
        return self._found[key]

    def _resolve(self, url: str, rev: str | None) -> DvcRemote:
        local = Path(url) if Path(url).is_absolute() else self.repo.dvc_root / url
        try:
            if local.is_dir():
                remote = _workspace_remote(local)
            else:
                remote = _committed_remote(self.repo, url, rev)
        except ExptuiError as exc:
            raise ExptuiError(
                f"the import source {redact(url)} cannot be used: {exc.message}",
                exc.hint,
            ) from exc
        return DvcRemote(f"{remote.name}@{redact(url)}", remote.url, remote.options)


def _workspace_remote(path: Path) -> DvcRemote:
    with Repository.open(path) as source:
        config = source.dvc_config()
        if config.default_remote_name:
            return config.remote()
        return DvcRemote(UPSTREAM_CACHE, str(source.cache.root))


def _committed_remote(repo: Repository, url: str, rev: str | None) -> DvcRemote:
    if not rev:
        raise ExptuiError("its .dvc file locks no revision (rev_lock)", "Run 'dvc update'.")
    clone = _fetched(repo, url, rev)
    with Repo(str(clone)) as source:
        commit = source[oid(rev)]
        assert isinstance(commit, Commit)
        try:
            _, config_id = tree_lookup_path(source.__getitem__, commit.tree, b".dvc/config")
            text = source[config_id].as_raw_string().decode("utf-8", "replace")
        except KeyError:
            text = ""
    return load_dvc_config(clone / ".dvc", text).remote()


def _fetched(repo: Repository, url: str, rev: str) -> Path:
    """A bare clone of ``url`` holding ``rev``, kept between runs under .dvc/tmp."""
    key = hashlib.sha256(redact(url).encode()).hexdigest()[:16]
    clone = repo.dvc_dir / "tmp" / "exptui" / "imports" / f"{key}.git"
    if not clone.exists():
        clone.parent.mkdir(parents=True, exist_ok=True)
        Repo.init_bare(str(clone), mkdir=True).close()
    with Repo(str(clone)) as target:
        if oid(rev) in target.object_store:
            return clone
        conn = Connection(repo, resolve_remote(repo, url))
        conn.fetch_all(target)
        if oid(rev) not in target.object_store:
            conn.fetch_commit(target, rev)
        if oid(rev) not in target.object_store:
            raise ExptuiError(
                f"revision {rev[:7]} is not there any more",
                "Run 'dvc update' on the import to lock a revision the source still has.",
            )
    return clone
