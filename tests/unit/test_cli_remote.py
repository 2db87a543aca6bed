"""The remote verbs from the command line: wording, --dry-run, --json and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import each, run_json
from tests.remote_setup import server_refs
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_remote_groups_names_under_labels(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    code, out, _ = run(capsys, "list", "origin", "-C", str(fresh_demo))
    assert code == 0
    assert out.splitlines()[0] == "main:"  # HEAD's baseline only, as DVC
    assert "\talice-drop" in out.splitlines() and "gusty-fern" not in out
    code, out, _ = run(capsys, "list", "origin", "-A", "--json", "--peek", "-C", str(fresh_demo))
    records = {r["name"]: r for r in json.loads(out)}
    assert records["alice-drop"]["state"] == "remote-only"
    assert records["alice-drop"]["metrics"]["metrics.json"]["accuracy"] > 0
    assert records["big-batch"]["state"] == "diverged"
    assert records["wide-net"]["state"] == "in-sync"
    assert all(len(r["sha"]) == 40 for r in each(records.values()))


def test_a_held_refs_lock_while_peeking_is_one_line_and_the_listing_stands(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    """Peek refs are written under git's packed-refs lock; another git holding it made
    dulwich's FileLocked escape as an unexpected error."""
    lock = fresh_demo / ".git" / "packed-refs.lock"
    lock.write_text("")
    code, out, err = run(capsys, "list", "origin", "-A", "--peek", "-C", str(fresh_demo))
    assert code == 0 and "\talice-drop" in out.splitlines()
    assert "could not peek: Another git process is writing refs" in err
    assert str(lock) in err and len(err.strip().splitlines()) == 1
    assert lock.read_text() == ""  # ours stayed theirs


def test_push_dry_run_changes_nothing(capsys: pytest.CaptureFixture[str], fresh_demo: Path) -> None:
    bare = fresh_demo.parent / "origin.git"
    before = server_refs(bare)
    args = ["push", "origin", "tuned-lr", "big-batch", "-C", str(fresh_demo), "--dry-run"]
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "create       tuned-lr" in out and "diverged     big-batch" in out
    code, out, _ = run(capsys, *args, "--json")
    plan = json.loads(out)
    assert [(e["name"], e["action"]) for e in plan["experiments"]] == [
        ("tuned-lr", "create"),
        ("big-batch", "diverged"),
    ]
    assert server_refs(bare) == before


