"""``exptui list`` and ``exptui demo`` from the command line: text, JSON and errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import each
from tui.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_prints_dvc_style_groups(capsys: pytest.CaptureFixture[str], demo_dir: Path) -> None:
    code, out, err = run(capsys, "list", "-C", str(demo_dir))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "main:"  # only HEAD's baseline without -A, as DVC
    assert all(re.fullmatch(r"\t[0-9a-f]{7} \[[a-z-]+\]", line) for line in each(lines[1:]))
    names = [line.split("[")[1][:-1] for line in lines[1:]]
    assert names == sorted(names) and "tuned-lr" in names and "old-adam" not in names


def test_list_all_commits_and_rev(capsys: pytest.CaptureFixture[str], demo_dir: Path) -> None:
    _, out, _ = run(capsys, "list", "-C", str(demo_dir), "-A")
    assert [line for line in out.splitlines() if not line.startswith("\t")] == ["main:", "v1.0:"]
    _, out, _ = run(capsys, "list", "-C", str(demo_dir), "--rev", "v1.0", "--name-only")
    assert out.split() == ["old-adam", "sgd-base"]
    _, out, _ = run(capsys, "list", "-C", str(demo_dir), "-n", "2", "--sha-only")
    assert all(re.fullmatch(r"[0-9a-f]{40}", line) for line in each(out.split()))
    assert len(out.split()) == 8


def test_list_json_has_the_documented_keys(
    capsys: pytest.CaptureFixture[str], demo_dir: Path
) -> None:
    code, out, _ = run(capsys, "list", "-C", str(demo_dir), "-A", "--json")
    records = json.loads(out)
    assert code == 0 and len(records) == 8
    for record in records:
        assert {"name", "baseline", "sha", "ref", "timestamp", "params", "metrics"} <= set(record)
        assert re.fullmatch(r"[0-9a-f]{40}", record["baseline"])
        assert re.fullmatch(r"[0-9a-f]{40}", record["sha"])
        assert record["ref"].endswith("/" + record["name"])
        assert "accuracy" in record["metrics"]["metrics.json"]
        assert "lr" in record["params"]["params.yaml"]["train"]


def test_errors_are_one_line_and_non_zero(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, demo_dir: Path
) -> None:
    code, out, err = run(capsys, "list", "-C", str(tmp_path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "not inside a Git repository" in err
    code, _, err = run(capsys, "list", "-C", str(demo_dir), "--rev", "nope")
    assert code == 1 and "'nope' is not a commit" in err and "Traceback" not in err
    code, _, err = run(capsys, str(tmp_path))  # the app refuses before taking the screen
    assert code == 1 and "exptui demo" in err


def test_demo_no_tui_prints_the_workspace_and_is_repeatable(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "demo", str(tmp_path / "d"), "--no-tui")
    assert code == 0 and Path(out.strip()) == tmp_path / "d" / "project"
    code, again, _ = run(capsys, "demo", str(tmp_path / "d"), "--no-tui")
    assert code == 0 and again == out


def test_demo_default_location_is_per_user(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    code, out, _ = run(capsys, "demo", "--no-tui")
    assert code == 0
    assert out.strip().startswith(os.environ["XDG_DATA_HOME"])


def test_show_prints_the_experiments_table_in_every_format(
    capsys: pytest.CaptureFixture[str], demo_dir: Path
) -> None:
    """``exptui show`` is ``dvc exp show``'s table: a row per baseline then its
    experiments, metrics then params, as JSON, CSV, Markdown or a terminal table."""
    code, out, err = run(capsys, "show", "-C", str(demo_dir), "--json", "--no-fetch")
    rows = json.loads(out)
    assert code == 0 and err == ""
    assert [r["Experiment"] for r in rows][:2] == ["main", "big-batch"]  # baseline first
    tuned = next(r for r in rows if r["Experiment"] == "tuned-lr")
    assert tuned["train.lr"] == 0.02 and isinstance(tuned["accuracy"], float)
    assert list(tuned)[:4] == ["Experiment", "rev", "Created", "accuracy"]
    _, csv_out, _ = run(capsys, "show", "-C", str(demo_dir), "--csv")
    header, *lines = csv_out.splitlines()
    assert header.startswith("Experiment,rev,Created,accuracy") and len(lines) == len(rows)
    _, md, _ = run(capsys, "show", "-C", str(demo_dir), "--md")
    assert md.splitlines()[1].startswith("|:---|:---|:---|---:|")
    _, text, _ = run(capsys, "show", "-C", str(demo_dir), "-A")
    assert "old-adam" in text and "v1.0" in text


def test_diff_shows_what_changed_against_the_baseline_or_another(
    capsys: pytest.CaptureFixture[str], demo_dir: Path
) -> None:
    code, out, _ = run(capsys, "diff", "tuned-lr", "-C", str(demo_dir), "--json")
    changed = {(r["Type"], r["Key"]): r for r in json.loads(out)}
    assert code == 0 and ("param", "train.lr") in changed
    assert changed[("param", "train.lr")]["Old"] == 0.01
    assert changed[("param", "train.lr")]["New"] == 0.02
    assert abs(changed[("param", "train.lr")]["Change"] - 0.01) < 1e-12
    assert ("param", "seed") not in changed  # unchanged: only with --all
    _, out, _ = run(capsys, "diff", "tuned-lr", "wide-net", "--all", "-C", str(demo_dir), "--json")
    everything = {(r["Type"], r["Key"]) for r in json.loads(out)}
    assert ("param", "seed") in everything and ("param", "model.layers") in everything
    code, _, err = run(capsys, "diff", "main", "-C", str(demo_dir))
    assert code == 1 and "has no baseline" in err


def test_the_terminal_table_aligns_each_column_on_its_decimal_point() -> None:
    """As the app's trees: 0.167 under 0.1856 read as two magnitudes."""
    import io

    from rich.console import Console

    from tui.tables import Table, table_renderable

    table = Table(
        ["Experiment", "loss", "lr"],
        ["info", "metric", "param"],
        [["a", 0.167, 0.01], ["b", 0.1856, 0.005], ["c", None, 1]],
    )
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(table_renderable(table))
    lines = out.getvalue().splitlines()[1:]
    assert [line.split()[1:] for line in lines] == [
        ["0.1670", "0.010"],
        ["0.1856", "0.005"],
        ["-", "1"],
    ]
    assert len({line.index(".", 5) for line in lines[:2]}) == 1  # loss points aligned
    assert len({line.rindex(".") for line in lines[:2]}) == 1  # lr points aligned


