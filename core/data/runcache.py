"""The run-cache, shared on request (``--run-cache``; DVC_FORMAT §5.7).

Entries are small YAML files at ``runs/<key[:2]>/<key>/<value>`` under the cache's and the
remote's legacy root, named by hashes of their content. DVC copies every entry every time;
exptui copies only the entries the other side lacks (an existing name means identical
content) and checks each downloaded entry against its name before it enters the cache:
``value`` is the sha256 of the entry's sorted JSON without ``size``/``nfiles`` keys.
The remote is the workspace's (or ``-r``), as DVC does, not the experiment commits'.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.bounded import (
    MAX_VALUES_BYTES,
    DocumentTooLargeError,
    parse_within_limits,
)
from core.data.stores import (
    LocalStore,
    ObjectKey,
    ObjectStore,
    Stores,
    on_stores,
    place_atomically,
    temporary_beside,
)
from core.errors import ObjectTooLargeError
from core.operation import Operation
from core.project.config import DvcRemote
from core.project.repo import Repository
from core.project.yaml12 import load_yaml12

RUNS = "runs"
IGNORED_KEYS = ("size", "nfiles")


@dataclass(frozen=True, order=True)
class RunEntry(ObjectKey):
    """A run-cache entry: ``oid`` is its value hash, ``key`` the stage's key hash."""

    key: str = ""

    @property
    def relpath(self) -> str:
        return f"{RUNS}/{self.key[:2]}/{self.key}/{self.oid}"


@dataclass
class RunCacheResult:
    remote: str
    moved: int = 0
    already: int = 0
    rejected: dict[str, str] = field(default_factory=dict)


def entries_under(relpaths: list[str]) -> list[RunEntry]:
    """Entries from paths relative to a legacy root; anything else is ignored."""
    found = []
    for rel in relpaths:
        parts = rel.split("/")
        shaped = len(parts) == 4 and parts[0] == RUNS and parts[1] == parts[2][:2]
        if shaped and _is_hex(parts[2], 64) and _is_hex(parts[3], 64):
            found.append(RunEntry(parts[3], key=parts[2]))
    return found


def value_hash(entry: Any) -> str:
    """DVC's ``dict_sha256`` of an entry with the size keys dropped at any depth."""
    text = json.dumps(_without_sizes(entry), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def share_run_cache(
    repo: Repository, operation: Operation, remote_name: str | None
) -> RunCacheResult:
    """Copy the entries the other side lacks; push uploads, pull downloads and verifies."""
    remote = repo.dvc_config().remote(remote_name)
    return on_stores([remote], lambda stores: _share(repo, stores, remote, operation))


async def _share(
    repo: Repository, stores: Stores, remote: DvcRemote, operation: Operation
) -> RunCacheResult:
    cache = LocalStore(repo.cache.root)
    store = await stores.get(remote.name)
    result = RunCacheResult(remote.name)
    local = entries_under(_local_relpaths(repo.cache.root))
    if operation.uploads:
        present = await store.present(local)
        for entry in sorted(set(local) - present):
            await store.upload(cache.path(entry), entry)
            result.moved += 1
        result.already = len(present)
    else:
        remote_entries = entries_under(await store.find(RUNS))
        have = set(local)
        for entry in sorted(set(remote_entries) - have):
            problem = await _fetch(store, cache, entry)
            if problem:
                result.rejected[entry.relpath] = problem
            else:
                result.moved += 1
        result.already = len(set(remote_entries) & have)
    return result


async def _fetch(store: ObjectStore, cache: LocalStore, entry: RunEntry) -> str:
    """Download to a temporary name; only an entry whose content matches its name enters
    the cache. Returns why not, or an empty string."""
    final = cache.path(entry)
    temporary = temporary_beside(final)
    try:
        try:
            await store.download(entry, temporary, limit=MAX_VALUES_BYTES)
        except ObjectTooLargeError as exc:
            return exc.message
        try:
            data = temporary.read_bytes()  # within MAX_VALUES_BYTES: the download stopped there
            content = parse_within_limits(lambda: load_yaml12(data))
        except DocumentTooLargeError as exc:
            return str(exc)
        except Exception as exc:  # any parse failure means damaged bytes
            return f"not valid YAML ({type(exc).__name__})"
        if not isinstance(content, dict) or value_hash(content) != entry.oid:
            return "its content does not match its name (corrupt); discarded"
        place_atomically(temporary, final)
        return ""
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _local_relpaths(root: Path) -> list[str]:
    runs = root / RUNS
    if not runs.is_dir():
        return []
    return [p.relative_to(root).as_posix() for p in runs.glob("*/*/*") if p.is_file()]


def _without_sizes(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_sizes(v) for k, v in node.items() if k not in IGNORED_KEYS}
    if isinstance(node, list):
        return [_without_sizes(v) for v in node]
    return node


def _is_hex(text: str, length: int) -> bool:
    return len(text) == length and all(c in "0123456789abcdef" for c in text)
