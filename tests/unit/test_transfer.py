"""The data phase on a local DVC remote: what moves, in which order, verified, resumable."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.data import stores
from core.data.objects import md5_bytes
from core.data.stores import LOCAL_LIST_THRESHOLD, LocalStore, ObjectKey
from core.project.repo import Repository
from tests.big_experiment import add_big_experiment
from tests.helpers import each, exp_objects, exp_output, git, object_path, run_json
from tests.remote_setup import server_refs
from tui.cli import main


def store_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_push_uploads_then_moves_refs_and_repush_moves_nothing(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    storage = fresh_demo.parent / "storage"
    code, result = run_json(
        capsys, "push", "origin", "tuned-lr", "quick-test", "-C", str(fresh_demo)
    )
    assert code == 0 and sorted(result["success"]) == ["quick-test", "tuned-lr"]
    assert result["uploaded"]["files"] > 0
    for name in ("tuned-lr", "quick-test"):
        for oid in exp_objects(fresh_demo, name):
            path = object_path(storage, oid)
            assert path.is_file(), (name, oid)
            assert stat.S_IMODE(path.stat().st_mode) == 0o444
            if not oid.endswith(".dir"):
                assert md5_bytes(path.read_bytes()) == oid
    assert not list(storage.rglob("*.tmp"))
    code, again = run_json(
        capsys, "push", "origin", "tuned-lr", "quick-test", "-C", str(fresh_demo)
    )
    assert code == 0 and again["uploaded"] == {"files": 0, "bytes": 0}
    assert sorted(again["up_to_date"]) == ["quick-test", "tuned-lr"]


def test_only_selected_experiments_move(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    storage = fresh_demo.parent / "storage"
    before = store_files(storage)
    code, _ = run_json(capsys, "push", "origin", "tuned-lr", "-C", str(fresh_demo))
    added = set(store_files(storage)) - set(before)
    wanted = {
        object_path(storage, oid).relative_to(storage).as_posix()
        for oid in exp_objects(fresh_demo, "tuned-lr")
    }
    assert code == 0 and added and added <= wanted
    assert not any("quick" in a for a in added)


def test_missing_object_holds_the_ref_unless_allowed(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    storage = fresh_demo.parent / "storage"
    model = exp_output(fresh_demo, "quick-test", "model.pkl")
    lost = object_path(fresh_demo / ".dvc" / "cache", model.oid or "")
    os.chmod(lost.parent, 0o755)
    lost.unlink()
    code, result = run_json(
        capsys, "push", "origin", "quick-test", "tuned-lr", "-C", str(fresh_demo)
    )
    assert code == 1
    assert result["incomplete"] == ["quick-test"] and result["success"] == ["tuned-lr"]
    row = next(r for r in result["experiments"] if r["name"] == "quick-test")
    assert row["missing"] == [model.oid]
    assert not any(r.endswith("/quick-test") for r in server_refs(fresh_demo.parent / "origin.git"))
    eval_dir = exp_output(fresh_demo, "quick-test", "eval")
    assert object_path(storage, eval_dir.oid or "").is_file()  # its complete dir still went up
    code, result = run_json(
        capsys, "push", "origin", "quick-test", "--allow-missing", "-C", str(fresh_demo)
    )
    assert code == 0 and result["success"] == ["quick-test"]


def test_pull_into_a_fresh_clone_gives_byte_identical_outputs(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    code, result = run_json(capsys, "pull", "origin", "alice-drop", "wide-net", "-C", str(clone))
    assert code == 0 and sorted(result["success"]) == ["alice-drop", "wide-net"]
    assert result["downloaded"]["files"] == len(
        exp_objects(clone, "alice-drop") | exp_objects(clone, "wide-net")
    )
    cache = clone / ".dvc" / "cache"
    source = fresh_demo.parent / "storage"
    for name in ("alice-drop", "wide-net"):
        for oid in exp_objects(clone, name):
            mine = object_path(cache, oid)
            assert mine.read_bytes() == object_path(source, oid).read_bytes()
            assert stat.S_IMODE(mine.stat().st_mode) == 0o444
    assert not list(cache.rglob("*.tmp"))
    code, again = run_json(capsys, "pull", "origin", "alice-drop", "-C", str(clone))
    assert code == 0 and again["downloaded"] == {"files": 0, "bytes": 0}


def test_a_file_lost_under_a_remote_dir_fails_the_pull_and_keeps_the_dir_out(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    """The remote's .dir vouches for its files (no question per file, as DVC); when one is
    gone after all, the pull names it, and the .dir stays out of the cache, so the
    directory never looks complete and a later pull tries again."""
    storage = fresh_demo.parent / "storage"
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    eval_dir = exp_output(fresh_demo, "wide-net", "eval").oid or ""
    manifest = json.loads(object_path(storage, eval_dir).read_bytes())
    lost = object_path(storage, manifest[0]["md5"])
    os.chmod(lost.parent, 0o755)
    lost.unlink()
    code, result = run_json(capsys, "pull", "origin", "wide-net", "-C", str(clone))
    assert code == 1 and result["incomplete"] == ["wide-net"]
    cache = clone / ".dvc" / "cache"
    assert not object_path(cache, eval_dir).exists()
    assert not object_path(cache, manifest[0]["md5"]).exists()
    assert all(object_path(cache, row["md5"]).is_file() for row in each(manifest[1:]))
    assert not list(cache.rglob("*.tmp"))


def test_large_files_of_a_directory_are_pulled_in_parallel(
    capsys: pytest.CaptureFixture[str],
    fresh_demo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pull knows no file's size before moving it; the lock's size / nfiles does, so
    large files get threads of their own and hash side by side (they once queued in one)."""
    add_big_experiment(fresh_demo, "big-files", files=3, size=9 << 20)
    code, _ = run_json(capsys, "push", "origin", "big-files", "-C", str(fresh_demo))
    assert code == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    lock, running, most = threading.Lock(), [0], [0]
    real = stores.copy_hashing

    def counting(
        source: str | Path, target: str | Path, limit: int | None = None
    ) -> tuple[str, int]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)  # a slow disk: the others must not wait for this one
            return real(source, target, limit)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr("core.data.stores.copy_hashing", counting)
    code, result = run_json(capsys, "pull", "origin", "big-files", "-C", str(clone))
    assert code == 0 and result["success"] == ["big-files"]
    assert most[0] >= 2


