"""Experiment refs parse, format and validate exactly as DVC and Git do."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidRefError
from core.git.refs import ExpRef, is_experiment_namespace, is_never_shared, validate_name

B = "94bf0ff01fe94f58315bb65fd1c03d9d57cdbecd"
REF = f"refs/exps/94/{B[2:]}/exp-1"


def test_parse_and_format_round_trip() -> None:
    ref = ExpRef.parse(REF)
    assert (ref.baseline, ref.name) == (B, "exp-1")
    assert ref.ref == REF
    assert ref.baseline_prefix == f"refs/exps/94/{B[2:]}"
    assert ExpRef.parse(REF.encode()) == ref


_NAMES = st.sampled_from(["exp-1", "exp-2", "a.b", "ü"])
_BASELINES = st.sampled_from([B, "0" * 40, B[:-1] + "e"])


@given(_BASELINES, _NAMES, _BASELINES, _NAMES)
def test_refs_are_equal_and_hash_alike_exactly_when_baseline_and_name_are(
    b1: str, n1: str, b2: str, n2: str
) -> None:
    """Refs key the app's dicts by their full name: equality and hashing must still be
    those of the (baseline, name) pair, however each ref was made."""
    one, other = ExpRef(b1, n1), ExpRef.parse(ExpRef(b2, n2).ref)
    assert (one == other) is ((b1, n1) == (b2, n2))
    assert (one != other) is ((b1, n1) != (b2, n2))
    assert (len({one, other}) == 1) is ((b1, n1) == (b2, n2))
    assert (one < other) is ((b1, n1) < (b2, n2))
    assert one != (b1, n1)


@pytest.mark.parametrize(
    "bad",
    [
        f"refs/exps/94/{B[2:]}",  # a baseline prefix, not an experiment
        f"refs/exps/94/{B[2:]}/a/b",  # names never contain '/'
        f"refs/heads/94/{B[2:]}/x",
        f"refs/exps/9/4{B[2:]}/x",  # wrong 2/38 split
        "refs/exps/zz/" + "z" * 38 + "/x",
        f"refs/exps/94/{B[2:]}/",
    ],
)
def test_malformed_refs_are_refused_with_a_message(bad: str) -> None:
    with pytest.raises(InvalidRefError, match="not a valid experiment refname"):
        ExpRef.parse(bad)


@pytest.mark.parametrize(
    "ref",
    [
        "refs/exps/stash",
        "refs/exps/celery/stash",
        "refs/exps/apply/ORIG_HEAD",
        "refs/exps/apply/stash",
        "refs/exps/exec/EXEC_HEAD",
        "refs/exps/celery/failed",
        "refs/exps/temp/x",
        "refs/exps/execute",  # DVC's test is a plain prefix match
    ],
)
def test_dvc_private_namespaces_are_never_shared(ref: str) -> None:
    assert is_never_shared(ref)
    assert not is_experiment_namespace(ref)


def test_experiment_refs_are_not_in_private_namespaces() -> None:
    assert is_experiment_namespace(REF)
    assert not is_never_shared(REF)


@pytest.mark.parametrize("name", ["exp-1", "HEAD", "café", "gemmy-drop", "a.b", "x@y"])
def test_names_dvc_accepts(name: str) -> None:
    validate_name(name)
    assert ExpRef.create(B, name).name == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "bad name",
        "a..b",
        ".hidden",
        "x.lock",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[",
        "a\\b",
        "end.",
        "a@{1}",
        "tab\there",
        "del\x7f",
    ],
)
def test_names_dvc_refuses(name: str) -> None:
    with pytest.raises(InvalidRefError) as info:
        validate_name(name)
    assert "git-check-ref-format" in info.value.hint


def git_accepts(refname: str) -> bool:
    done = subprocess.run(["git", "check-ref-format", refname], capture_output=True)
    return done.returncode == 0


NAME_ALPHABET = st.sampled_from([*list("ab-_.@{}/~^:?*[\\ \t\x7fé0"), "..", ".lock", "@{"])


@settings(max_examples=300, deadline=None)
@given(st.lists(NAME_ALPHABET, min_size=0, max_size=8).map("".join))
def test_name_validation_agrees_with_git_check_ref_format(name: str) -> None:
    """Property: a name is valid exactly when git accepts the full ref and it has no '/'."""
    full = f"refs/exps/94/{B[2:]}/{name}"
    expected = bool(name) and "/" not in name and git_accepts(full)
    try:
        validate_name(name, B)
        accepted = True
    except InvalidRefError:
        accepted = False
    assert accepted == expected, f"{full!r}: exptui {accepted}, git {expected}"


@settings(max_examples=300, deadline=None)
@given(st.lists(NAME_ALPHABET, min_size=0, max_size=8).map("".join))
def test_parsing_a_listed_ref_agrees_with_git_check_ref_format(name: str) -> None:
    """Property: a listed ref parses exactly when git accepts it (plain names take a
    shortcut that must give the same verdict and the same parts)."""
    full = f"refs/exps/{B[:2]}/{B[2:]}/{name}"
    expected = bool(name) and "/" not in name and git_accepts(full)
    try:
        ref = ExpRef.parse(full)
    except InvalidRefError:
        assert not expected, f"{full!r}: refused, git accepts it"
        return
    assert expected, f"{full!r}: parsed, git refuses it"
    assert (ref.baseline, ref.name, ref.ref) == (B, name, full)


def test_baseline_must_be_a_full_sha() -> None:
    with pytest.raises(InvalidRefError, match="full baseline"):
        ExpRef("abc", "x")


def test_the_fast_ref_name_check_agrees_with_gits_rules() -> None:
    """Plain experiment names skip dulwich's byte loop; every verdict stays Git's."""
    from dulwich.refs import check_ref_format

    from core.git.refs import MAX_NAME_BYTES, _is_git_ref_name

    base = "refs/exps/ab/" + "c" * 38 + "/"
    names = [
        "exp-1", "a.b", "a..b", "a.lock", "b.lock.x", ".a", "a.", "x y", "a@{b", "@", "é",
        "-x", "_a.b-c", "a/b", "a\\b", "a:b", "a?b", "a*b", "a[b", "a~b", "a^b", "A.B.C",
        "\x7f", "a\tb", "x" * MAX_NAME_BYTES, "x" * (MAX_NAME_BYTES + 1), "",
    ]  # fmt: skip
    for name in names:
        full = base + name
        expected = len(name.encode()) <= MAX_NAME_BYTES and check_ref_format(full.encode())
        assert _is_git_ref_name(full) == expected, name
    assert not _is_git_ref_name("refs/exps/AB/" + "c" * 38 + "/x") or check_ref_format(
        ("refs/exps/AB/" + "c" * 38 + "/x").encode()
    )