def test_push_reports_each_phase_and_exits_3_on_diverged(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    code, out, err = run(
        capsys, "push", "origin", "tuned-lr", "wide-net", "big-batch", "-C", str(fresh_demo)
    )
    assert code == 3
    assert "Experiment wide-net is up to date on Git remote 'origin'." in out
    assert "Pushed experiment tuned-lr to Git remote 'origin'." in out
    assert re.search(r"^\d+ files uploaded \([\d.]+ KiB\) to DVC remote 'storage'\.$", out, re.M)
    assert "big-batch has diverged" in err and "--force" in err
    code, out, _ = run(capsys, "push", "origin", "big-batch", "-f", "--json", "-C", str(fresh_demo))
    result = json.loads(out)
    assert code == 0
    assert result["success"] == ["big-batch"] and result["experiments"][0]["forced"]
    assert set(result) >= {"success", "up_to_date", "diverged", "experiments", "data"}


def test_push_without_names_takes_heads_baseline(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    code, out, _ = run(capsys, "push", "origin", "--dry-run", "--json", "-C", str(fresh_demo))
    names = {e["name"] for e in json.loads(out)["experiments"]}
    assert code == 0
    assert names == {"big-batch", "brisk-lynx", "long-run", "quick-test", "tuned-lr", "wide-net"}


def test_pull_never_reports_a_forced_update_as_nothing(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    code, out, err = run(capsys, "pull", "origin", "big-batch", "-C", str(fresh_demo))
    assert code == 3 and "No experiments to pull." in out and "re-run with '--force'" in err
    code, out, _ = run(capsys, "pull", "origin", "big-batch", "-f", "-C", str(fresh_demo))
    assert code == 0
    assert "Pulled experiment big-batch from Git remote 'origin'." in out
    assert "Forced: replaced the diverged local experiment big-batch." in out
    assert "[" not in out.replace("'", "")  # no Python reprs


def test_pull_all_and_unknown_names(capsys: pytest.CaptureFixture[str], fresh_demo: Path) -> None:
    code, _, err = run(capsys, "pull", "origin", "nope", "-C", str(fresh_demo))
    assert code == 1 and "'nope' does not exist in origin" in err
    code, out, _ = run(capsys, "pull", "origin", "-A", "-C", str(fresh_demo), "--json")
    result = json.loads(out)
    assert sorted(result["success"]) == ["alice-drop", "ci-nightly", "gusty-fern"]
    assert result["diverged"] == ["big-batch"] and code == 3


def test_remove_locally_and_on_the_remote(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    bare = fresh_demo.parent / "origin.git"
    code, out, _ = run(capsys, "remove", "quick-test", "tuned-lr", "-C", str(fresh_demo))
    assert code == 0 and out.strip() == "Removed experiments quick-test and tuned-lr."
    assert not any(r.endswith(("/quick-test", "/tuned-lr")) for r in server_refs(fresh_demo))
    code, out, _ = run(capsys, "remove", "-g", "origin", "--rev", "v1.0", "-C", str(fresh_demo))
    assert code == 0 and "from Git remote 'origin'" in out
    assert not any(r.endswith(("/gusty-fern", "/sgd-base")) for r in server_refs(bare))
    assert any(r.endswith("/sgd-base") for r in server_refs(fresh_demo))  # local kept
    code, _, err = run(capsys, "remove", "x", "-A", "-C", str(fresh_demo))
    assert code == 1 and "not both" in err


def test_local_remove_clears_exec_apply_only_when_it_pointed_there(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    from tests.helpers import git

    refs = server_refs(fresh_demo)
    tuned = next(sha for ref, sha in refs.items() if ref.endswith("/tuned-lr"))
    git("update-ref", "refs/exps/exec/EXEC_APPLY", tuned, cwd=fresh_demo)
    git("update-ref", "refs/exps/exec/EXEC_BRANCH", tuned, cwd=fresh_demo)
    assert run(capsys, "remove", "wide-net", "-C", str(fresh_demo))[0] == 0
    assert "refs/exps/exec/EXEC_APPLY" in server_refs(fresh_demo, "refs/exps/exec/")
    assert run(capsys, "remove", "tuned-lr", "-C", str(fresh_demo))[0] == 0
    left = server_refs(fresh_demo, "refs/exps/exec/")
    assert "refs/exps/exec/EXEC_APPLY" not in left
    assert "refs/exps/exec/EXEC_BRANCH" in left  # DVC's quirk of deleting it is not copied


def test_options_go_anywhere_as_dvc_takes_them(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    """`exptui push origin -f big-batch` gave "unrecognized arguments" and the top usage."""
    where = ("-C", str(fresh_demo))
    code, out, err = run(capsys, "push", "origin", "-f", "big-batch", "--dry-run", *where)
    assert code == 0, err
    assert re.search(r"^\tforce +big-batch", out, re.M)
    code, out, err = run(capsys, "push", "origin", "--dry-run", "quick-test", *where)
    assert code == 0 and re.search(r"^\tcreate +quick-test", out, re.M), err
    code, out, err = run(capsys, "push", "origin", "-j", "2", "quick-test", "--json", *where)
    assert code == 0, err
    assert [e["name"] for e in json.loads(out)["experiments"]] == ["quick-test"]
    code, out, err = run(capsys, "remove", "--dry-run", "tuned-lr", *where)
    assert code == 0 and out.splitlines()[0] == "Plan: remove locally", out


def test_a_bad_option_prints_the_subcommands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["push", "origin", "--bogus", "x"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: exptui push ") and "unrecognized arguments: --bogus" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"exptui \S+\n", capsys.readouterr().out)


def test_a_pull_plan_promises_about_what_the_pull_moves(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    """A pull cannot know a directory entry's size before moving it: the plan counted
    them as nothing (it said 16.0 KiB and moved 17.7). Entries now count at their
    directory's mean size from the lock, and the plan says it is an estimate."""
    args = ["pull", "origin", "alice-drop", "-C", str(fresh_demo), "--json"]
    code, plan = run_json(capsys, *args, "--dry-run")
    assert code == 0 and plan["bytes_estimated"] is True
    code, done = run_json(capsys, *args)
    moved = done["downloaded"]["bytes"]
    assert code == 0 and moved > 0
    assert abs(plan["bytes_to_move"] - moved) <= 0.01 * moved  # rounding of the mean only
    _, text, _ = run(capsys, "pull", "origin", "alice-drop", "-C", str(fresh_demo), "--dry-run")
    assert "up to date" in text or "≈" not in text  # nothing left to estimate now


def test_plots_of_a_peeked_experiment_fetch_its_files_unless_told_not_to(
    capsys: pytest.CaptureFixture[str], fresh_demo: Path
) -> None:
    """alice-drop's step history lives in its cached eval/ output, only on the DVC
    remote: plots fetches it (as dvc plots would), --no-fetch says it is not here."""
    code, out, _ = run(capsys, "list", "origin", "-A", "--json", "--peek", "-C", str(fresh_demo))
    sha = next(r["sha"] for r in json.loads(out) if r["name"] == "alice-drop")

    def history(out: str) -> dict[str, Any]:
        plots = {plot["id"]: plot for plot in json.loads(out)[0]["plots"]}
        assert set(plots) == {"eval/history.tsv", "eval/predictions.csv"}
        return plots["eval/history.tsv"]

    code, out, _ = run(capsys, "plots", sha, "--no-fetch", "--json", "-C", str(fresh_demo))
    plot = history(out)
    assert code == 0 and plot["series"] == [] and "not in the local cache" in plot["problems"][0]
    code, out, err = run(capsys, "plots", sha, "--json", "-C", str(fresh_demo))
    plot = history(out)
    assert code == 0 and err == "" and not plot["problems"]
    assert [s["y"] for s in plot["series"]] == ["accuracy", "loss"]
    assert len(plot["series"][0]["points"]) == 20  # alice-drop trained 20 epochs
