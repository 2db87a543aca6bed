"""Object stores in DVC's layout. This first cut covers local directories (the cache and
local remotes); remote backends over fsspec plug in behind the same names.

Writes are atomic and read-only, as DVC expects (DVC_FORMAT §5.4): bytes go to a temporary
name in the destination directory, are renamed into place, then set to ``0444``. A ``.dir``
manifest is only written by :meth:`LocalObjectStore.add_manifest` once every entry exists,
so "a ``.dir`` is present" keeps meaning "the whole directory is present".
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from core.data.objects import (
    ManifestEntry,
    check_oid,
    manifest_oid,
    md5_bytes,
    object_relpath,
    parse_manifest,
    serialize_manifest,
)
from core.errors import IncompleteDirectoryError

READ_ONLY = 0o444


class LocalObjectStore:
    """A local cache or local DVC remote rooted at ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, oid: str, legacy: bool = False) -> Path:
        return self.root / object_relpath(oid, legacy)

    def exists(self, oid: str, legacy: bool = False) -> bool:
        return self.path_for(oid, legacy).is_file()

    def read(self, oid: str, legacy: bool = False) -> bytes | None:
        """The object's bytes, or None if this store does not have it."""
        try:
            return self.path_for(oid, legacy).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read_manifest(self, oid: str, legacy: bool = False) -> list[ManifestEntry] | None:
        data = self.read(check_oid(oid), legacy)
        return None if data is None else parse_manifest(data, f"manifest {oid}")

    def add_bytes(self, data: bytes, legacy: bool = False) -> str:
        """Store ``data`` under its md5 (idempotent) and return the oid."""
        oid = md5_bytes(data)
        self._write_atomic(self.path_for(oid, legacy), data)
        return oid

    def add_manifest(self, entries: Iterable[ManifestEntry], legacy: bool = False) -> str:
        """Store a directory manifest, refusing while any listed file is missing."""
        entries = list(entries)
        missing = [e.relpath for e in entries if not self.exists(e.md5, legacy)]
        if missing:
            raise IncompleteDirectoryError(
                f"Refusing to write a .dir manifest with {len(missing)} missing file(s), "
                f"first {missing[0]!r}.",
                "Store every file of the directory first.",
            )
        data = serialize_manifest(entries)
        oid = manifest_oid(data)
        self._write_atomic(self.path_for(oid, legacy), data)
        return oid

    def _write_atomic(self, target: Path, data: bytes) -> None:
        if target.is_file():
            return  # content-addressed: same name, same bytes
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".exptui-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.chmod(tmp, READ_ONLY)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
