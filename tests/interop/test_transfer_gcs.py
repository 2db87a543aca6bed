"""The data phase against GCS (an emulator on 127.0.0.1): push, re-push, pull, no bucket."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import exp_objects, git, run_json
from tests.servers import gcs_emulator
from tui.cli import main

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")  # W1, before gcsfs loads


@pytest.fixture(scope="module")
def gcs_endpoint() -> Iterator[str]:
    with gcs_emulator() as endpoint:
        yield endpoint


def use_gcs(project: Path, endpoint: str, bucket: str) -> None:
    (project / ".dvc" / "config.local").write_text(
        f"['remote \"gcs\"']\n    url = gs://{bucket}/cache\n    endpointurl = {endpoint}\n"
        "    allow_anonymous_login = true\n    projectname = test\n"
    )


def test_push_repush_and_pull_through_gcs(
    gcs_endpoint: str, fresh_demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gcsfs

    bucket = f"b-{uuid.uuid4().hex[:12]}"
    fs = gcsfs.GCSFileSystem(
        endpoint_url=gcs_endpoint, token="anon", project="test", skip_instance_cache=True
    )
    fs.mkdir(bucket)
    use_gcs(fresh_demo, gcs_endpoint, bucket)
    args = ["push", "origin", "wide-net", "-r", "gcs", "-j", "4", "-C", str(fresh_demo)]
    code, result = run_json(capsys, *args)
    assert code == 0, result
    stored = {k.split("/files/md5/", 1)[1].replace("/", "") for k in fs.find(f"{bucket}/cache")}
    assert stored == exp_objects(fresh_demo, "wide-net")
    code, again = run_json(capsys, *args)
    assert code == 0 and again["uploaded"]["files"] == 0

    clone = tmp_path / "clone"
    git("clone", "-q", str(fresh_demo.parent / "origin.git"), str(clone), cwd=tmp_path)
    use_gcs(clone, gcs_endpoint, bucket)
    code, pulled = run_json(capsys, "pull", "origin", "wide-net", "-r", "gcs", "-C", str(clone))
    assert code == 0 and pulled["success"] == ["wide-net"]
    for oid in exp_objects(fresh_demo, "wide-net"):
        rel = Path("files/md5") / oid[:2] / oid[2:]
        assert (clone / ".dvc/cache" / rel).read_bytes() == (
            fresh_demo / ".dvc/cache" / rel
        ).read_bytes()


def test_missing_gcs_bucket_is_one_clear_error(
    gcs_endpoint: str, fresh_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    use_gcs(fresh_demo, gcs_endpoint, "no-such-bucket")
    assert main(["push", "origin", "tuned-lr", "-r", "gcs", "-C", str(fresh_demo)]) == 1
    err = capsys.readouterr().err
    assert "Bucket 'no-such-bucket'" in err and err.count("\n") == 1
