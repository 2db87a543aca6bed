"""Objects known to be on a DVC remote, remembered between operations (DVC_FORMAT §9.1).

Asking a remote whether 20,000 objects exist costs 20,000 stats, HEADs or a full listing;
a new version of a 20,000-file dataset that shares all but one file with the last should
cost about one ref exchange instead. The index records, per remote, ``.dir`` manifests
seen on the remote *together with their entries*, and nothing else, which keeps one
invariant: every indexed file belongs to an indexed ``.dir``. Since a present ``.dir``
implies its entries (DVC's rule, which exptui never breaks), checking that every indexed
``.dir`` still exists vouches for every indexed file. The transfer makes that check before
it first trusts the index in an operation, and only when it saves work; if a ``.dir`` is
gone (someone pruned the remote), the whole index is dropped, as DVC does. Manifests
themselves are always asked of the remote.

An unreadable or unwritable index is never an error: it is an optimisation, so it is
rebuilt or simply not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from core.data.stores import ObjectKey
from core.project.config import DvcRemote

if TYPE_CHECKING:  # imported when an index is opened: transfers only, not app start-up
    import sqlite3

QUERY_CHUNK = 500  # sqlite's bound-parameter limit is far above; this keeps queries short


def index_path(dvc_dir: Path, remote: DvcRemote) -> Path:
    """One file per remote *location*: the URL and the options that change where it
    points (an S3 endpoint), not the name, which differs between clones."""
    where = {k: v for k, v in remote.options.items() if k in ("endpointurl", "port", "user")}
    identity = json.dumps([remote.url, sorted(where.items())])
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return dvc_dir / "tmp" / "exptui" / "remote-index" / f"{digest}.sqlite"


class RemoteIndex:
    """A persistent set of objects present on one remote. Additions are buffered and
    written by :meth:`save`, so the transfer's threads never touch sqlite."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._pending: set[ObjectKey] = set()
        self._dropped = False
        self.validated = False  # its manifests were checked on the remote this operation

    def known(self, keys: Collection[ObjectKey]) -> set[ObjectKey]:
        """The subset of ``keys`` recorded as present."""
        found = {k for k in keys if k in self._pending}
        if self._dropped or self.path is None or not self.path.exists():
            return found
        wanted = [k for k in keys if k not in found]
        with self._connection() as db:
            if db is None:
                return found
            for start in range(0, len(wanted), QUERY_CHUNK):
                chunk = wanted[start : start + QUERY_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT oid, legacy FROM objects WHERE oid IN ({marks})",
                    [k.oid for k in chunk],
                )
                present = {ObjectKey(oid, bool(legacy)) for oid, legacy in rows}
                found.update(k for k in chunk if k in present)
        return found

    def add_dir(self, manifest: ObjectKey, entries: Iterable[ObjectKey]) -> None:
        """Record a ``.dir`` known to be on the remote, and so its entries."""
        self._pending.add(manifest)
        self._pending.update(entries)

    def dirs(self) -> set[ObjectKey]:
        """Every indexed manifest: what must still exist for the index to be trusted."""
        found = {k for k in self._pending if k.oid.endswith(".dir")}
        if self._dropped or self.path is None or not self.path.exists():
            return found
        with self._connection() as db:
            if db is not None:
                rows = db.execute("SELECT oid, legacy FROM objects WHERE oid LIKE '%.dir'")
                found.update(ObjectKey(oid, bool(legacy)) for oid, legacy in rows)
        return found

    def drop(self) -> None:
        """Forget everything: the remote lost something the index promised."""
        self._pending.clear()
        self._dropped = True

    def save(self) -> None:
        if self.path is None or not (self._pending or self._dropped):
            return  # nothing learnt: no database to open (a plan, then its run, each save)
        with self._connection(create=True) as db:
            if db is None:
                return
            with db:
                if self._dropped:
                    db.execute("DELETE FROM objects")
                db.executemany(
                    "INSERT OR IGNORE INTO objects VALUES (?, ?)",
                    [(k.oid, int(k.legacy)) for k in self._pending],
                )
        self._pending.clear()
        self._dropped = False

    @contextlib.contextmanager
    def _connection(self, create: bool = False) -> Iterator[sqlite3.Connection | None]:
        """An open database, or None when it cannot be used (then it is simply not used).
        A corrupt file is deleted and started afresh when writing."""
        import sqlite3

        db = self._open(create)
        if db is None and create and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            db = self._open(create)
        try:
            yield db
        except sqlite3.Error:
            pass  # corrupt mid-query or locked too long: as if there were no index
        finally:
            if db is not None:
                db.close()

    def _open(self, create: bool) -> sqlite3.Connection | None:
        import sqlite3

        assert self.path is not None
        db = None
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5)
            db.execute(
                "CREATE TABLE IF NOT EXISTS objects (oid TEXT NOT NULL, legacy INTEGER NOT NULL,"
                " PRIMARY KEY (oid, legacy)) WITHOUT ROWID"
            )
            return db
        except (OSError, sqlite3.Error):
            if db is not None:
                db.close()
            return None
