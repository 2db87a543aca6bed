"""dvc.yaml templating resolved as DVC's ``dvc/parsing`` resolves it; the interop tests
check the same against real ``dvc exp show/push``, these pin each rule and each refusal."""

from __future__ import annotations

from typing import Any

import pytest

from core.project.dvcfiles import parse_yaml, read_project
from core.project.templating import MAX_GENERATED_STAGES, resolve_pipeline
from tests.unit.test_dvcfiles import DictFiles

PARAMS = {
    "params.yaml": {"out": "o", "lr": 0.001, "on": True, "models": [{"n": "a"}, {"n": "b"}]},
    "cfg.yaml": {"train": {"dir": "res", "epochs": 3}, "other": 1},
}


def resolve(text: str, files: dict[str, Any] | None = None, base: str = "") -> Any:
    store = PARAMS if files is None else files
    return resolve_pipeline(parse_yaml(text.encode()), base, store.get)


def test_plain_interpolation_keeps_types_and_concatenates_text() -> None:
    done = resolve(
        "stages:\n  s:\n    cmd: run ${lr} ${on} \\${kept}\n    outs:\n    - ${out}/a.txt\n"
        "    - ${models[1].n}.bin\n    meta:\n      flag: ${on}\n      rate: ${ lr }\n"
    )
    assert done.errors == []
    stage = done.stages["s"]
    assert stage["cmd"] == "run 0.001 true ${kept}"
    assert stage["outs"] == ["o/a.txt", "b.bin"]
    assert stage["meta"] == {"flag": True, "rate": 0.001}  # one ${...} keeps its type


def test_vars_files_keys_and_inline_mappings_and_tracked_values() -> None:
    done = resolve(
        "vars:\n- cfg.yaml:train\n- tag: v1\nstages:\n  s:\n    cmd: x ${tag}\n"
        "    outs:\n    - ${train.dir}/${out}\n"
    )
    assert done.stages["s"]["outs"] == ["res/o"] and done.stages["s"]["cmd"] == "x v1"
    # dvc exp show lists values taken from vars files (params.yaml is shown whole anyway)
    assert done.tracked == {"cfg.yaml": {"train.dir": "res"}, "params.yaml": {"out": "o"}}


def test_foreach_over_lists_mappings_and_params_and_matrix_names() -> None:
    done = resolve(
        "stages:\n"
        "  each:\n    foreach: [x, y]\n    do:\n      cmd: ${item}\n"
        "  dicts:\n    foreach: {small: 1, big: 2}\n    do:\n      cmd: ${key}=${item}\n"
        "  models:\n    foreach: ${models}\n    do:\n      cmd: ${item.n}\n"
        "  grid:\n    matrix:\n      m: [x, y]\n      k: [1, true]\n      c: [{a: 1}]\n"
        "    cmd: ${key} ${item.m}\n"
    )
    assert done.errors == []
    assert {n: s["cmd"] for n, s in done.stages.items()} == {
        "each@x": "x",
        "each@y": "y",
        "dicts@small": "small=1",
        "dicts@big": "big=2",
        "models@0": "a",  # a list of mappings is named by index
        "models@1": "b",
        "grid@x-1-c0": "x-1-c0 x",
        "grid@x-true-c0": "x-true-c0 x",
        "grid@y-1-c0": "y-1-c0 y",
        "grid@y-true-c0": "y-true-c0 y",
    }


def test_a_boolean_from_a_params_file_names_its_stage_as_dvc_does() -> None:
    """DVC names ``foreach: ${flags}`` stages by Python's str() of the wrapped value."""
    done = resolve(
        "stages:\n  s:\n    foreach: ${flags}\n    do:\n      cmd: echo ${item}\n",
        {"params.yaml": {"flags": [True, False]}},
    )
    assert list(done.stages) == ["s@True", "s@False"]
    assert done.stages["s@True"]["cmd"] == "echo true"


