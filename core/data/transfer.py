"""Moving experiments' cached outputs between the local cache and DVC remotes.

Which objects (DVC_FORMAT §5.6): for each selected experiment commit, the outputs of its
``dvc.lock`` and ``*.dvc`` files that are cached, pushable (on push) and not imports, each
routed to its ``remote:``, else ``-r``, else the default remote of the *commit's* config
merged with the workspace's ``config.local`` (§6.3); directory outputs expand to their
``.dir`` manifest's entries.

How (DESIGN invariants): one asyncio loop per operation, bounded concurrency, files before
the ``.dir`` that lists them and a ``.dir`` only once every entry exists, downloads md5-
checked before they enter the cache, temporary names renamed into place. A present ``.dir``
on a remote means its entries are present, as DVC assumes (we never break that rule).
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from core.data.imports import SourceRemotes
from core.data.lanes import AdaptiveLanes
from core.data.objects import is_dir_oid, manifest_md5s, md5_bytes
from core.data.remoteindex import RemoteIndex, index_path
from core.data.stores import (
    LocalStore,
    ObjectKey,
    ObjectStore,
    StoreError,
    Stores,
    bound,
    gather_bounded,
    on_stores,
    place_atomically,
    too_large,
)
from core.errors import (
    ConfigError,
    CorruptObjectError,
    ExptuiError,
    InvalidObjectError,
    ObjectTooLargeError,
    TransferCancelled,
    UnresolvedPipelineError,
)
from core.git.refs import ExpRef
from core.operation import Operation
from core.progress import ProgressBoard
from core.project.config import DvcRemote
from core.project.dvcfiles import Output
from core.project.repo import Repository

T = TypeVar("T")
RETRIES = 3
BATCH_BYTES = 8 << 20  # per thread hand-off on local stores
Job = tuple[str, ObjectKey]  # (DVC remote name, object): one copy each per operation
# A manifest's bound: a JSON entry per file ({"md5": ..., "relpath": ...}) with room for
# a long escaped path; a lock that does not count its files gets the flat one.
MANIFEST_BASE = 1 << 20
MANIFEST_ENTRY_BYTES = 8 << 10
MANIFEST_LIMIT = 256 << 20
# What a pull's plan keeps, per DVC remote, of the manifests it fetched, for its run to
# write instead of fetching them again; past it, the run fetches the rest anew.
HELD_MANIFEST_BYTES = 64 << 20
PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT}


class Recorded(NamedTuple):
    """What a lock records of a directory output. A pull knows no file's own size before
    moving it: the mean (size / nfiles) shapes batches and estimates, the total bounds
    each file's download (no file is larger than its directory), and the count bounds
    the manifest's."""

    size: int
    nfiles: int | None

    @property
    def mean(self) -> int | None:
        return self.size // self.nfiles if self.nfiles else None

    @property
    def manifest_limit(self) -> int:
        if not self.nfiles:
            return MANIFEST_LIMIT
        return MANIFEST_BASE + self.nfiles * MANIFEST_ENTRY_BYTES


@dataclass
class ExpData:
    """One experiment's objects on one DVC remote, and what moves."""

    ref: ExpRef
    remote: DvcRemote
    files: set[ObjectKey] = field(default_factory=set)
    dirs: dict[ObjectKey, list[ObjectKey] | None] = field(default_factory=dict)
    sizes: dict[ObjectKey, int] = field(default_factory=dict)
    # Per .dir, what the lock records of the whole directory (see Recorded).
    recorded: dict[ObjectKey, Recorded] = field(default_factory=dict)
    to_move: set[ObjectKey] = field(default_factory=set)
    missing: set[ObjectKey] = field(default_factory=set)
    optional: set[ObjectKey] = field(default_factory=set)  # push: false outputs, on pull
    notes: list[str] = field(default_factory=list)
    # A pull knows no directory entry's size before it moves: its directory's mean from
    # the lock stands in, for what the plan promises only (never a download's limit).
    estimated: dict[ObjectKey, int] = field(default_factory=dict)
    # A pull's .dir manifests fetched and verified while planning (see HELD_MANIFEST_BYTES).
    manifests: dict[ObjectKey, bytes] = field(default_factory=dict)

    @property
    def required_missing(self) -> set[ObjectKey]:
        """Missing objects that matter: DVC only warns about ``push: false`` ones on pull."""
        return self.missing - self.optional

    @property
    def objects(self) -> set[ObjectKey]:
        return self.files | set(self.dirs)

    @property
    def bytes_to_move(self) -> int:
        return sum(self.size_of(k) for k in self.to_move)

    def size_of(self, key: ObjectKey) -> int:
        return self.sizes.get(key) or self.estimated.get(key, 0)

    @property
    def estimates(self) -> bool:
        """Whether :attr:`bytes_to_move` counts estimated sizes."""
        return any(not self.sizes.get(k) and k in self.estimated for k in self.to_move)


