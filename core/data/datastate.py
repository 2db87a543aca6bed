"""Where an experiment's data is: complete, partial or missing, locally and on its DVC
remote. Cheap enough for every row: the local side stats cache files; the remote side
asks only for each output's top-level object (a present ``.dir`` implies its entries, the
rule DVC relies on and exptui never breaks)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from core.data.stores import ObjectKey, Stores, on_stores
from core.data.transfer import ExpData, collect
from core.errors import ExptuiError
from core.git.refs import ExpRef
from core.operation import Operation
from core.project.repo import Repository


class DataState(str, Enum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    MISSING = "missing"
    NONE = "no-data"  # the experiment has no cached outputs
    UNKNOWN = "unknown"  # the remote could not be asked


@dataclass(frozen=True)
class DataStatus:
    local: DataState
    remote: DataState
    remote_name: str = ""
    detail: str = ""


def _state(have: int, total: int) -> DataState:
    if total == 0:
        return DataState.NONE
    if have == total:
        return DataState.COMPLETE
    return DataState.PARTIAL if have else DataState.MISSING


def _local(repo: Repository, items: list[ExpData]) -> tuple[int, int]:
    have = total = 0
    for item in items:
        for key in item.objects:
            total += 1
            have += (repo.cache.root / key.relpath).is_file()
    return have, total


async def _remote(items: list[ExpData], stores: Stores) -> tuple[int, int]:
    tops = [(item, key) for item in items for key in (set(item.dirs) | _top_files(item))]
    if not tops:
        return 0, 0
    have = 0
    for name in {item.remote.name for item, _ in tops}:
        keys = {key for item, key in tops if item.remote.name == name}
        have += len(await (await stores.get(name)).present(keys))
    return have, len(tops)


def _top_files(item: ExpData) -> set[ObjectKey]:
    inside = {e for entries in item.dirs.values() for e in entries or []}
    return item.files - inside


def data_status(
    repo: Repository, experiments: Iterable[tuple[ExpRef, str]], check_remote: bool = True
) -> dict[str, DataStatus]:
    """Local and remote data completeness per experiment commit, keyed by its SHA: a
    diverged experiment is two commits under one ref, and keyed by ref the local row
    showed the remote commit's badge (a user believed an unpushed version backed up)."""
    per_commit: dict[str, list[ExpData]] = {}
    notes: dict[str, str] = {}
    for ref, sha in experiments:
        if sha in per_commit:
            continue
        try:
            per_commit[sha] = collect(repo, [(ref, sha)], Operation.PULL)
        except ExptuiError as exc:  # no remote configured for that commit, say
            per_commit[sha], notes[sha] = [], exc.message
    remotes = {i.remote.name: i.remote for items in per_commit.values() for i in items}
    remote_counts = (
        on_stores(remotes.values(), lambda stores: _all_remote(per_commit, stores))
        if check_remote
        else {}
    )
    result = {}
    for sha, items in per_commit.items():
        local = _state(*_local(repo, items))
        counts = remote_counts.get(sha)
        remote = _state(*counts) if counts else DataState.UNKNOWN
        if local is DataState.NONE:
            remote = DataState.NONE
        names = ", ".join(sorted({i.remote.name for i in items}))
        result[sha] = DataStatus(local, remote, names, notes.get(sha, ""))
    return result


async def _all_remote(
    per_commit: dict[str, list[ExpData]], stores: Stores
) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for sha, items in per_commit.items():
        try:
            counts[sha] = await _remote(items, stores)
        except ExptuiError:
            continue  # unknown for this one; the transfer will say why if asked
    return counts
