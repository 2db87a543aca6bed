"""Copying commits out of a path remote's object store, walking only what is new here.

dulwich's local fetch first reads every ref on both sides (following and re-checking
each) and looks up the object of every remote ref: fetching the three commits a remote
pane lacked from a path remote holding 100,000 experiment refs took 30 s, with nothing
to copy but those commits. Here the walk starts at the wanted commits and stops at each
commit or tree this repository already has, which git guarantees it has whole (its
connectivity rule, which dulwich's negotiation also assumes of what a client "has").

The remote is untrusted: a missing object under a wanted commit, bytes that do not hash
to the id they were asked for, or an object dulwich cannot parse stops the copy before
anything is written (a commit stored without its tree would break this repository for
git itself), and whatever a commit or tree names is only looked up by id, never used as
a path.
"""

from __future__ import annotations

import stat
import zlib
from collections.abc import Collection

from dulwich.errors import ChecksumMismatch, ObjectFormatException
from dulwich.objects import S_ISGITLINK, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.pack import full_unpacked_object
from dulwich.repo import Repo

from core.errors import RemoteError
from core.git.ids import oid
from core.project.repo import Repository
from core.stopping import Stop, checked, never


def copy_commits(
    source: Repo, target: Repository, wanted: Collection[str], stopped: Stop = never
) -> int:
    """Copy ``wanted`` commits from ``source`` with every object they need that
    ``target`` lacks, as one pack. A wanted commit ``source`` does not have is left out
    (the caller sees it still missing); any other gap raises :class:`RemoteError` with
    nothing written. Returns how many objects were copied.

    Memory stays flat: the walk reads commits and trees only (a blob's kind is known
    from its tree entry), and the pack is written from a stream that reads each object
    once more, checked again; a failure there, or ``stopped``, aborts the pack."""
    roots = {oid(sha) for sha in wanted}
    copied, absent, needed = _walk(source, target, roots, stopped)
    if absent - roots or absent & needed:  # something a copied object points at
        raise _broken(f"object {min(absent - roots or absent & needed).decode()} is missing")
    if copied:
        stream = (
            full_unpacked_object(_read_present(source, sha)) for sha in checked(copied, stopped)
        )
        target.git.object_store.add_pack_data(len(copied), stream)
    return len(copied)


def _walk(
    source: Repo, target: Repository, roots: set[ObjectID], stopped: Stop
) -> tuple[list[ObjectID], set[ObjectID], set[ObjectID]]:
    """Breadth first from ``roots``, asking ``target`` a level at a time which objects it
    has: what to copy, what ``source`` lacks, and what copied objects point at."""
    copied: list[ObjectID] = []
    absent: set[ObjectID] = set()
    needed: set[ObjectID] = set()
    blobs: set[ObjectID] = set()
    seen: set[ObjectID] = set()
    frontier = set(roots)
    while frontier:
        seen |= frontier
        here = target.present_commits(sha.decode("ascii") for sha in frontier)  # any object
        following: set[ObjectID] = set()
        for sha in checked(sorted(frontier), stopped):
            if sha.decode("ascii") in here:
                continue
            if sha in blobs:
                copied.append(sha)  # read when the pack is written
                continue
            obj = _read(source, sha)
            if obj is None:
                absent.add(sha)
                continue
            copied.append(sha)
            refs, tree_blobs = _references(obj)
            needed.update(refs)
            blobs.update(tree_blobs)
            following.update(refs)
        frontier = following - seen
    return copied, absent, needed


def _read(source: Repo, sha: ObjectID) -> ShaFile | None:
    """One object of the remote (None if it has none), parsed from its raw bytes so that
    its id is hashed from them (a pack's index could name other bytes), then checked."""
    try:
        type_num, raw = source.object_store.get_raw(sha)
        obj = ShaFile.from_raw_string(type_num, raw)
        valid = obj.id == sha
        _references(obj)  # parses a commit's or tree's fields
    except KeyError:
        return None
    except ChecksumMismatch as exc:
        raise _broken(f"object {sha.decode()} does not hash to its name") from exc
    except (ObjectFormatException, ValueError, zlib.error, OSError) as exc:
        raise _broken(f"object {sha.decode()} cannot be read ({exc})") from exc
    if not valid:
        raise _broken(f"object {sha.decode()} does not hash to its name")
    return obj


def _read_present(source: Repo, sha: ObjectID) -> ShaFile:
    obj = _read(source, sha)
    if obj is None:  # removed from the remote since the walk
        raise _broken(f"object {sha.decode()} is missing")
    return obj


def _broken(problem: str) -> RemoteError:
    return RemoteError(
        f"The path remote's repository is broken: {problem}.",
        "Run 'git fsck' in that repository; nothing was copied.",
    )


def _references(obj: ShaFile) -> tuple[list[ObjectID], list[ObjectID]]:
    """The objects ``obj`` needs, and which of them are blobs (by their tree entry's
    mode): a commit's tree and parents, a tree's entries (not submodule commits, which
    live in another repository), a tag's target."""
    if isinstance(obj, Commit):
        return [obj.tree, *obj.parents], []
    if isinstance(obj, Tree):
        entries = [e for e in obj.iteritems() if not S_ISGITLINK(e.mode)]
        return [e.sha for e in entries], [e.sha for e in entries if not stat.S_ISDIR(e.mode)]
    if isinstance(obj, Tag):
        return [obj.object[1]], []
    return [], []
