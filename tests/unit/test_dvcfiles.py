"""Reading pipelines, lock files and .dvc files from a snapshot, including hostile ones."""

from __future__ import annotations

from collections.abc import Iterable

from core.data.objects import ManifestEntry, serialize_manifest
from core.project.dvcfiles import flatten, read_project

MD5 = "d3b07384d113edec49eaa6238ad5ff00"


class DictFiles:
    """A FileSource over a dict: what a tree would hold."""

    def __init__(self, files: dict[str, str | bytes]) -> None:
        self.files = {p: d.encode() if isinstance(d, str) else d for p, d in files.items()}

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def paths(self) -> Iterable[str]:
        return sorted(self.files)


def lock(outs: str, stage: str = "t") -> str:
    return f"schema: '2.0'\nstages:\n  {stage}:\n    cmd: x\n    outs:\n{outs}"


def test_wdir_and_subdir_pipelines_give_repo_relative_paths() -> None:
    files = DictFiles(
        {
            "sub/dvc.yaml": "stages:\n  s:\n    wdir: work\n    cmd: x\n    outs:\n    - out.bin\n",
            "sub/dvc.lock": lock(
                f"    - path: out.bin\n      hash: md5\n      md5: {MD5}\n      size: 3\n", "s"
            ),
        }
    )
    (out,) = read_project(files).outputs
    assert out.path == "sub/work/out.bin" and not out.legacy and out.size == 3


def test_legacy_outputs_have_no_hash_key() -> None:
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    outs:\n    - m\n",
            "dvc.lock": lock(f"    - path: m\n      md5: {MD5}\n"),
        }
    )
    assert read_project(files).outputs[0].legacy


def test_hostile_paths_leave_the_outputs_unresolved() -> None:
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    outs: [../../etc/passwd, /abs, ok]\n",
            "dvc.lock": lock(
                f"    - path: ../../etc/passwd\n      md5: {MD5}\n"
                f"    - path: /abs\n      md5: {MD5}\n"
                f"    - path: ok\n      md5: ../../x\n"
            ),
            "evil.dvc": f"outs:\n- path: ../outside\n  md5: {MD5}\n",
        }
    )
    state = read_project(files)
    assert state.outputs == []
    assert len(state.unresolved) == 4 and all("unsafe" in w for w in state.unresolved)


def test_dvc_files_imports_and_dvcignore() -> None:
    files = DictFiles(
        {
            ".dvcignore": "ignored/\n",
            "data.dvc": f"outs:\n- md5: {MD5}\n  size: 6\n  hash: md5\n  path: data\n"
            "  remote: Other\n",
            "ext.dvc": f"deps:\n- path: x\n  repo:\n    url: https://example.com/r\nouts:\n"
            f"- md5: {MD5}\n  hash: md5\n  path: ext\n",
            "ignored/skip.dvc": f"outs:\n- md5: {MD5}\n  path: skip\n",
            ".dvc/config.dvc": f"outs:\n- md5: {MD5}\n  path: never\n",
        }
    )
    outputs = {o.path: o for o in read_project(files).outputs}
    assert set(outputs) == {"data", "ext"}
    assert outputs["data"].remote == "other"
    assert outputs["ext"].is_import and not outputs["ext"].is_shared


def test_params_formats_and_declared_keys() -> None:
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    params:\n    - lr\n    - cfg.toml:\n"
            "      - opt.beta\n    - hp.py:\n    - whole.json:\n"
            "params:\n- top.json\n",
            "params.yaml": "lr: 0.1\nunused: 2\n",
            "cfg.toml": "[opt]\nbeta = 0.9\ngamma = 1\n",
            "hp.py": "DEPTH = 3\nNAME = 'x'\ncomputed = len('abc')\n",
            "whole.json": '{"a": {"b": 1}}',
            "top.json": '{"z": 1}',
        }
    )
    params = read_project(files).params
    assert params["params.yaml"] == {"lr": 0.1, "unused": 2}  # always whole
    assert params["cfg.toml"] == {"opt": {"beta": 0.9}}  # only the declared key
    assert params["hp.py"] == {"DEPTH": 3, "NAME": "x"}
    assert params["whole.json"] == {"a": {"b": 1}}
    assert params["top.json"] == {"z": 1}