@dataclass(frozen=True)
class DataPlan:
    """Per experiment and remote: the objects, those to move, those missing everywhere.
    Made only by :func:`plan_data`; its items are not changed after."""

    operation: Operation
    items: tuple[ExpData, ...]

    def only(self, refs: Collection[ExpRef]) -> DataPlan:
        """The same facts for some of the experiments (those whose refs will move)."""
        return DataPlan(self.operation, tuple(i for i in self.items if i.ref in refs))

    @property
    def objects_to_move(self) -> int:
        return len({(i.remote.name, k) for i in self.items for k in i.to_move})

    @property
    def bytes_to_move(self) -> int:
        """Each object once per remote, however many experiments share it: what the run
        moves, so what the confirmation promises (directory entries of a pull at their
        directory's mean size: see :attr:`estimates`)."""
        sizes = {(i.remote.name, k): i.size_of(k) for i in self.items for k in i.to_move}
        return sum(sizes.values())

    @property
    def estimates(self) -> bool:
        return any(item.estimates for item in self.items)

    def to_json(self) -> list[dict[str, object]]:
        return [
            {
                "name": i.ref.name,
                "ref": i.ref.ref,
                "dvc_remote": i.remote.name,
                "url": i.remote.shown_url,
                "objects": len(i.objects),
                "to_move": len(i.to_move),
                "bytes_to_move": i.bytes_to_move,
                "missing": sorted(k.oid for k in i.missing),
                "notes": i.notes,
            }
            for i in self.items
        ]


@dataclass
class ExpTransfer:
    """What happened to one experiment's data."""

    item: ExpData
    moved: int = 0
    moved_bytes: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.item.required_missing


# -- which objects --------------------------------------------------------------------------


def remote_for_commit(repo: Repository, sha: str, name: str | None) -> tuple[DvcRemote, str]:
    """The DVC remote an experiment's data belongs to, as DVC computes it for that commit.
    Falls back to the workspace config (and says so) when the commit lacks the remote."""
    committed = repo.files_at(sha).read(".dvc/config")
    text = committed.decode("utf-8", "replace") if committed is not None else ""
    try:
        return repo.dvc_config(text).remote(name), ""
    except ConfigError as exc:
        try:
            remote = repo.dvc_config().remote(name)
        except ConfigError:
            raise exc from None
        return remote, f"remote taken from the workspace config ({exc.message})"


def collect(
    repo: Repository,
    experiments: Iterable[tuple[ExpRef, str]],
    operation: Operation,
    remote_name: str | None = None,
    with_imports: bool = False,
) -> list[ExpData]:
    """Objects per experiment and remote, with ``.dir`` manifests read from the cache when
    there (on pull, the missing ones are fetched from the remote while planning).
    ``with_imports`` (a pull) adds ``dvc import`` outputs, from their source's remote."""
    items: list[ExpData] = []
    sources = SourceRemotes(repo) if with_imports and not operation.uploads else None
    for ref, sha in experiments:
        per_remote: dict[str, ExpData] = {}
        state = repo.project_state(sha)
        if state.unresolved:
            raise UnresolvedPipelineError(
                f"{ref.name}: its outputs cannot be known: {state.unresolved[0]}",
                "fix the pipeline in that commit (DVC refuses it too), or share the refs "
                "alone with --no-cache",
            )
        notes: list[str] = []
        for out in state.outputs:
            if out.is_import:
                _collect_import(repo, ref, out, sources, per_remote, notes)
                continue
            if not out.is_shared or out.oid is None or (operation.uploads and not out.push):
                continue
            if remote_name and out.remote and out.remote != remote_name.lower():
                continue  # bound to another remote: an explicit -r skips it, as DVC
            remote, note = remote_for_commit(repo, sha, remote_name or out.remote)
            item = per_remote.setdefault(remote.name, ExpData(ref, remote))
            if note and note not in item.notes:
                item.notes.append(note)
            _add_output(repo, item, out)
        for item in per_remote.values():
            _add_entries(item)
        if per_remote:
            next(iter(per_remote.values())).notes.extend(notes)
        items.extend(per_remote.values())
    return items


