"""Content addresses in DVC's layout, and the byte-exact ``.dir`` manifest (DVC_FORMAT §5).

An object id (oid) is the md5 of a file's raw bytes (3.x), or ``<md5>.dir`` for a directory
manifest. Where an object lives depends only on its oid and on whether its output is legacy
(2.x hashing, stored at the store root instead of under ``files/md5``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import InvalidObjectError
from core.workspace.paths import confine

_OID_RE = re.compile(r"^[0-9a-f]{32}(\.dir)?$")
CHUNK = 1 << 20


def is_dir_oid(oid: str) -> bool:
    return oid.endswith(".dir")


def check_oid(oid: str) -> str:
    """Refuse anything that is not 32 lowercase hex (plus ``.dir``): oids become file names."""
    if not _OID_RE.match(oid):
        raise InvalidObjectError(f"'{oid}' is not a DVC object id.", "Expected 32 hex digits.")
    return oid


def object_relpath(oid: str, legacy: bool = False) -> str:
    """Where ``oid`` lives under a cache or remote root, with ``/`` separators."""
    check_oid(oid)
    prefix = "" if legacy else "files/md5/"
    return f"{prefix}{oid[:2]}/{oid[2:]}"


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def md5_file(path: str | os.PathLike[str]) -> str:
    """md5 of a file, read in chunks so memory stays flat."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, order=True)
class ManifestEntry:
    """One file of a directory output: its path inside the directory and its md5."""

    relpath: str
    md5: str


def serialize_manifest(entries: Iterable[ManifestEntry]) -> bytes:
    """The exact bytes DVC writes: sorted by relpath, sorted keys, ASCII, no newline."""
    rows = [{"md5": e.md5, "relpath": e.relpath} for e in sorted(entries)]
    return json.dumps(rows, sort_keys=True).encode("utf-8")


def manifest_oid(data: bytes) -> str:
    return md5_bytes(data) + ".dir"


def parse_manifest(data: bytes, origin: str = "a .dir manifest") -> list[ManifestEntry]:
    """Read any JSON list DVC accepts; extra keys are ignored, paths are confined."""
    return [ManifestEntry(confine(relpath), md5) for relpath, md5 in _rows(data, origin)]


def manifest_md5s(data: bytes, origin: str = "a .dir manifest") -> list[str]:
    """The md5s a manifest lists, with the same checks but paths left as they are: moving
    objects never joins them to a directory (whatever writes files confines them, via
    :func:`parse_manifest`), and confining 20,000 was most of a push with nothing to do."""
    return [md5 for _relpath, md5 in _rows(data, origin)]


def _rows(data: bytes, origin: str) -> list[tuple[str, str]]:
    try:
        rows = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidObjectError(f"{origin} is not valid JSON: {exc}") from exc
    if not isinstance(rows, list):
        raise InvalidObjectError(f"{origin} is not a JSON list of files.")
    checked = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("relpath"), str):
            raise InvalidObjectError(f"{origin} has an entry without a relpath: {row!r:.80}")
        checked.append((row["relpath"], check_oid(str(row.get("md5", "")))))
    return checked