def test_a_table_too_wide_for_the_terminal_keeps_whole_columns() -> None:
    from tui.tables import Table

    table = Table(
        ["Experiment", "loss", "a.very.long.param.name"],
        ["info", "metric", "param"],
        [["exp-\x1b[31m", 0.123456, 1], ["b", None, 2]],
    )
    fitted, left_out = table.fitted(24)
    assert fitted.columns == ["Experiment", "loss"] and left_out == 1
    assert table.fitted(80) == (table, 0)
    assert "\x1b" not in table.to_markdown() + table.to_csv()  # escaped: \u001b


def test_quiet_prints_nothing_and_verbose_shows_the_plan_first(
    capsys: pytest.CaptureFixture[str], demo_dir: Path, fresh_demo: Path
) -> None:
    """-q/-v on every verb, as on every dvc command (options anywhere)."""
    assert run(capsys, "list", "-q", "-C", str(demo_dir)) == (0, "", "")
    assert run(capsys, "show", "-C", str(demo_dir), "--quiet")[1] == ""
    code, _, err = run(capsys, "list", "-q", "-C", str(fresh_demo / "nowhere"))
    assert code == 1 and "does not exist" in err  # errors are never quiet
    code, out, _ = run(capsys, "push", "origin", "-v", "quick-test", "-C", str(fresh_demo))
    assert code == 0
    assert out.index("Plan: push") < out.index("Pushed experiment quick-test")


@pytest.mark.parametrize(
    "line, expected",
    [
        ("exptui pu", {"push", "pull"}),
        ("exptui push origin tu", {"tuned-lr"}),
        ("exptui push o", {"origin"}),
        ("exptui diff tuned-lr w", {"wide-net"}),
        ("exptui apply --dr", {"--dry-run"}),
    ],
)
def test_the_shell_completes_verbs_options_remotes_and_experiments(
    demo_dir: Path, tmp_path: Path, line: str, expected: set[str]
) -> None:
    """What bash asks through argcomplete (``register-python-argcomplete exptui``)."""
    import os
    import subprocess
    import sys

    answer = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_IFS": "\n",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answer),
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tui"], cwd=demo_dir, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert {word.strip() for word in answer.read_text().splitlines()} == expected


@pytest.mark.parametrize(
    "value",
    [[], [{}], [{"a": [1, {"b": "x\ny"}], "é": None}, [], 2.5, "s"], {"k": [1, 2]}, "x"],
)
def test_json_output_is_json_dump_indented_whatever_it_is_written_in(
    value: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """A list is written an item at a time (each write is escaped, and 100,000 items as
    json.dump's tokens took 100 s): the text is still exactly json.dumps(indent=2)."""
    from tui.commands import _emit

    _emit(value)
    assert capsys.readouterr().out == json.dumps(value, indent=2, ensure_ascii=False) + "\n"