def _collect_import(
    repo: Repository,
    ref: ExpRef,
    out: Output,
    sources: SourceRemotes | None,
    per_remote: dict[str, ExpData],
    notes: list[str],
) -> None:
    """A ``dvc import`` output, fetched from its source's DVC remote as ``dvc exp pull``
    does (``dvc exp push`` never uploads it); a source out of reach is a note naming it."""
    if sources is None or not out.cache or out.oid is None or repo.cache.exists(out.oid):
        return
    try:
        remote = sources.remote(out)
    except ExptuiError as exc:
        notes.append(f"imported output {out.path} not fetched: {exc.message}")
        return
    _add_output(repo, per_remote.setdefault(remote.name, ExpData(ref, remote)), out)


def _add_output(repo: Repository, item: ExpData, out: Output) -> None:
    key = ObjectKey(out.oid or "", out.legacy)
    if not out.push:
        item.optional.add(key)
    if is_dir_oid(key.oid):
        item.dirs[key] = _manifest(repo.cache.root, key)
        if out.size is not None and item.dirs[key] is None:
            item.sizes[key] = 0
        if out.size is not None:
            item.recorded[key] = Recorded(out.size, out.nfiles)
    else:
        item.files.add(key)
        if out.size is not None:
            item.sizes[key] = out.size


def _manifest(cache_root: Path, key: ObjectKey) -> list[ObjectKey] | None:
    try:
        return _entry_keys(key, (cache_root / key.relpath).read_bytes())
    except FileNotFoundError:
        return None


def _entry_keys(manifest: ObjectKey, data: bytes) -> list[ObjectKey]:
    """The objects a manifest lists, in its layout (3.x or legacy)."""
    md5s = manifest_md5s(data, f"manifest {manifest.oid}")
    return [ObjectKey(md5, manifest.legacy) for md5 in md5s]


def _add_entries(item: ExpData) -> None:
    """A directory's files join the experiment's. Their sizes are not read here: only
    the objects that will move need one, and planning stats those (a push with nothing
    to do stat'ed all 20,000 cache files twice for nothing)."""
    for key, entries in item.dirs.items():
        for entry in entries or []:
            item.files.add(entry)
            if key in item.optional:
                item.optional.add(entry)


# -- planning ---------------------------------------------------------------------------------


def _by_remote(items: list[ExpData]) -> dict[str, list[ExpData]]:
    """Experiments planned together per remote: one round of questions for all of them.
    Planned one by one, ten experiments listed every prefix of an S3 bucket ten times
    (21 s of a 77 s push of 20,000 objects to moto)."""
    groups: dict[str, list[ExpData]] = defaultdict(list)
    for item in items:
        groups[item.remote.name].append(item)
    return groups


def _union(group: list[ExpData]) -> tuple[set[ObjectKey], dict[ObjectKey, list[ObjectKey] | None]]:
    files: set[ObjectKey] = set()
    dirs: dict[ObjectKey, list[ObjectKey] | None] = {}
    for item in group:
        files |= item.files
        dirs.update(item.dirs)
    return files, dirs


async def _plan_push(
    cache: LocalStore,
    items: list[ExpData],
    stores: Stores,
    indexes: dict[str, RemoteIndex],
) -> None:
    for name, group in _by_remote(items).items():
        store, index = await stores.get(name), indexes[name]
        files, dirs = _union(group)
        every = files | set(dirs)
        present = await _on_remote(store, index, dirs, every)
        local = await cache.sizes(every - present)
        for item in group:
            item.to_move = {key for key in item.objects - present if key in local}
            item.missing = item.objects - present - item.to_move
            for key in item.to_move:
                if not item.sizes.get(key):
                    item.sizes[key] = local[key]