def test_stage_wdir_and_stage_vars_are_relative_to_it() -> None:
    files = {**PARAMS, "sub/w/local.yaml": {"name": "n1"}}
    done = resolve(
        "stages:\n  s:\n    wdir: w\n    vars: [local.yaml, {extra: 2}]\n"
        "    cmd: ${name} ${extra}\n",
        files,
        base="sub",
    )
    assert done.errors == [] and done.stages["s"]["cmd"] == "n1 2"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("stages:\n  s:\n    cmd: ${missing}\n", "Could not find 'missing'"),
        ("stages:\n  s:\n    cmd: ${models[5].n}\n", "Could not find 'models[5].n'"),
        ("stages:\n  s:\n    cmd: ${a..b}\n", "invalid expression"),
        ("stages:\n  s:\n    outs:\n    - ${models}\n", "Cannot interpolate data of type 'list'"),
        ("vars: [{lr: 2}]\nstages: {}\n", "cannot redefine 'lr'"),
        ("vars: [cfg.yaml:nope]\nstages: {}\n", "could not find 'nope' in 'cfg.yaml'"),
        ("vars: [missing.yaml]\nstages: {}\n", "'missing.yaml' does not exist"),
        ("vars: [../../etc/passwd]\nstages: {}\n", "outside the repository"),
        ("vars: [{a: '${lr}'}]\nstages: {}\n", "interpolating is not allowed"),
        ("vars: [cfg.yaml, cfg.yaml:other]\nstages: {}\n", "cannot partially load"),
        ("stages:\n  s:\n    foreach: ${lr}\n    do: {cmd: x}\n", "expected list/dictionary"),
        ("stages:\n  s:\n    foreach: [1]\n    do:\n      vars: [{item: 2}]\n", "reserved key"),
    ],
)
def test_what_dvc_refuses_is_an_error_naming_the_place(text: str, reason: str) -> None:
    done = resolve(text)
    assert done.errors and reason in done.errors[0], done.errors


def test_hostile_expansion_is_refused_not_computed() -> None:
    axes = "".join(f"      a{i}: [{', '.join(str(j) for j in range(10))}]\n" for i in range(10))
    done = resolve(f"stages:\n  s:\n    matrix:\n{axes}    cmd: x\n")
    assert done.stages == {} and f"more than {MAX_GENERATED_STAGES:,} stages" in done.errors[0]
    big = {"params.yaml": {"big": "x" * (1 << 20)}}
    outs = "".join("    - ${big}\n" for _ in range(100))
    done = resolve(f"stages:\n  s:\n    cmd: x\n    outs:\n{outs}", big)
    assert "templating expands beyond" in done.errors[0]


def lock_for(stages: dict[str, list[str]]) -> str:
    body = "".join(
        f"  {name}:\n    cmd: x\n    outs:\n"
        + "".join(
            f"    - path: {p}\n      hash: md5\n      md5: {chr(96 + i) * 32}\n      size: 1\n"
            for i, p in enumerate(paths, 1)
        )
        for name, paths in stages.items()
    )
    return f"schema: '2.0'\nstages:\n{body}"


def test_templated_outputs_keep_their_flags_and_stale_lock_entries_are_ignored() -> None:
    files = DictFiles(
        {
            "params.yaml": "dir: out\nnames: [a, b]\n",
            "dvc.yaml": "stages:\n  make:\n    cmd: x\n    outs:\n    - ${dir}/m.bin\n"
            "  each:\n    foreach: ${names}\n    do:\n      cmd: x\n      outs:\n"
            "      - ${item}.bin:\n          push: false\n      - ${item}.tmp:\n"
            "          cache: false\n",
            "dvc.lock": lock_for(
                {
                    "make": ["out/m.bin"],
                    "each@a": ["a.bin", "a.tmp"],
                    "each@b": ["b.bin", "b.tmp"],
                    "each@gone": ["gone.bin"],  # a stage dvc.yaml no longer makes
                }
            ),
        }
    )
    state = read_project(files)
    flags = {o.path: (o.cache, o.push) for o in state.outputs}
    assert flags == {
        "out/m.bin": (True, True),
        "a.bin": (True, False),
        "a.tmp": (False, True),
        "b.bin": (True, False),
        "b.tmp": (False, True),
    }
    assert state.unresolved == []


def test_an_unresolvable_pipeline_is_unresolved_not_silently_smaller() -> None:
    files = DictFiles(
        {
            "dvc.yaml": "stages:\n  make:\n    cmd: x\n    outs:\n    - ${dir}/m.bin\n",
            "dvc.lock": lock_for({"make": ["out/m.bin"]}),
        }
    )
    state = read_project(files)
    assert state.outputs == []
    assert state.unresolved == ["dvc.yaml: stage 'make': 'stages.make.outs': Could not find 'dir'"]


def test_a_pipeline_without_templating_reads_the_same_without_resolving() -> None:
    doc = parse_yaml(
        b"stages:\n  s:\n    cmd: x\n    wdir: w\n    outs: [a, {b: {cache: false}}]\n"
        b"  t:\n    cmd: y\nmetrics: [m.json]\nparams: [p.json]\nplots: [{c: {x: s}}]\n"
    )
    resolved = resolve_pipeline(doc, "", PARAMS.get)
    assert resolve_pipeline(doc, "", PARAMS.get, templated=False) == resolved
    broken = {"params.yaml": ["not", "a", "mapping"]}
    for templated in (True, False):
        done = resolve_pipeline(doc, "", broken.get, templated=templated)
        assert done.stages == {} and "expected a dictionary, got 'list'" in done.errors[0]
