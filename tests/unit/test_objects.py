"""Object layout, byte-exact manifests, atomic read-only writes, confined paths."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core.data.objects import (
    InvalidObjectError,
    ManifestEntry,
    manifest_md5s,
    manifest_oid,
    md5_bytes,
    object_relpath,
    parse_manifest,
    serialize_manifest,
)
from core.data.stores import LocalStore
from core.errors import IncompleteDirectoryError, UnsafePathError
from core.workspace.paths import confine

DOC_MANIFEST = (
    b'[{"md5": "f1290186a5d0b1ceab27f4e77c0c5d68", "relpath": "A.txt"}, '
    b'{"md5": "009520053b00386d1173f3988c55d192", "relpath": "a.txt"}, '
    b'{"md5": "401b30e3b8b5d629635a5c613cdb7919", "relpath": "b.txt"}, '
    b'{"md5": "fbade9e36a3f36d3d676c1b808451dd7", "relpath": "sub/c"}]'
)


def test_manifest_bytes_match_dvcs_serialisation() -> None:
    entries = [
        ManifestEntry("sub/c", "fbade9e36a3f36d3d676c1b808451dd7"),
        ManifestEntry("b.txt", "401b30e3b8b5d629635a5c613cdb7919"),
        ManifestEntry("a.txt", "009520053b00386d1173f3988c55d192"),
        ManifestEntry("A.txt", "f1290186a5d0b1ceab27f4e77c0c5d68"),
    ]
    assert serialize_manifest(entries) == DOC_MANIFEST
    assert manifest_oid(DOC_MANIFEST) == md5_bytes(DOC_MANIFEST) + ".dir"


def test_manifest_escapes_non_ascii_like_dvc() -> None:
    data = serialize_manifest([ManifestEntry("café.txt", "0" * 32)])
    assert data == b'[{"md5": "00000000000000000000000000000000", "relpath": "caf\\u00e9.txt"}]'


def test_manifest_parsing_ignores_extra_keys_and_refuses_escapes() -> None:
    parsed = parse_manifest(b'[{"md5": "' + b"a" * 32 + b'", "relpath": "x/y", "size": 3}]')
    assert parsed == [ManifestEntry("x/y", "a" * 32)]
    for hostile in (b"../../outside", b"/etc/passwd", b"a/../../b"):
        with pytest.raises(UnsafePathError):
            parse_manifest(b'[{"md5": "' + b"a" * 32 + b'", "relpath": "' + hostile + b'"}]')
    with pytest.raises(InvalidObjectError):
        parse_manifest(b'{"not": "a list"}')
    with pytest.raises(InvalidObjectError):
        parse_manifest(b'[{"md5": "../x", "relpath": "a"}]')


def test_moving_objects_reads_only_md5s_with_the_same_shape_checks() -> None:
    """Transfers never join a manifest's paths to a directory, so they are not confined
    there (apply refuses them, above); an md5 still becomes a file name, so it is checked."""
    assert manifest_md5s(DOC_MANIFEST) == [e.md5 for e in parse_manifest(DOC_MANIFEST)]
    assert manifest_md5s(b'[{"md5": "' + b"a" * 32 + b'", "relpath": "../x"}]') == ["a" * 32]
    for malformed in (
        b'{"not": "a list"}',
        b'[{"md5": "../x", "relpath": "a"}]',
        b'[{"md5": "' + b"a" * 32 + b'"}]',
        b"[{",
    ):
        with pytest.raises(InvalidObjectError):
            manifest_md5s(malformed)


def test_object_paths_follow_the_3x_and_legacy_layouts() -> None:
    oid = "1800b59e0a16e2eac0142c64b039eed2.dir"
    assert object_relpath(oid) == "files/md5/18/00b59e0a16e2eac0142c64b039eed2.dir"
    assert object_relpath(oid, legacy=True) == "18/00b59e0a16e2eac0142c64b039eed2.dir"
    with pytest.raises(InvalidObjectError):
        object_relpath("../../etc/passwd")


def test_store_writes_read_only_objects_with_no_temporary_left(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "cache")
    oid = store.add_bytes(b"hello")
    path = store.path_for(oid)
    assert path.read_bytes() == b"hello"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert store.add_bytes(b"hello") == oid  # idempotent
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert store.read("0" * 32) is None


def test_manifest_is_refused_until_every_file_is_stored(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "cache")
    present = store.add_bytes(b"one")
    entries = [ManifestEntry("one", present), ManifestEntry("two", md5_bytes(b"two"))]
    with pytest.raises(IncompleteDirectoryError, match="1 missing"):
        store.add_manifest(entries)
    assert not list((tmp_path / "cache").rglob("*.dir"))
    store.add_bytes(b"two")
    oid = store.add_manifest(entries)
    assert store.read_manifest(oid) == sorted(entries)


@pytest.mark.parametrize(
    ("path", "base", "expected"),
    [("a/b", "", "a/b"), ("./a//b/", "", "a/b"), ("../x", "sub", "x"), ("x", "sub", "sub/x")],
)
def test_confine_normalises_paths_inside_the_root(path: str, base: str, expected: str) -> None:
    assert confine(path, base) == expected


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc/passwd", "C:/x", ""])
def test_confine_refuses_paths_that_leave_the_root(path: str) -> None:
    with pytest.raises(UnsafePathError):
        confine(path)


def test_a_backslash_is_a_separator_only_where_the_system_says_so() -> None:
    """Windows splits a\\..\\b at the backslashes (an escape); POSIX does not: there it is
    one file name, which DVC accepts, so refusing it refused legal data."""
    if os.sep == "\\":
        with pytest.raises(UnsafePathError):
            confine("a\\..\\b")
    else:
        assert confine("a\\..\\b", "data") == "data/a\\..\\b"
        with pytest.raises(UnsafePathError):
            confine("a\\../../../b")  # the slashes still count: two levels up from one
