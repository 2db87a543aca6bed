"""Experiment refs on a Git remote: listing, sync states, and peeking at their content.

A listing is one ref advertisement. Sync states compare it with the local refs, keyed by
``(baseline, name)``. Peeking fetches the commits and trees of remote experiments into the
local object store **without creating refs under refs/exps/**: they stay reachable under
``refs/exptui/peek/<remote>/...``, a namespace neither DVC nor a plain ``git push`` shares,
so params and metrics of experiments nobody pulled yet can be read like local ones. The
last listing of each remote is cached on disk so the remote pane opens instantly, offline.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref

from core.errors import ExptuiError, Stopped
from core.git.ids import oid, refname
from core.git.refs import ExpRef, is_experiment_namespace, is_sha
from core.git.refstore import read_namespace, write_packed
from core.git.transport import Connection, GitRemoteSpec
from core.project.repo import Repository
from core.stopping import Stop, checked, never

PEEK_NAMESPACE = "refs/exptui/peek"
# Ancestry walks stop at commits this much older than the candidate ancestor, so a
# diverged pair never walks the whole history (clock skew allowance, as git's heuristics).
ANCESTRY_SLOP = 86400


class SyncState(str, Enum):
    """Where an experiment is, comparing the local ref with the remote one."""

    LOCAL_ONLY = "local-only"
    REMOTE_ONLY = "remote-only"
    IN_SYNC = "in-sync"
    AHEAD = "ahead"  # the remote SHA is an ancestor of the local one: push fast-forwards
    BEHIND = "behind"  # the local SHA is an ancestor of the remote one: pull fast-forwards
    DIVERGED = "diverged"


@dataclass
class RemoteListing:
    """The experiment refs of one remote at one moment."""

    remote: GitRemoteSpec
    refs: dict[ExpRef, str]
    fetched_at: float
    skipped: list[str] = field(default_factory=list)

    def age(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.fetched_at)


def list_remote(conn: Connection, stopped: Stop = never) -> RemoteListing:
    """One advertisement; DVC's private namespaces and malformed refs are left out."""
    refs: dict[ExpRef, str] = {}
    skipped: list[str] = []
    for name, sha in checked(conn.ls_refs("refs/exps/").items(), stopped):
        ref = ExpRef.parse_plain(name)  # never one of DVC's private namespaces
        if ref is None:
            if not is_experiment_namespace(name):
                continue
            try:
                ref = ExpRef.parse(name)
            except ExptuiError:
                skipped.append(name)
                continue
        if is_sha(sha):
            refs[ref] = sha
        else:
            skipped.append(name)
    return RemoteListing(conn.spec, refs, time.time(), skipped)


def is_ancestor(repo: Repository, ancestor: str, descendant: str) -> bool:
    """Whether ``ancestor`` is reachable from ``descendant`` (a SHA we lack: no)."""
    if ancestor == descendant:
        return True
    if not (repo.has_commit(ancestor) and repo.has_commit(descendant)):
        return False
    cutoff = repo.commit(ancestor).timestamp - ANCESTRY_SLOP
    seen = {descendant}
    stack = [descendant]
    while stack:
        commit = repo.git.object_store[oid(stack.pop())]
        assert isinstance(commit, Commit)
        for parent in (p.decode() for p in commit.parents):
            if parent == ancestor:
                return True
            if parent in seen or not repo.has_commit(parent):
                continue
            seen.add(parent)
            if repo.commit(parent).timestamp >= cutoff:
                stack.append(parent)
    return False


def sync_state(repo: Repository, local: str | None, remote: str | None) -> SyncState:
    if local is None:
        return SyncState.REMOTE_ONLY
    if remote is None:
        return SyncState.LOCAL_ONLY
    if local == remote:
        return SyncState.IN_SYNC
    if is_ancestor(repo, remote, local):
        return SyncState.AHEAD
    if is_ancestor(repo, local, remote):
        return SyncState.BEHIND
    return SyncState.DIVERGED  # including a remote SHA we have not peeked yet


def compare(
    repo: Repository, listing: RemoteListing, local: Mapping[ExpRef, str] | None = None
) -> dict[ExpRef, SyncState]:
    """The sync state of every experiment seen on either side, ordered by full name (the
    order of (baseline, name): the baseline is 40 hex); ``local``: the local refs when
    the caller has just read them (10,000 loose refs take a third of a second)."""
    if local is None:
        local = {exp.ref: exp.sha for exp in repo.experiments()}
    # Matched and sorted by the full name, a str whose hash Python keeps: an ExpRef's
    # hash is a Python call, and looking each ref up on both sides cost 0.3 s at 100,000.
    here = {ref.ref: (ref, sha) for ref, sha in local.items()}
    rows: list[tuple[str, ExpRef, str | None, str | None]] = []
    for ref, remote_sha in listing.refs.items():
        local_sha = here.pop(ref.ref, (None, None))[1]
        rows.append((ref.ref, ref, local_sha, remote_sha))
    rows += [(name, ref, sha, None) for name, (ref, sha) in here.items()]
    rows.sort()  # by name first, and names are unique: refs are never compared
    return {ref: sync_state(repo, mine, theirs) for _, ref, mine, theirs in rows}