def test_metrics_from_git_directories_and_from_the_cache() -> None:
    manifest = serialize_manifest([ManifestEntry("a.json", "a" * 32)])
    cache = {
        ("f" * 32, False): b'{"auc": 0.7, "tags": ["x"]}',
        ("a" * 32, False): b'{"k": 1}',
        ("b" * 32, False): manifest,
    }
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    metrics:\n    - m.json\n    - dirm\n"
            "metrics:\n- gitdir\n",
            "dvc.lock": lock(
                f"    - path: m.json\n      hash: md5\n      md5: {'f' * 32}\n"
                f"    - path: dirm\n      hash: md5\n      md5: {'b' * 32}.dir\n"
            ),
            "gitdir/x.yaml": "loss: {val: 0.2}\n",
        }
    )
    manifest_key = ("b" * 32 + ".dir", False)
    cache[manifest_key] = manifest
    state = read_project(files, lambda oid, legacy: cache.get((oid, legacy)))
    assert state.metrics["m.json"] == {"auc": 0.7}  # lists are not metrics
    assert state.metrics["gitdir/x.yaml"] == {"loss": {"val": 0.2}}
    assert state.metrics["dirm/a.json"] == {"k": 1}


def test_missing_cached_metric_and_bad_yaml_are_notes_not_crashes() -> None:
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    metrics:\n    - m.json\n",
            "dvc.lock": lock(f"    - path: m.json\n      hash: md5\n      md5: {MD5}\n"),
        }
    )
    state = read_project(files, lambda oid, legacy: None)
    assert state.metrics == {} and any("m.json" in w for w in state.warnings)
    assert state.unresolved == []
    files.files["params.yaml"] = b"a: [unclosed\n"
    state = read_project(files, lambda oid, legacy: None)
    assert state.params == {} and any("params.yaml" in w for w in state.warnings)
    # DVC loads params.yaml to resolve templating, so the pipeline is unknown too.
    assert any("params.yaml" in w for w in state.unresolved), state.unresolved


def test_flatten_makes_dotted_keys() -> None:
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_lock_entries_the_pipeline_no_longer_declares_are_ignored_as_by_dvc() -> None:
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  t:\n    cmd: x\n    outs:\n    - kept\n",
            "dvc.lock": lock(
                f"    - path: kept\n      md5: {MD5}\n    - path: stale\n      md5: {MD5}\n"
            )
            + f"  gone:\n    cmd: y\n    outs:\n    - path: old\n      md5: {MD5}\n",
        }
    )
    assert [o.path for o in read_project(files).outputs] == ["kept"]


def test_yaml_is_read_as_yaml_1_2_like_dvc() -> None:
    """DVC reads YAML 1.2 (ruamel); PyYAML's 1.1 rules made ``1e-3`` a string, ``yes`` a
    boolean and ``0777`` octal. (Checked against real DVC in tests/interop.)"""
    import datetime

    from core.project.dvcfiles import parse_yaml

    text = (
        b"lr: 1e-3\nlr2: 1.0e-3\nflag: yes\noff: no\nwhen: 2024-01-02\nversion: 0o17\n"
        b"anchor: &a {x: 1}\nalias: *a\nempty:\nnan: .nan\nstr: '0.1'\nmode: 0777\n"
        b"time: 1:30\nbig: 5E-4\nyes_bool: true\n"
    )
    parsed = parse_yaml(text)
    assert parsed["lr"] == 0.001 and parsed["lr2"] == 0.001 and parsed["big"] == 0.0005
    assert parsed["flag"] == "yes" and parsed["off"] == "no" and parsed["yes_bool"] is True
    assert parsed["version"] == 15 and parsed["mode"] == 777 and parsed["time"] == "1:30"
    assert parsed["when"] == datetime.date(2024, 1, 2) and parsed["alias"] == {"x": 1}
    assert parsed["empty"] is None and parsed["nan"] != parsed["nan"] and parsed["str"] == "0.1"
