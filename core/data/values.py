"""The small objects that hold an experiment's values, fetched from its DVC remote.

``dvc exp show`` reads metrics and params that DVC caches (example-get-started's
``eval/metrics.json`` inside ``outs: eval``, DVCLive's ``dvclive/``) through the cache,
and fetches them from the DVC remote when they are not there. exptui does the same for
the objects a commit's :class:`ProjectState` found missing (``uncached``): a ``.dir``
manifest first, then the files it lists, so at most two rounds.

Untrusted bytes: each object is read with a size cap (a manifest up to the pipeline-file
limit, a value file up to the values limit, whatever the remote claims), checked against
its md5 before it enters the cache, and a listing fetches at most :data:`MAX_OBJECTS`.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from core.bounded import MAX_PIPELINE_BYTES, MAX_VALUES_BYTES
from core.data.objects import is_dir_oid
from core.data.stores import ObjectKey, ObjectStore, Stores, gather_bounded, on_stores
from core.data.transfer import remote_for_commit
from core.errors import ExptuiError
from core.project.config import DvcRemote
from core.project.dvcfiles import Output, ProjectState
from core.project.plots import MAX_DATA_BYTES
from core.project.repo import Repository

MAX_OBJECTS = 2_000  # per call: the values of 1,000 experiments, each a manifest and a file
ROUNDS = 2  # a manifest, then the files it lists


@dataclass
class ValueFetch:
    """What fetching values did: objects cached, and per DVC remote why it failed."""

    fetched: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    states: dict[str, ProjectState] = field(default_factory=dict)  # re-read, per commit
    what: str = "values"

    @property
    def summary(self) -> str:
        """One line for a note or a toast; empty when nothing failed."""
        return "; ".join(
            f"{self.what} not fetched from '{r}': {why}" for r, why in self.failed.items()
        )


def fetch_values(
    repo: Repository, commits: Iterable[str], cancelled: Callable[[], bool] = lambda: False
) -> ValueFetch:
    """Fetch what hid the values of ``commits`` and return their states re-read."""

    def missing(sha: str) -> list[tuple[Output, str]]:
        return repo.project_state(sha).uncached

    def changed(shas: set[str]) -> None:
        repo.forget_states(shas)
        for sha in shas:
            result.states[sha] = repo.project_state(sha)

    result = ValueFetch()
    _fetch_rounds(repo, commits, missing, changed, result, MAX_VALUES_BYTES, cancelled)
    return result


def fetch_plot_data(
    repo: Repository, commits: Iterable[str], cancelled: Callable[[], bool] = lambda: False
) -> ValueFetch:
    """Fetch the plot files ``commits`` read from the cache and it lacks (a remote-only
    experiment's DVCLive histories), with the plot-data size cap; read the plots again
    (``Repository.plots``) once it returns."""
    result = ValueFetch(what="plot data")

    def missing(sha: str) -> list[tuple[Output, str]]:
        return repo.plots(sha).uncached

    _fetch_rounds(repo, commits, missing, lambda _: None, result, MAX_DATA_BYTES, cancelled)
    return result


def _fetch_rounds(
    repo: Repository,
    commits: Iterable[str],
    missing: Callable[[str], list[tuple[Output, str]]],
    changed: Callable[[set[str]], None],
    result: ValueFetch,
    file_limit: int,
    cancelled: Callable[[], bool],
) -> None:
    """A manifest, then the files it lists: each round asks ``missing`` again."""
    pending = list(dict.fromkeys(commits))
    for _ in range(ROUNDS):
        wanted, remotes = _wanted(repo, pending, missing, result)
        if not wanted or cancelled():
            break
        fetch = functools.partial(_fetch, repo, wanted, result, file_limit)
        served = on_stores(remotes.values(), fetch)
        if not served:
            break
        changed(served)
        pending = sorted(served)


Wanted = dict[str, dict[ObjectKey, set[str]]]  # DVC remote -> object -> commits it serves


def _wanted(
    repo: Repository,
    commits: list[str],
    missing: Callable[[str], list[tuple[Output, str]]],
    result: ValueFetch,
) -> tuple[Wanted, dict[str, DvcRemote]]:
    wanted: Wanted = defaultdict(dict)
    remotes: dict[str, DvcRemote] = {}
    count = 0
    for sha in commits:
        for output, oid in missing(sha):
            try:
                remote, _ = remote_for_commit(repo, sha, output.remote)
            except ExptuiError as exc:
                result.failed.setdefault(output.remote or "default", exc.message)
                continue
            if remote.name in result.failed or count >= MAX_OBJECTS:
                continue
            remotes[remote.name] = remote
            key = ObjectKey(oid, output.legacy)
            count += key not in wanted[remote.name]
            wanted[remote.name].setdefault(key, set()).add(sha)
    return wanted, remotes


async def _fetch(
    repo: Repository, wanted: Wanted, result: ValueFetch, file_limit: int, stores: Stores
) -> set[str]:
    """Each remote's objects. A remote that cannot be reached is given up on with its
    reason; an object too large or corrupt is skipped with its own."""
    changed: set[str] = set()
    for name, objects in wanted.items():
        try:
            store = await stores.get(name)
            present = await store.present(set(objects))
        except (ExptuiError, OSError) as exc:
            result.failed[name] = exc.message if isinstance(exc, ExptuiError) else str(exc)
            continue
        fetched = await _fetch_from(repo, store, name, sorted(present), result, file_limit)
        for key in fetched:
            changed |= objects[key]
    return changed


async def _fetch_from(
    repo: Repository,
    store: ObjectStore,
    name: str,
    keys: list[ObjectKey],
    result: ValueFetch,
    file_limit: int,
) -> list[ObjectKey]:
    """``keys`` read side by side at the store's jobs into the cache (one at a time, at
    20 ms a round trip, the metrics of 40 remote experiments took 2.3 s to show);
    returns those cached."""
    cached: list[ObjectKey] = []

    async def fetch(key: ObjectKey) -> None:
        limit = MAX_PIPELINE_BYTES if is_dir_oid(key.oid) else file_limit
        try:
            repo.cache.admit_bytes(key, await store.read_small(key, limit))
        except FileNotFoundError:
            return  # gone since it was listed: as if it was never there
        except (ExptuiError, OSError) as exc:
            why = exc.message if isinstance(exc, ExptuiError) else str(exc)
            result.failed[name] = why
            return
        cached.append(key)

    await gather_bounded([fetch(key) for key in keys], store.default_jobs)
    result.fetched += len(cached)
    return cached
