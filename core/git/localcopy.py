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

import zlib
from collections.abc import Collection

from dulwich.errors import ChecksumMismatch, ObjectFormatException
from dulwich.objects import S_ISGITLINK, Commit, ObjectID, ShaFile, Tag, Tree
from dulwich.repo import Repo

from core.errors import RemoteError
from core.git.ids import oid
from core.project.repo import Repository


def copy_commits(source: Repo, target: Repository, wanted: Collection[str]) -> int:
    """Copy ``wanted`` commits from ``source`` with every object they need that
    ``target`` lacks, as one pack. A wanted commit ``source`` does not have is left out
    (the caller sees it still missing); any other gap raises :class:`RemoteError` with
    nothing written. Returns how many objects were copied."""
    roots = {oid(sha) for sha in wanted}
    new: list[ShaFile] = []
    absent: set[ObjectID] = set()
    seen: set[ObjectID] = set()
    frontier = set(roots)
    while frontier:  # breadth first: what this repository has is asked level by level
        seen |= frontier
        here = target.present_commits(sha.decode("ascii") for sha in frontier)  # any object
        found = []
        for sha in frontier:
            if sha.decode("ascii") in here:
                continue
            obj = _read(source, sha)
            if obj is None:
                absent.add(sha)
            else:
                found.append(obj)
        new += found
        frontier = {ref for obj in found for ref in _references(obj)} - seen
    needed = {ref for obj in new for ref in _references(obj)}
    if absent - roots or absent & needed:  # something a copied object points at
        raise _broken(f"object {min(absent - roots or absent & needed).decode()} is missing")
    if new:
        target.git.object_store.add_objects([(obj, None) for obj in new])
    return len(new)


def _read(source: Repo, sha: ObjectID) -> ShaFile | None:
    """One object of the remote (None if it has none), checked to be what its id says."""
    try:
        obj = source.object_store[sha]
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


def _broken(problem: str) -> RemoteError:
    return RemoteError(
        f"The path remote's repository is broken: {problem}.",
        "Run 'git fsck' in that repository; nothing was copied.",
    )


def _references(obj: ShaFile) -> list[ObjectID]:
    """The objects ``obj`` needs: a commit's tree and parents, a tree's entries (not
    submodule commits, which live in another repository), a tag's target."""
    if isinstance(obj, Commit):
        return [obj.tree, *obj.parents]
    if isinstance(obj, Tree):
        return [entry.sha for entry in obj.iteritems() if not S_ISGITLINK(entry.mode)]
    if isinstance(obj, Tag):
        return [obj.object[1]]
    return []