@pytest.fixture
def strict_umask() -> Iterator[None]:
    """A umask that strips read bits from new files, as some shared GPU boxes set."""
    before = os.umask(0o277)
    stores._umask.cache_clear()
    yield
    os.umask(before)
    stores._umask.cache_clear()


@pytest.mark.usefixtures("strict_umask")
def test_objects_are_0444_whatever_the_umask(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    """DVC re-hashes every cached object whose mode is not exactly 0444."""
    code, _ = run_json(capsys, "push", "origin", "quick-test", "-C", str(fresh_demo))
    assert code == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    code, _ = run_json(capsys, "pull", "origin", "quick-test", "-C", str(clone))
    assert code == 0
    for root in (fresh_demo.parent / "storage", clone / ".dvc" / "cache"):
        modes = {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}
        assert modes == {0o444}, root


def test_a_corrupt_remote_object_never_enters_the_cache(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    storage = fresh_demo.parent / "storage"
    with Repository.open(fresh_demo) as repo:
        conn_refs = server_refs(fresh_demo.parent / "origin.git")
        sha = next(v for k, v in conn_refs.items() if k.endswith("/ci-nightly"))
    main(["list", "origin", "--peek", "-A", "-C", str(clone)])
    capsys.readouterr()
    with Repository.open(clone) as repo:
        model = next(o for o in repo.project_state(sha).outputs if o.path == "model.pkl")
    bad = object_path(storage, model.oid or "")
    bad.chmod(0o644)
    bad.write_bytes(b"bit rot")
    code, result = run_json(capsys, "pull", "origin", "ci-nightly", "-C", str(clone))
    assert code == 1 and result["incomplete"] == ["ci-nightly"]
    row = result["experiments"][0]
    assert "corrupt" in row["failed"][model.oid] and str(storage) in row["failed"][model.oid]
    assert not object_path(clone / ".dvc" / "cache", model.oid or "").exists()
    assert not any(r.endswith("/ci-nightly") for r in server_refs(clone))  # ref held back


def test_seed_a_clone_from_another_projects_cache(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path, tmp_path: Path
) -> None:
    """A second clone declares the first project's .dvc/cache as its default remote."""
    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    main(["push", "origin", "tuned-lr", "--no-cache", "-C", str(fresh_demo)])
    capsys.readouterr()
    seed = fresh_demo / ".dvc" / "cache"
    (clone / ".dvc" / "config.local").write_text(
        f"[core]\n    remote = seed\n['remote \"seed\"']\n    url = {seed}\n"
    )
    code, result = run_json(capsys, "pull", "origin", "tuned-lr", "-r", "seed", "-C", str(clone))
    assert code == 0 and result["success"] == ["tuned-lr"]
    assert result["experiments"][0]["dvc_remotes"] == ["seed"]
    for oid in exp_objects(fresh_demo, "tuned-lr"):
        assert object_path(clone / ".dvc" / "cache", oid).is_file()


def test_dry_run_shows_objects_and_bytes_per_experiment(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    storage = fresh_demo.parent / "storage"
    before = store_files(storage)
    code, plan = run_json(capsys, "push", "origin", "tuned-lr", "--dry-run", "-C", str(fresh_demo))
    assert code == 0
    (row,) = plan["data"]
    assert row["name"] == "tuned-lr" and row["dvc_remote"] == "storage"
    assert 0 < row["to_move"] <= row["objects"] and row["bytes_to_move"] > 0
    assert store_files(storage) == before


def test_verify_catches_a_damaged_upload_and_removes_it(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    """Bit rot in the local cache goes up byte for byte; --verify re-hashes what landed."""
    storage = fresh_demo.parent / "storage"
    model = exp_output(fresh_demo, "tuned-lr", "model.pkl")
    cached = object_path(fresh_demo / ".dvc" / "cache", model.oid or "")
    good = cached.read_bytes()
    cached.chmod(0o644)
    cached.write_bytes(b"rotted" + good[6:])
    args = ["push", "origin", "tuned-lr", "--verify", "-C", str(fresh_demo)]
    code, result = run_json(capsys, *args)
    assert code == 1 and result["incomplete"] == ["tuned-lr"]
    assert "failed verification" in result["experiments"][0]["failed"][model.oid]
    assert not object_path(storage, model.oid or "").exists()
    assert not any(r.endswith("/tuned-lr") for r in server_refs(fresh_demo.parent / "origin.git"))
    cached.write_bytes(good)
    code, result = run_json(capsys, *args)
    assert code == 0 and result["success"] == ["tuned-lr"]
    assert object_path(storage, model.oid or "").read_bytes() == good


def test_a_local_store_answers_presence_and_sizes_by_listing_or_by_stat(tmp_path: Path) -> None:
    """Folders holding many wanted keys are listed, the others stat'ed; both answers, and
    the sizes, must be exactly what the directory holds (temporary files are not objects)."""
    store = LocalStore(tmp_path / "remote")
    many = [ObjectKey(f"ab{i:030x}") for i in range(LOCAL_LIST_THRESHOLD + 8)]
    few = [ObjectKey(f"cd{i:030x}") for i in range(3)]
    absent_folder = [ObjectKey(f"ef{i:030x}") for i in range(LOCAL_LIST_THRESHOLD)]
    legacy = [ObjectKey(f"12{i:030x}", legacy=True) for i in range(LOCAL_LIST_THRESHOLD)]
    stored = [*many[::2], few[1], *legacy[:5]]
    for n, key in enumerate(stored):
        store.path(key).parent.mkdir(parents=True, exist_ok=True)
        store.path(key).write_bytes(b"x" * n)
    (store.path(many[1]).parent / ".exptui-1-1.tmp").write_bytes(b"partial")
    wanted = {*many, *few, *absent_folder, *legacy}
    assert asyncio.run(store.present(wanted)) == set(stored)
    assert asyncio.run(store.sizes(wanted)) == {key: n for n, key in enumerate(stored)}
