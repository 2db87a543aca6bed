"""Files from someone else's commit or DVC remote cannot exhaust memory, hang, or fill the
disk: parsers are bounded, remote objects are read only if they are regular files."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.hostile import FILE, file_output, hostile_experiment, small_project

MEMORY_CAP = 1 << 30  # the address space a listing may use: the old code needed 3.7 GB
PIPELINE = b"stages:\n  train:\n    cmd: python train.py\n    params:\n    - lr\n"
LAUGHS = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode()
        for i in range(8)
    )
    + b"lr: 0.1\n"
)


def exptui(project: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """exptui in a child process whose address space is capped, as a victim's would fill."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap,
    )


@pytest.mark.parametrize(
    "name, content, note",
    [
        ("params.yaml", LAUGHS, "too many values once expanded"),
        ("params.yaml", b"lr: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
        ("params.json", b'{"lr": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        ("params.yaml", b"lr: 0.1\n" + b"# padding\n" * 300_000, "too large (2.9 MiB"),
    ],
    ids=["billion-laughs", "deep-yaml", "deep-json", "huge"],
)
def test_a_hostile_params_file_is_skipped_with_a_note(
    tmp_path: Path, name: str, content: bytes, note: str
) -> None:
    project = small_project(tmp_path)
    pipeline = (
        PIPELINE.replace(b"- lr", f"- {name}:".encode()) if name != "params.yaml" else PIPELINE
    )
    hostile_experiment(project, "laughs", {name: (FILE, content), "dvc.yaml": (FILE, pipeline)})
    done = exptui(project, "list", "-A", "--json")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) < 10_000 and "Traceback" not in done.stderr
    record = json.loads(done.stdout)[0]
    assert any(note in w and name in w for w in record["warnings"]), record["warnings"]


def test_a_hostile_lock_file_is_noted_and_leaves_nothing_half_shared(tmp_path: Path) -> None:
    """An unreadable lock leaves the outputs unknown: listed with the reason, and a push
    refuses it rather than share the refs with none of their data."""
    project = small_project(tmp_path)
    hostile_experiment(project, "laughs", {"dvc.lock": (FILE, LAUGHS)})
    done = exptui(project, "list", "-A", "--json")
    assert done.returncode == 0, done.stderr
    unresolved = json.loads(done.stdout)[0]["unresolved"]
    assert any("dvc.lock: too many values" in w for w in unresolved), unresolved
    pushed = exptui(project, "push", ".", "laughs", "--dry-run")
    assert pushed.returncode == 1 and "Traceback" not in pushed.stderr
    assert "laughs: its outputs cannot be known: dvc.lock: too many values" in pushed.stderr


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_remote_object_that_is_not_a_file_fails_its_pull_without_hanging(
    fresh_demo: Path, kind: str
) -> None:
    """alice-drop's objects are only on the demo's local DVC remote; each is swapped for a
    FIFO (which hung the pull) or a link to /dev/zero (which filled the disk)."""
    cache, storage = fresh_demo / ".dvc" / "cache", fresh_demo.parent / "storage"
    cached = {p.relative_to(cache) for p in cache.rglob("*") if p.is_file()}
    swapped = [
        p
        for p in storage.rglob("*")
        if p.is_file() and not p.name.endswith(".dir") and p.relative_to(storage) not in cached
    ]
    assert swapped
    for path in swapped:
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("/dev/zero")
    done = exptui(fresh_demo, "pull", "origin", "alice-drop", timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "not a regular file" in done.stderr and "Traceback" not in done.stderr
    causes = [line for line in done.stderr.splitlines() if "not a regular file" in line]
    assert len(causes) == 1 and re.search(r"\d objects \(", causes[0])  # one line per cause
    assert (
        "alice-drop"
        not in subprocess.run(
            ["git", "for-each-ref", "refs/exps"], cwd=fresh_demo, capture_output=True, text=True
        ).stdout
    )  # data before refs: nothing half-pulled
    grown = {p.relative_to(cache) for p in cache.rglob("*") if p.is_file()} - cached
    assert not {p for p in grown if not str(p).endswith(".dir")}, grown  # manifests only


def test_a_local_disk_error_is_one_line_that_blames_this_machine(fresh_demo: Path) -> None:
    """The cache cannot be written (here: it is a file): not a remote's fault, no traceback."""
    cache = fresh_demo / ".dvc" / "cache"
    cache.rename(fresh_demo.parent / "cache-moved")
    cache.write_text("not a directory\n")
    done = exptui(fresh_demo, "pull", "origin", "alice-drop")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "Not a directory" in done.stderr and "(on this machine)" in done.stderr


def dead_pid() -> int:
    """A pid no process has now."""
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            pass
        pid -= 1


def test_a_later_push_removes_what_a_killed_one_left_and_nothing_else(
    fresh_demo: Path,
) -> None:
    """A killed push leaves .exptui-<pid>-<n>.tmp files (60-90 MB each) on the remote."""
    from tests.helpers import exp_objects, object_path

    storage = fresh_demo.parent / "storage"
    folder = object_path(storage, sorted(exp_objects(fresh_demo, "quick-test"))[0]).parent
    folder.mkdir(parents=True, exist_ok=True)
    old = time.time() - 2 * 3600
    leftovers = {
        f".exptui-{dead_pid()}-7.tmp": (old, True),  # its writer is dead: swept
        f".exptui-{dead_pid()}-8.tmp": (time.time(), False),  # written just now: kept
        f".exptui-{os.getpid()}-9.tmp": (old, False),  # its writer lives: kept
        ".someone-else.tmp": (old, False),  # not our naming: never ours to remove
    }
    for name, (mtime, _swept) in leftovers.items():
        (folder / name).write_bytes(b"half an upload")
        os.utime(folder / name, (mtime, mtime))
    done = exptui(fresh_demo, "push", "origin", "quick-test")
    assert done.returncode == 0, done.stderr
    for name, (_mtime, swept) in leftovers.items():
        assert (folder / name).exists() is not swept, name


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 KiB tmpfs: a disk that fills up (mounting needs root, which CI and the
    developers' machines are; anywhere else this test cannot run and says so)."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def test_a_full_cache_is_blamed_on_the_cache_not_the_remote(
    fresh_demo: Path, tiny_disk: Path
) -> None:
    (fresh_demo / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {tiny_disk}\n")
    done = exptui(fresh_demo, "pull", "origin", "alice-drop")
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "The local DVC cache failed: No space left on device" in done.stderr
    assert "DVC remote" not in done.stderr.split(".")[0]
    assert not list(tiny_disk.rglob("*.tmp"))  # nothing partial left behind
    refs = subprocess.run(["git", "for-each-ref", "refs/exps"], cwd=fresh_demo, capture_output=True)
    assert b"alice-drop" not in refs.stdout


def test_a_config_whose_references_fan_out_is_refused_not_expanded() -> None:
    """configobj (and so DVC) expands %(name)s references when a value is read: ten keys
    each naming the next fifty times is 50**9 copies, from a 5 KiB .dvc/config that any
    experiment commit may carry. exptui measures before it expands."""
    from core.errors import ConfigError
    from core.project.config import parse_config_text

    lines = ["['remote \"x\"']", "    url = /a/%(k0)s"]
    lines += [f"    k{i} = " + f"%(k{i + 1})s" * 50 for i in range(9)]
    lines.append("    k9 = " + "A" * 100)
    with pytest.raises(ConfigError, match="expands beyond 64 KiB"):
        parse_config_text(lines, Path("/tmp"), ".dvc/config of a commit")


def test_an_oversized_config_is_refused_before_parsing() -> None:
    from core.errors import ConfigError
    from core.project.config import parse_config_text

    lines = ["[core]", *(f"    k{i} = {'v' * 100}" for i in range(20_000))]
    with pytest.raises(ConfigError, match="is over 1 MiB"):
        parse_config_text(lines, Path("/tmp"), ".dvc/config of a commit")


def metrics_only_on_the_remote(tmp_path: Path, written: bytes, stored: bytes) -> Path:
    """A project whose experiment declares a cached ``metrics.json`` (the lock names
    ``written``'s md5) that only its DVC remote has, as ``stored``; returns the cache path
    the fetch must never fill."""
    project = small_project(tmp_path)
    storage = tmp_path / "storage"
    (project / ".dvc" / "config").write_text(
        f"[core]\n    remote = storage\n['remote \"storage\"']\n    url = {storage}\n"
    )
    out = file_output(project, "metrics.json", written)
    name = Path(out["md5"][:2]) / out["md5"][2:]
    cached = project / ".dvc" / "cache" / "files" / "md5" / name
    cached.unlink()
    (storage / "files" / "md5" / name).parent.mkdir(parents=True)
    (storage / "files" / "md5" / name).write_bytes(stored)
    lock = {"schema": "2.0", "stages": {"t": {"cmd": "x", "outs": [out]}}}
    hostile_experiment(
        project,
        "remote-metrics",
        {
            "dvc.yaml": (FILE, b"stages:\n  t:\n    cmd: x\n    metrics: [metrics.json]\n"),
            "dvc.lock": (FILE, json.dumps(lock).encode()),
        },
    )
    return cached


def test_a_huge_value_object_on_the_dvc_remote_is_not_fetched(tmp_path: Path) -> None:
    """A metrics file the lock says lives in a cached output, 3 MiB on the DVC remote
    (its md5 is right: someone pushed it): fetching values stops at the values limit and
    caches nothing; the listing says why in one line and still succeeds."""
    huge = b'{"loss": 0.5, "pad": "' + b"x" * (3 << 20) + b'"}'
    cached = metrics_only_on_the_remote(tmp_path, huge, huge)
    done = exptui(tmp_path / "project", "list", "-A", "--json")
    assert done.returncode == 0, done.stderr
    assert "larger than the 2,097,152 bytes a value file may hold" in done.stderr
    assert json.loads(done.stdout)[0]["metrics"] == {}
    assert not cached.exists()


def test_a_corrupt_value_object_on_the_dvc_remote_is_not_cached(tmp_path: Path) -> None:
    """The remote's copy of a metrics file no longer matches its name: fetching values
    refuses it before it enters the cache, says so in one line, and the listing stands."""
    cached = metrics_only_on_the_remote(tmp_path, b'{"loss": 0.5}', b'{"loss": 0.0001}')
    done = exptui(tmp_path / "project", "list", "-A", "--json")
    assert done.returncode == 0, done.stderr
    assert "is corrupt" in done.stderr and len(done.stderr.splitlines()) == 1
    assert json.loads(done.stdout)[0]["metrics"] == {}
    assert not cached.exists()