async def _on_remote(
    store: ObjectStore,
    index: RemoteIndex,
    dirs: dict[ObjectKey, list[ObjectKey] | None],
    wanted: set[ObjectKey],
    seen: Collection[ObjectKey] = (),
) -> set[ObjectKey]:
    """Which wanted objects the remote has. A .dir there vouches for its entries: no
    question per file (DVC does the same). ``seen``: manifests just fetched from it."""
    asked = {k: v for k, v in dirs.items() if k in wanted}
    remote = await _present_dirs(store, index, asked, set(seen) & set(asked))
    covered = {e for d in remote for e in (dirs[d] or [])} & wanted
    return remote | covered | await _present_files(store, index, wanted - set(dirs) - covered)


async def _present_dirs(
    store: ObjectStore,
    index: RemoteIndex,
    dirs: dict[ObjectKey, list[ObjectKey] | None],
    seen: set[ObjectKey],
) -> set[ObjectKey]:
    """Manifests are always asked of the remote (unless just fetched from it); one the
    index vouched for but the remote lacks means the remote was pruned, so the index is
    dropped (DVC's rule)."""
    present = seen | await store.present(set(dirs) - seen)
    if index.known(set(dirs) - present):
        index.drop()
    for key in present - index.known(present):  # indexed ones came with their entries
        if dirs[key] is not None:
            index.add_dir(key, dirs[key] or [])
    return present


async def _present_files(
    store: ObjectStore, index: RemoteIndex, files: set[ObjectKey]
) -> set[ObjectKey]:
    """Files the index knows need no question, once every indexed manifest is confirmed
    (checked at most once per operation, and only when that is fewer questions)."""
    known = index.known(files)
    if known and not index.validated:
        manifests = index.dirs()
        if len(manifests) >= len(known):
            known = set()  # cheaper to ask about the files themselves
        else:
            index.validated = True
            if await store.present(manifests) != manifests:
                index.drop()
                known = set()
    return known | await store.present(files - known)


async def _plan_pull(
    cache: LocalStore,
    items: list[ExpData],
    stores: Stores,
    indexes: dict[str, RemoteIndex],
) -> None:
    for name, group in _by_remote(items).items():
        index = indexes[name]
        unknown = {k for item in group for k, entries in item.dirs.items() if entries is None}
        fetched = await _fetch_manifests(await stores.get(name), unknown, group) if unknown else {}
        for item in group:
            _expand(item, fetched)
        files, dirs = _union(group)
        local = await cache.present(files | set(dirs))
        wanted = (files | set(dirs)) - local
        remote = set()
        if wanted:
            remote = await _on_remote(await stores.get(name), index, dirs, wanted, fetched)
        for item in group:
            item.to_move = (item.objects - local) & remote
            item.missing = item.objects - local - remote
            _estimate_entries(item)


class Fetched(NamedTuple):
    """A manifest fetched while planning: its entries, size, and bytes if kept."""

    entries: list[ObjectKey]
    size: int
    data: bytes | None


def _expand(item: ExpData, fetched: dict[ObjectKey, Fetched]) -> None:
    """``item``'s directories' entries join its files, those of fetched manifests too."""
    for key, entries in list(item.dirs.items()):
        found = fetched.get(key) if entries is None else None
        if found is not None:
            item.dirs[key] = found.entries
            item.sizes[key] = found.size  # placed by the run: counted
            if found.data is not None:
                item.manifests[key] = found.data
    for key, entries in item.dirs.items():
        item.files.update(entries or [])
        if key in item.optional:
            item.optional.update(entries or [])


def _estimate_entries(item: ExpData) -> None:
    for key, entries in item.dirs.items():
        recorded = item.recorded.get(key)
        mean = recorded.mean if recorded else None
        if mean is not None:
            for entry in entries or []:
                if entry in item.to_move and not item.sizes.get(entry):
                    item.estimated[entry] = mean