# -- peeking ------------------------------------------------------------------------------


def peek_ref(spec: GitRemoteSpec, ref: ExpRef) -> str:
    return f"{PEEK_NAMESPACE}/{spec.key}/{ref.baseline[:2]}/{ref.baseline[2:]}/{ref.name}"


def peek(
    repo: Repository,
    conn: Connection,
    listing: RemoteListing,
    prune: bool = True,
    stopped: Stop = never,
) -> list[ExpRef]:
    """Fetch the commits of remote experiments we lack and keep them under
    ``refs/exptui/peek/`` (:func:`fetch_peeked`, then :func:`keep_peeked`). Returns the
    refs whose commits are now readable locally."""
    fetch_peeked(repo, conn, listing, stopped)
    return keep_peeked(repo, conn.spec, listing, prune)


def fetch_peeked(
    repo: Repository, conn: Connection, listing: RemoteListing, stopped: Stop = never
) -> None:
    """The commits of the listed experiments that we lack, in one fetch. ``stopped`` is
    looked at until a server's fetch starts, and throughout a path remote's copy (which
    then writes nothing)."""
    shas = set(checked(listing.refs.values(), stopped))
    missing = shas - repo.present_commits(shas)
    if missing:
        conn.fetch_commits(repo, missing, stopped)


def keep_peeked(
    repo: Repository, spec: GitRemoteSpec, listing: RemoteListing, prune: bool = True
) -> list[ExpRef]:
    """Name every listed commit that is here under ``refs/exptui/peek/<remote>/``, so
    ``git gc`` keeps what peeking fetched. With ``prune`` (for a whole listing, not a
    selection), this remote's peek refs the listing no longer has are dropped. Returns
    the refs whose commits are readable (a server may refuse unadvertised SHAs)."""
    present = repo.present_commits(set(listing.refs.values()))
    existing = read_namespace(repo.git, f"{PEEK_NAMESPACE}/{spec.key}/")
    listed: set[str] = set()
    changes: dict[Ref, ObjectID | None] = {}
    readable = []
    for ref, sha in listing.refs.items():
        name = peek_ref(spec, ref)
        listed.add(name)
        if sha not in present:
            continue  # an older peek ref for it stays until its commit comes
        if existing.get(name) != sha:
            changes[refname(name)] = oid(sha)
        readable.append(ref)
    for name in existing if prune else ():
        if name not in listed:
            changes[refname(name)] = None
    write_packed(repo.git, changes)
    return readable


def refresh(
    repo: Repository,
    conn: Connection,
    with_peek: bool = True,
    stopped: Stop = never,
    keep: bool = True,
) -> tuple[RemoteListing, str | None]:
    """List the remote, remember the listing on disk, and peek at what we lack. A failed
    peek does not lose the listing: its reason comes back as the second value.
    ``stopped``: raise :class:`~core.errors.Stopped` between steps and while reading.
    ``keep=False`` leaves the peek refs to the caller (:func:`keep_peeked`), e.g. after
    it has shown the rows: at 100,000 new refs their first write takes a second."""
    listing = list_remote(conn, stopped)
    save_listing(repo, listing)
    if not with_peek:
        return listing, None
    try:
        fetch_peeked(repo, conn, listing, stopped)
        if keep:
            keep_peeked(repo, conn.spec, listing)
    except Stopped:
        raise
    except ExptuiError as exc:
        return listing, f"could not peek: {exc.message}"
    return listing, None


# -- the on-disk listing cache ------------------------------------------------------------


def _cache_path(repo: Repository, spec: GitRemoteSpec) -> Path:
    return Path(repo.git.controldir()) / "exptui" / "remotes" / f"{spec.key}.json"


def save_listing(repo: Repository, listing: RemoteListing) -> None:
    """Write the listing atomically next to the repository's Git data."""
    path = _cache_path(repo, listing.remote)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "url": listing.remote.shown_url,
        "fetched_at": listing.fetched_at,
        "refs": {ref.ref: sha for ref, sha in listing.refs.items()},
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as stream:
        stream.write(json.dumps(payload))  # one shot: json.dump encodes in Python (0.5 s)
    os.replace(tmp, path)


def load_listing(repo: Repository, spec: GitRemoteSpec) -> RemoteListing | None:
    """The last listing of this remote, or None when there is none (or it is unreadable,
    or it was taken from a different URL)."""
    try:
        payload = json.loads(_cache_path(repo, spec).read_text())
        if payload.get("url") != spec.shown_url:
            return None
        refs = {ExpRef.parse(ref): str(sha) for ref, sha in payload["refs"].items()}
        return RemoteListing(spec, refs, float(payload["fetched_at"]))
    except (OSError, ValueError, KeyError, TypeError, ExptuiError):
        return None
