"""Params and metrics written the way ML projects write them, read by exptui exactly as real
`dvc exp show --json` reads them: YAML 1.2, value for value and type for type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.project.repo import Repository
from tests.dvclive_project import shared_dvclive
from tests.helpers import Dvc, dvc_show, git
from tui.cli import main

pytestmark = pytest.mark.dvc

# (YAML as written, what YAML 1.1 (PyYAML's safe_load) gives): each row once differed.
TABLE = {
    "lr": ("1e-3", "1e-3"),
    "lr2": ("1.0e-3", 0.001),
    "big": ("5E-4", "5E-4"),
    "flag": ("yes", True),
    "off": ("no", False),
    "version": ("0o17", None),  # PyYAML: ValueError
    "mode": ("0777", 511),
    "time": ("1:30", 90),
    "yes_bool": ("true", True),
    "hex": ("0x1F", 31),
    "neg": ("-2", -2),
    "quoted": ("'0.1'", "0.1"),
}


def test_params_read_as_dvc_exp_show_reads_them(dvc: Dvc, tmp_path: Path) -> None:
    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    lines = [f"{key}: {written}" for key, (written, _) in TABLE.items()]
    (repo / "params.yaml").write_text("\n".join([*lines, "nested:", "  on: on", "  y: Y", ""]))
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: echo hi\n    params:\n    - params.yaml:\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "params", cwd=repo)
    shown = dvc.json("exp", "show", cwd=repo)
    head = next(b for b in shown if b["rev"] != "workspace")
    expected = {f: v["data"] for f, v in head["data"]["params"].items()}
    with Repository.open(repo) as ours:
        got = ours.project_state(ours.head_sha()).params
    assert got == expected
    for key, value in expected["params.yaml"].items():  # types too: True is not 1
        assert type(got["params.yaml"][key]) is type(value), key
    differed = [k for k, (_, old) in TABLE.items() if old != expected["params.yaml"][k]]
    assert len(differed) >= 7, differed  # the table is worth its rows


def test_metrics_files_holding_one_value_as_dvc_shows_them(dvc: Dvc, tmp_path: Path) -> None:
    """A metrics file holding just 0.9917 (or a word): DVC shows it, exptui dropped it."""
    from tui.view import flat_metrics

    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    (repo / "acc.json").write_text("0.9917\n")
    (repo / "note.yaml").write_text("hello\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: echo hi\n    metrics:\n"
        "    - acc.json:\n        cache: false\n    - note.yaml:\n        cache: false\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "metrics", cwd=repo)
    head = next(b for b in dvc.json("exp", "show", cwd=repo) if b["rev"] != "workspace")
    expected = {f: v["data"] for f, v in head["data"]["metrics"].items()}
    assert expected == {"acc.json": 0.9917, "note.yaml": "hello"}
    with Repository.open(repo) as ours:
        state = ours.project_state(ours.head_sha())
    assert state.metrics == expected and state.warnings == []
    assert flat_metrics(state) == expected  # the tree's columns and the filter see them


def test_bare_params_of_a_nested_dvc_yaml_and_a_wdir_as_dvc_shows_them(
    dvc: Dvc, tmp_path: Path
) -> None:
    """Bare keys in a/dvc.yaml mean a/params.yaml (and in a stage with wdir: b, b's);
    exptui read them from the root params.yaml, so a/params.yaml was missing."""
    repo = tmp_path / "project"
    (repo / "a").mkdir(parents=True)
    (repo / "b").mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    (repo / "params.yaml").write_text("top: 1\n")
    (repo / "a" / "params.yaml").write_text("lr: 0.1\nother: 2\n")
    (repo / "b" / "params.yaml").write_text("depth: 3\nwidth: 4\n")
    (repo / "a" / "dvc.yaml").write_text("stages:\n  t:\n    cmd: echo a\n    params:\n    - lr\n")
    (repo / "dvc.yaml").write_text(
        "stages:\n  u:\n    cmd: echo b\n    wdir: b\n    params:\n    - depth\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "nested", cwd=repo)
    head = next(b for b in dvc.json("exp", "show", cwd=repo) if b["rev"] != "workspace")
    expected = {f: v["data"] for f, v in head["data"]["params"].items()}
    assert expected["a/params.yaml"] == {"lr": 0.1}  # only the declared key, as DVC
    with Repository.open(repo) as ours:
        assert ours.project_state(ours.head_sha()).params == expected


PYTHON_PARAMS = """\
import math

BATCH: int = 64
LR = 1e-3
UNSET: float
NAMES = ("a", "b")
A, B = 1, 2
COMPUTED = math.sqrt(4)


class Train:
    EPOCHS = 10
    optimizer: str = "adam"

    def __init__(self):
        self.depth = 4
        self.width: int = 8
        local = 5
        if local:
            self.hidden = 1

    class Schedule:
        STEPS = {"warmup": 100, "decay": 0.5}
"""


def test_python_params_files_as_dvc_reads_them(dvc: Dvc, tmp_path: Path) -> None:
    """Annotated assignments, class attributes and ``self.x`` in ``__init__``: exptui
    read only plain module-level assignments."""
    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    (repo / "config.py").write_text(PYTHON_PARAMS)
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: echo hi\n    params:\n    - config.py:\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "python params", cwd=repo)
    head = next(b for b in dvc.json("exp", "show", cwd=repo) if b["rev"] != "workspace")
    expected = {f: v["data"] for f, v in head["data"]["params"].items()}
    assert expected["config.py"]["BATCH"] == 64 and "Train" in expected["config.py"]
    with Repository.open(repo) as ours:
        assert ours.project_state(ours.head_sha()).params == expected


def test_metrics_inside_a_cached_directory_output(dvc: Dvc, tmp_path: Path) -> None:
    """example-get-started's layout: `outs: [eval]` and top-level `metrics:
    [eval/metrics.json]`. The file is in no commit, only in the cache under the .dir;
    exptui showed no metrics for it."""
    repo = tmp_path / "project"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    (repo / "params.yaml").write_text("auc: 0.5\n")
    (repo / "evaluate.py").write_text(
        "import json, os, yaml\n"
        "p = yaml.safe_load(open('params.yaml'))\n"
        "os.makedirs('eval', exist_ok=True)\n"
        "json.dump({'auc': p['auc'], 'n': 3}, open('eval/metrics.json', 'w'))\n"
        "open('eval/other.txt', 'w').write('x')\n"
    )
    (repo / "dvc.yaml").write_text(
        "stages:\n  evaluate:\n    cmd: python evaluate.py\n"
        "    params:\n    - auc\n    outs:\n    - eval\n"
        "metrics:\n- eval/metrics.json\n"
    )
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "evaluate", cwd=repo)
    dvc("exp", "run", "-q", "-n", "better", "-S", "auc=0.875", cwd=repo)
    shown = dvc_show(dvc, repo)
    with Repository.open(repo) as ours:
        (exp,) = ours.experiments()
        state = ours.project_state(exp.sha)
        assert "eval/metrics.json" not in ours.files_at(exp.sha).paths()  # cache only
    assert shown[exp.sha]["metrics"] == {"eval/metrics.json": {"auc": 0.875, "n": 3}}
    assert state.metrics == shown[exp.sha]["metrics"] and state.warnings == []


def test_values_inside_cached_outputs_are_fetched_for_unpulled_experiments(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DVCLive's layout: metrics and params inside a cached ``dvclive/``. A colleague
    peeking at the pushed experiment has none of its objects: dvc exp show fetches the
    small ones from the DVC remote, exptui showed nothing (and read the params from Git
    only, so not even after a pull)."""
    setup = shared_dvclive(dvc, tmp_path)
    expected = setup.expected
    assert expected["metrics"] == {"dvclive/metrics.json": {"loss": 0.75}}
    assert expected["params"]["dvclive/params.yaml"] == {"epochs": 3, "lr": 0.25}
    args = ["list", "shared", "--peek", "-A", "--json", "-C", str(setup.colleague)]
    assert main([*args, "--no-fetch"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["metrics"] == {} and "dvclive/params.yaml" not in record["params"]
    assert main(args) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert (record["params"], record["metrics"]) == (expected["params"], expected["metrics"])
    assert record["warnings"] == []
    cached = [p for p in (setup.colleague / ".dvc" / "cache").rglob("*") if p.is_file()]
    assert len(cached) == 3  # the manifest, metrics.json, params.yaml: not the model
    assert all(p.stat().st_size < 1000 for p in cached)


def test_a_backslash_in_a_file_name_is_a_name_not_an_escape(dvc: Dvc, tmp_path: Path) -> None:
    """On POSIX `data/a\\b.txt` is one file; DVC adds, pushes and applies it, and exptui
    refused the whole directory as 'outside the workspace'. `..` escapes stay refused."""
    from core.data.objects import parse_manifest
    from core.errors import UnsafePathError

    repo = tmp_path / "project"
    (repo / "data").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    dvc("init", "-q", cwd=repo)
    (repo / "data" / "a\\b.txt").write_text("one\n")
    (repo / "data" / "c.txt").write_text("two\n")
    dvc("add", "-q", "data", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "data", cwd=repo)
    with Repository.open(repo) as ours:
        (output,) = ours.project_state(ours.head_sha()).outputs
        assert output.oid is not None
        entries = ours.cache.read_manifest(output.oid)
    assert entries is not None and sorted(e.relpath for e in entries) == ["a\\b.txt", "c.txt"]
    with pytest.raises(UnsafePathError):
        parse_manifest(b'[{"md5": "' + b"0" * 32 + b'", "relpath": "../x"}]', "hostile")