async def _fetch_manifests(
    store: ObjectStore, keys: set[ObjectKey], group: list[ExpData]
) -> dict[ObjectKey, Fetched]:
    """The manifests among ``keys`` the remote has, verified, fetched side by side: one
    after another, with a question before each fetch, they cost a pull of 40 experiments
    1.7 s at 20 ms a round trip. The first HELD_MANIFEST_BYTES of them keep their bytes
    for the run."""
    recorded = {k: r for item in group for k, r in item.recorded.items()}
    found: dict[ObjectKey, tuple[list[ObjectKey], bytes]] = {}

    async def fetch(key: ObjectKey) -> None:
        limit = recorded[key].manifest_limit if key in recorded else MANIFEST_LIMIT
        data = await _fetch_manifest(store, key, limit)
        if data is not None:
            found[key] = (_entry_keys_checked(key, data, store), data)

    await gather_bounded([fetch(key) for key in sorted(keys)], store.default_jobs)
    fetched, held = {}, 0
    for key in sorted(found):
        entries, data = found[key]
        kept = held + len(data) <= HELD_MANIFEST_BYTES
        held += len(data) if kept else 0
        fetched[key] = Fetched(entries, len(data), data if kept else None)
    return fetched


async def _fetch_manifest(store: ObjectStore, key: ObjectKey, limit: int) -> bytes | None:
    """A remote's manifest, at most ``limit`` bytes of it and md5-checked; None when it is
    not there. In memory: nothing is written while planning (a dry run writes nothing)."""
    try:
        data = await store.read_small(key, limit)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except ObjectTooLargeError as exc:
        raise too_large(key, limit, store.description) from exc
    _check_digest(md5_bytes(data), key, store)
    return data


def _entry_keys_checked(key: ObjectKey, data: bytes, store: ObjectStore) -> list[ObjectKey]:
    try:
        return _entry_keys(key, data)
    except InvalidObjectError as exc:
        raise CorruptObjectError(
            f"Manifest {key.oid} on '{store.description}' is not a valid .dir: {exc.message}"
        ) from exc


def _check_digest(digest: str, key: ObjectKey, store: ObjectStore) -> None:
    if digest != key.oid.removesuffix(".dir"):
        raise CorruptObjectError(
            f"Object {key.oid} from DVC remote '{store.description}' is corrupt "
            f"(its bytes hash to {digest}).",
            "It was discarded and not cached; the remote copy needs repairing (re-push it "
            "from a machine that has it).",
        )


# -- running -----------------------------------------------------------------------------------


def _indexes(repo: Repository, items: Iterable[ExpData]) -> dict[str, RemoteIndex]:
    return {item.remote.name: RemoteIndex(index_path(repo.dvc_dir, item.remote)) for item in items}


def _saving(
    indexes: dict[str, RemoteIndex], action: Callable[[Stores], Awaitable[T]]
) -> Callable[[Stores], Awaitable[T]]:
    """``action``, then the remote indexes saved whatever happened (what was confirmed
    on a remote stays known, also when the run stops half-way)."""

    async def saving(stores: Stores) -> T:
        try:
            return await action(stores)
        finally:
            for index in indexes.values():
                index.save()

    return saving


def plan_data(repo: Repository, items: list[ExpData], operation: Operation) -> DataPlan:
    """Which of ``items``' objects move and which are missing everywhere: the existence
    checks on the DVC remotes (and, on pull, the manifests the cache lacks), on one loop.
    The answer is a value: showing it and running it later move exactly these objects."""
    cache = LocalStore(repo.cache.root)
    indexes = _indexes(repo, items)
    planner = _plan_push if operation.uploads else _plan_pull

    async def plan(stores: Stores) -> None:
        await planner(cache, items, stores, indexes)

    on_stores([i.remote for i in items], _saving(indexes, plan))
    return DataPlan(operation, tuple(items))


def run_data(
    repo: Repository,
    plan: DataPlan,
    *,
    board: ProgressBoard | None = None,
    jobs: int | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    verify: bool = False,
) -> list[ExpTransfer]:
    """Move what ``plan`` says, on one event loop; ``verify`` re-reads each upload.
    Nothing to move opens no store: no second connection (an S3 client alone: 0.1 s)."""
    engine = _Engine(repo, plan, board or ProgressBoard(), jobs, cancelled, verify)
    remotes = [i.remote for i in plan.items]
    return on_stores(remotes, _saving(engine.indexes, engine.run), jobs)


