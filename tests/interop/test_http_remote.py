"""HTTP(S) DVC remotes, against a real HTTP server on 127.0.0.1 and real DVC as the peer:
what dvc exp push uploaded over HTTP, exptui pulls, peeks and applies; what exptui uploads
(with the remote's ``method``), dvc exp pull accepts; credentials as DVC reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import Dvc, git
from tests.servers import StorageServerState, http_storage
from tui.cli import main

pytestmark = pytest.mark.dvc

TRAIN = """\
import os
lr = open("params.yaml").read().split(":")[1].strip()
os.makedirs("model", exist_ok=True)
open("model/weights.bin", "wb").write(os.urandom(20_000))
open("model/lr.txt", "w").write(lr)
open("metrics.json", "w").write('{"loss": %s}' % lr)
"""


@dataclass(frozen=True)
class HttpProject:
    project: Path
    shared: Path  # the bare Git remote both tools share
    url: str
    server: StorageServerState


@pytest.fixture
def http_project(dvc: Dvc, tmp_path: Path) -> Iterator[HttpProject]:
    """A project whose default DVC remote is an HTTP server with basic auth and PUT
    uploads, credentials in config.local, one experiment pushed there by dvc."""
    with http_storage(tmp_path / "served", users={"ann": "s3cret"}) as (url, server):
        repo = tmp_path / "project"
        repo.mkdir()
        git("init", "-q", "-b", "main", cwd=repo)
        dvc("init", "-q", cwd=repo)
        dvc("remote", "add", "-d", "storage", url, cwd=repo)
        dvc("remote", "modify", "storage", "auth", "basic", cwd=repo)
        dvc("remote", "modify", "storage", "method", "PUT", cwd=repo)
        dvc("remote", "modify", "--local", "storage", "user", "ann", cwd=repo)
        dvc("remote", "modify", "--local", "storage", "password", "s3cret", cwd=repo)
        (repo / "params.yaml").write_text("lr: 0.1\n")
        (repo / "train.py").write_text(TRAIN)
        (repo / "dvc.yaml").write_text(
            "stages:\n  train:\n    cmd: python train.py\n    params: [lr]\n"
            "    outs: [model]\n    metrics:\n    - metrics.json:\n        cache: false\n"
        )
        git("add", "-A", cwd=repo)
        git("commit", "-qm", "baseline", cwd=repo)
        shared = tmp_path / "shared.git"
        git("init", "-q", "--bare", str(shared), cwd=tmp_path)
        git("remote", "add", "shared", str(shared), cwd=repo)
        dvc("exp", "run", "-q", "-n", "by-dvc", "-S", "lr=0.2", cwd=repo)
        dvc("exp", "push", "shared", "by-dvc", cwd=repo)
        yield HttpProject(repo, shared, url, server)


def clone(setup: HttpProject, dvc: Dvc, where: Path) -> Path:
    git("clone", "-q", str(setup.project), str(where), cwd=where.parent)
    git("remote", "add", "shared", str(setup.shared), cwd=where)
    dvc("remote", "modify", "--local", "storage", "user", "ann", cwd=where)
    dvc("remote", "modify", "--local", "storage", "password", "s3cret", cwd=where)
    return where


def cached(project: Path) -> dict[str, bytes]:
    root = project / ".dvc" / "cache"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_pull_and_apply_what_dvc_pushed_over_http(
    dvc: Dvc, http_project: HttpProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours, theirs = (
        clone(http_project, dvc, tmp_path / "ours"),
        clone(http_project, dvc, tmp_path / "theirs"),
    )
    dvc("exp", "pull", "shared", "by-dvc", cwd=theirs)
    assert main(["pull", "shared", "by-dvc", "-C", str(ours)]) == 0, capsys.readouterr().err
    assert len(cached(theirs)) == 3  # the .dir and its two files
    assert cached(ours) == cached(theirs)
    assert main(["apply", "by-dvc", "-C", str(ours)]) == 0, capsys.readouterr().err
    assert (ours / "model" / "lr.txt").read_text() == "0.2"
    assert "up to date" in dvc("status", cwd=ours)


def test_dvc_pulls_what_exptui_pushed_over_http(
    dvc: Dvc, http_project: HttpProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = http_project.project
    dvc("exp", "run", "-q", "-n", "by-exptui", "-S", "lr=0.3", cwd=project)
    before = http_project.server.requests["PUT 201"]
    assert main(["push", "shared", "by-exptui", "-C", str(project)]) == 0, capsys.readouterr()
    assert http_project.server.requests["PUT 201"] == before + 3  # method PUT, as configured
    theirs = clone(http_project, dvc, tmp_path / "theirs")
    dvc("exp", "pull", "shared", "by-exptui", cwd=theirs)
    dvc("exp", "apply", "by-exptui", cwd=theirs)
    assert (theirs / "model" / "lr.txt").read_text() == "0.3"
    assert "up to date" in dvc("status", cwd=theirs)


def test_a_wrong_password_is_one_line_and_moves_nothing(
    dvc: Dvc, http_project: HttpProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = clone(http_project, dvc, tmp_path / "ours")
    dvc("remote", "modify", "--local", "storage", "password", "wrong", cwd=ours)
    capsys.readouterr()
    assert main(["pull", "shared", "by-dvc", "-C", str(ours)]) == 1
    err = capsys.readouterr().err
    assert "refused the credentials (HTTP 401)" in err and "Traceback" not in err
    assert "wrong" not in err and "s3cret" not in err
    assert "by-dvc" not in git("for-each-ref", "refs/exps", cwd=ours)
    assert cached(ours) == {}


def test_a_custom_auth_header_reaches_the_server_and_peek_reads_values(
    dvc: Dvc, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``auth: custom``: the password goes in the named header, as dvc-http sends it."""
    with http_storage(tmp_path / "served", header=("X-Token", "t0ken")) as (url, server):
        repo = tmp_path / "project"
        repo.mkdir()
        git("init", "-q", "-b", "main", cwd=repo)
        dvc("init", "-q", cwd=repo)
        dvc("remote", "add", "-d", "storage", url, cwd=repo)
        for option, value in (("auth", "custom"), ("custom_auth_header", "X-Token")):
            dvc("remote", "modify", "storage", option, value, cwd=repo)
        dvc("remote", "modify", "--local", "storage", "password", "t0ken", cwd=repo)
        (repo / "params.yaml").write_text("lr: 0.1\n")
        (repo / "evaluate.py").write_text(
            "import os\nos.makedirs('eval', exist_ok=True)\n"
            "open('eval/metrics.json', 'w').write('{\"acc\": 0.5}')\n"
        )
        (repo / "dvc.yaml").write_text(
            "stages:\n  train:\n    cmd: python evaluate.py\n    params: [lr]\n"
            "    outs: [eval]\nmetrics: [eval/metrics.json]\n"
        )
        git("add", "-A", cwd=repo)
        git("commit", "-qm", "baseline", cwd=repo)
        shared = tmp_path / "shared.git"
        git("init", "-q", "--bare", str(shared), cwd=tmp_path)
        dvc("exp", "run", "-q", "-n", "scored", cwd=repo)
        dvc("exp", "push", str(shared), "scored", cwd=repo)
        colleague = tmp_path / "colleague"
        git("clone", "-q", str(repo), str(colleague), cwd=tmp_path)
        dvc("remote", "modify", "--local", "storage", "password", "t0ken", cwd=colleague)
        args = ["list", str(shared), "--peek", "-A", "--json", "-C", str(colleague)]
        assert main(args) == 0, capsys.readouterr().err
        (record,) = json.loads(capsys.readouterr().out)
        assert record["metrics"] == {"eval/metrics.json": {"acc": 0.5}}
        assert server.requests["GET 200"] >= 2 and server.requests["GET 401"] == 0