class _Engine:
    """One run of a data plan: bounded concurrent copies, files before their ``.dir``."""

    def __init__(
        self,
        repo: Repository,
        plan: DataPlan,
        board: ProgressBoard,
        jobs: int | None,
        cancelled: Callable[[], bool],
        verify: bool,
    ) -> None:
        self.plan = plan
        self.board = board
        self.jobs = jobs
        self.cancelled = cancelled
        self.verify = verify  # push: re-read each uploaded object
        self.cache = LocalStore(repo.cache.root)
        self.indexes = _indexes(repo, plan.items)
        self.lanes: dict[str, AdaptiveLanes] = {}  # per local remote, kept across stages

    async def run(self, lazy: Stores) -> list[ExpTransfer]:
        results = [ExpTransfer(item) for item in self.plan.items]
        # Each object moves once per remote, credited to the first experiment needing it.
        owners: dict[Job, ExpTransfer] = {}
        for result in results:
            for key in sorted(result.item.to_move):
                owners.setdefault((result.item.remote.name, key), result)
        self.failed: dict[Job, str] = {}
        self.blocked = {(r.item.remote.name, k) for r in results for k in r.item.missing}
        self.dirs = {(r.item.remote.name, k): v for r in results for k, v in r.item.dirs.items()}
        self.held = {
            (r.item.remote.name, k): d for r in results for k, d in r.item.manifests.items()
        }
        stores = {name: await lazy.get(name) for name in sorted({job[0] for job in owners})}
        sizes = {job: owner.item.sizes.get(job[1]) for job, owner in owners.items()}
        weights = _weights(results, sizes)
        self.limits = _limits(results, sizes)
        self.board.start_phase("objects", len(owners), sum(v or 0 for v in sizes.values()))
        for result in results:
            mine = [j for j, o in owners.items() if o is result]
            self.board.plan_item(result.item.ref.ref, len(mine), sum(sizes[j] or 0 for j in mine))
        gate = asyncio.Semaphore(self._jobs(stores))
        for stage in ("files", "dirs"):  # every file of a directory before its .dir
            jobs = [j for j in owners if is_dir_oid(j[1].oid) == (stage == "dirs")]
            await asyncio.gather(*self._batches(gate, stores, jobs, owners, sizes, weights))
        for result in results:
            for key in result.item.to_move:
                why = self.failed.get((result.item.remote.name, key))
                if why is not None:
                    result.failed[key.oid] = why
            self.board.finish_item(result.item.ref.ref, "; ".join(failure_summary(result.failed)))
        return results

    def _batches(
        self,
        gate: asyncio.Semaphore,
        stores: dict[str, ObjectStore],
        jobs: list[Job],
        owners: dict[Job, ExpTransfer],
        sizes: dict[Job, int | None],
        weights: dict[Job, int],
    ) -> list[Any]:
        tasks = []
        for name, store in stores.items():
            mine = [j for j in jobs if j[0] == name]
            lane: asyncio.Semaphore | AdaptiveLanes = gate
            if self._syscall_bound(store):
                lane = self.lanes.setdefault(name, AdaptiveLanes(self._jobs(stores)))
            for chunk in _chunks(mine, store.batch, weights):
                tasks.append(
                    self._move(lane if len(chunk) > 1 else gate, store, chunk, owners, sizes)
                )
        return tasks

    def _jobs(self, stores: dict[str, ObjectStore]) -> int:
        return self.jobs or min((s.default_jobs for s in stores.values()), default=8)

    def _syscall_bound(self, store: ObjectStore) -> bool:
        """Batches of small files between local disks start on one thread and add more
        only while that makes them faster (core.data.lanes): their syscalls are quick,
        and more threads usually only add GIL handoffs (see core.data.mounts), but not on
        every disk. A batch with one large file runs in parallel (it hashes), and so does
        everything on a network file system, or when the user asked for ``-j``."""
        if not isinstance(store, LocalStore) or self.jobs is not None:
            return False
        return not (store.networked or self.cache.networked)

    async def _move(
        self,
        gate: asyncio.Semaphore | AdaptiveLanes,
        store: ObjectStore,
        chunk: list[Job],
        owners: dict[Job, ExpTransfer],
        sizes: dict[Job, int | None],
    ) -> None:
        async with gate:
            if self.cancelled():
                raise TransferCancelled("Transfer cancelled.", "Run it again to resume.")
            ready = [j for j in chunk if not is_dir_oid(j[1].oid) or self._entries_ready(j)]
            for job in set(chunk) - set(ready):
                self.failed[job] = "not written: some of its files failed or are missing"
            if store.batch > 1:  # local: the whole chunk in one thread hand-off
                done = await asyncio.to_thread(self._copy_chunk, store, ready, sizes)
            else:
                done = [await self._copy_one(store, job, sizes[job]) for job in ready]
            advanced: dict[str, list[int]] = {}  # per experiment: files, bytes
            for job, outcome in zip(ready, done, strict=True):
                if isinstance(outcome, str):
                    self.failed[job] = outcome
                    continue
                if is_dir_oid(job[1].oid):  # its entries made it first
                    self.indexes[job[0]].add_dir(job[1], self.dirs.get(job) or [])
                owners[job].moved += 1
                owners[job].moved_bytes += outcome
                counts = advanced.setdefault(owners[job].item.ref.ref, [0, 0])
                counts[0] += 1
                counts[1] += outcome
            for ref, (files, nbytes) in advanced.items():  # one board update per batch
                self.board.advance(ref, files=files, nbytes=nbytes)
            if isinstance(gate, AdaptiveLanes):
                gate.record(
                    sum(counts[0] for counts in advanced.values()),
                    sum(counts[1] for counts in advanced.values()),
                )

    def _entries_ready(self, job: Job) -> bool:
        entries = self.dirs.get(job) or []
        return not any((job[0], e) in self.failed or (job[0], e) in self.blocked for e in entries)

    def _copy_chunk(
        self, store: ObjectStore, chunk: list[Job], sizes: dict[Job, int | None]
    ) -> list[int | str]:
        """Runs in a thread: copy a batch to or from a local store; errors come back as text
        (a permanent one stops the whole operation)."""
        assert isinstance(store, LocalStore)
        outcomes: list[int | str] = []
        for job in chunk:
            if self.cancelled():
                outcomes.append("cancelled")
                continue
            try:
                outcomes.append(self._copy_local(store, job, sizes[job]))
            except (CorruptObjectError, ObjectTooLargeError) as exc:
                outcomes.append(exc.message)
            except OSError as exc:
                if exc.errno in PERMANENT_ERRNOS:
                    raise _permanent(store, self.cache, exc) from exc
                outcomes.append(f"{exc.strerror or exc}")
        return outcomes

    def _copy_local(self, store: LocalStore, job: Job, size: int | None) -> int:
        key = job[1]
        if self.plan.operation.uploads:
            source = self.cache.location(key)
            store.upload_now(source, key)
            sent = size if size is not None else os.stat(source).st_size
            if self.verify:
                _verified(store, key, store.verify_now(key, sent))
            return sent
        if job in self.held:
            return self._place_held(job)
        with self.cache.incoming(key) as temporary:
            digest, size = store.download_now(key, temporary, bound(size, self.limits[job]))
            return self._admit(store, key, temporary, digest, size)

    def _place_held(self, job: Job) -> int:
        """A manifest the plan fetched and verified, written from memory: fetching it
        again cost every pulled directory one more round trip."""
        data = self.held[job]
        self.cache.admit_bytes(job[1], data)
        return len(data)

    def _admit(
        self,
        store: ObjectStore,
        key: ObjectKey,
        temporary: str,
        digest: str,
        size: int | None = None,
    ) -> int:
        """Verified bytes enter the cache by rename; anything else is refused."""
        _check_digest(digest, key, store)
        if size is None:
            size = os.stat(temporary).st_size
        place_atomically(temporary, self.cache.location(key))
        return size

    async def _copy_one(self, store: ObjectStore, job: Job, size: int | None) -> int | str:
        try:
            return await self._retrying(lambda: self._copy(store, job, size))
        except (CorruptObjectError, ObjectTooLargeError) as exc:
            return exc.message
        except OSError as exc:
            if exc.errno in PERMANENT_ERRNOS:
                raise _permanent(store, self.cache, exc) from exc
            return f"{exc.strerror or exc}"

    async def _retrying(self, action: Callable[[], object]) -> int:
        for attempt in range(RETRIES):
            try:
                return await action()  # type: ignore[misc]
            except (ConnectionError, TimeoutError, asyncio.TimeoutError):
                if attempt == RETRIES - 1:
                    raise
                await asyncio.sleep(0.2 * 2**attempt + random.random() / 10)
        raise AssertionError("unreachable")

    async def _copy(self, store: ObjectStore, job: Job, size: int | None) -> int:
        key = job[1]
        if self.plan.operation.uploads:
            source = self.cache.path(key)
            await store.upload(source, key)
            sent = size if size is not None else source.stat().st_size
            if self.verify:
                _verified(store, key, await store.verify(key, sent))
            return sent
        if job in self.held:
            return self._place_held(job)
        with self.cache.incoming(key) as temporary:
            digest = await store.download(key, temporary, size, self.limits[job])
            return self._admit(store, key, temporary, digest)


def _weights(results: list[ExpTransfer], sizes: dict[Job, int | None]) -> dict[Job, int]:
    """Each job's size, or else its directory's mean file size: a pull from a local remote
    batched three unsized 200 MB files into one thread and hashed them one after another."""
    weights = {job: size for job, size in sizes.items() if size is not None}
    if len(weights) == len(sizes):
        return weights  # every size known (a push), or nothing to move
    for result in results:
        item = result.item
        for key, recorded in item.recorded.items():
            mean = recorded.mean
            if mean is None:
                continue
            for entry in item.dirs.get(key) or []:
                weights.setdefault((item.remote.name, entry), mean)
    return weights


def _limits(results: list[ExpTransfer], sizes: dict[Job, int | None]) -> dict[Job, int | None]:
    """What each download may write at most: its size when known, else the recorded size
    of a directory listing it. A hostile remote serving an endless object under a file's
    name filled the disk before the md5 check could refuse it."""
    limits = dict(sizes)
    for result in results:
        item = result.item
        for key, recorded in item.recorded.items():
            for entry in item.dirs.get(key) or []:
                job = (item.remote.name, entry)
                if job in limits and sizes[job] is None:
                    limits[job] = max(limits[job] or 0, recorded.size)
    return limits


def _chunks(jobs: list[Job], most: int, weights: dict[Job, int]) -> Iterator[list[Job]]:
    """Batches of at most ``most`` jobs and about BATCH_BYTES: many small files share a
    thread hand-off, while a large one gets a batch, so a thread, of its own and hashes in
    parallel with the others."""
    chunk: list[Job] = []
    weight = 0
    for job in jobs:
        if weights.get(job, 0) >= BATCH_BYTES:
            yield [job]
            continue
        chunk.append(job)
        weight += weights.get(job, 0)
        if len(chunk) >= most or weight >= BATCH_BYTES:
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk


def _verified(store: ObjectStore, key: ObjectKey, problem: str | None) -> None:
    if problem is not None:
        raise CorruptObjectError(
            f"Object {key.oid} failed verification on DVC remote '{store.description}': {problem}.",
            "The bad copy was removed. Check the local cache (it may be the source of the "
            "damage), then push again.",
        )


def _permanent(store: ObjectStore, cache: LocalStore, exc: OSError) -> StoreError:
    """Denied, read-only, full: retrying cannot help, so the whole operation stops. The
    file the system refused tells whose fault it is: a full cache is not the remote's."""
    refused = str(exc.filename or "")
    if refused and os.path.realpath(refused).startswith(os.path.realpath(cache.base) + os.sep):
        return StoreError(
            f"The local DVC cache failed: {exc.strerror or exc} ({refused}).",
            "Check its permissions and free space (or move it with cache.dir); nothing "
            "partial was left behind.",
        )
    return StoreError(
        f"DVC remote '{store.description}' failed: {exc.strerror or exc}.",
        "Check permissions and free space; nothing partial was left behind.",
    )


def missing_summary(keys: Collection[ObjectKey]) -> str:
    shown = ", ".join(sorted(k.oid for k in keys)[:3])
    return shown + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def failure_summary(failed: dict[str, str]) -> list[str]:
    """One line per cause, not per object: 3,000 uploads failing for the same reason
    printed 3,000 lines. A cause met once names its object."""
    by_cause: dict[str, list[str]] = {}
    for oid, why in failed.items():
        by_cause.setdefault(why, []).append(oid)
    return [
        f"{oids[0]}: {why}" if len(oids) == 1 else f"{len(oids)} objects ({oids[0]}, ...): {why}"
        for why, oids in by_cause.items()
    ]
