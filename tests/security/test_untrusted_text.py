"""Names and values from someone else's remote or commit: refs Git would refuse are skipped
and never stored, and control characters never reach the terminal, from the CLI or the app."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import exptui_in_a_terminal, git
from tests.security.hostile import FILE, hostile_experiment, small_project
from tui.cli import main

PAYLOAD = "\x1b]0;pwned\x07\x1b[2J\u202e\x9b"
RAW_CONTROLS = (b"\x1b]0;pwned", b"pwned\x07", b"\xe2\x80\xae", b"\xc2\x9b")
HOSTILE_NAMES = [
    "title\x1b]0;pwned\x07",
    "clear\x1b[2J",
    "with space",
    "dot..dot",
    "trailing.lock",
    "x" * 300,
]


@pytest.fixture
def remote_with_hostile_refs(tmp_path: Path) -> tuple[Path, Path, str]:
    """A bare remote advertising one good experiment and refs no Git would write (put in
    its packed-refs by hand, as a hostile server or a broken tool can)."""
    project = small_project(tmp_path)
    sha = hostile_experiment(project, "good")
    head = git("rev-parse", "HEAD", cwd=project).strip()
    remote = tmp_path / "remote.git"
    git("clone", "-q", "--bare", str(project), str(remote), cwd=tmp_path)
    git("push", "-q", str(remote), f"refs/exps/{head[:2]}/{head[2:]}/good", cwd=project)
    git("update-ref", "-d", f"refs/exps/{head[:2]}/{head[2:]}/good", cwd=project)
    prefix = f"refs/exps/{head[:2]}/{head[2:]}"
    lines = [f"{sha} {prefix}/{name}\n" for name in HOSTILE_NAMES]
    lines.append(f"{'z' * 40} {prefix}/not-a-sha\n")
    with open(remote / "packed-refs", "a", encoding="utf-8") as packed:
        packed.writelines(lines)
    return project, remote, sha


def test_hostile_ref_names_are_skipped_in_one_escaped_line(
    remote_with_hostile_refs: tuple[Path, Path, str], capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    project, remote, _sha = remote_with_hostile_refs
    assert main(["list", str(remote), "-A", "-C", str(project)]) == 0
    out, err = capfdbinary.readouterr()
    assert b"good" in out and b"pwned" not in out and b"not-a-sha" not in out
    assert (
        err.count(b"\n") == 1
        and b"skipped malformed experiment refs on " in err
        and b": 6 (first: " in err
    )
    assert b"\x1b" not in out + err


@pytest.mark.parametrize("command", [["list", "--peek"], ["pull"]])
def test_hostile_ref_names_never_reach_the_local_repository(
    remote_with_hostile_refs: tuple[Path, Path, str], command: list[str]
) -> None:
    project, remote, _sha = remote_with_hostile_refs
    args = [command[0], str(remote), *command[1:], "-A", "-C", str(project)]
    assert main(args) == 0
    refs = git("for-each-ref", "--format=%(refname)", cwd=project)
    assert "good" in refs and not any(name[:5] in refs for name in HOSTILE_NAMES)
    git("gc", "-q", cwd=project)  # fails on a packed-refs line Git cannot parse
    git("fetch", "-q", str(remote), "refs/heads/*:refs/remotes/r/*", cwd=project)


def test_json_keeps_values_exact_with_no_raw_control_byte(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    project = small_project(tmp_path)
    params = json.dumps({"note": PAYLOAD}).encode()
    hostile_experiment(
        project,
        "exp",
        {
            "params.json": (FILE, params),
            "dvc.yaml": (
                FILE,
                (b"stages:\n  train:\n    cmd: python train.py\n    params:\n    - params.json:\n"),
            ),
        },
    )
    assert main(["list", "-A", "--json", "-C", str(project)]) == 0
    out = capfdbinary.readouterr().out
    assert not any(raw in out for raw in RAW_CONTROLS) and b"\x1b" not in out
    assert json.loads(out)[0]["params"]["params.json"]["note"] == PAYLOAD


@pytest.mark.slow
def test_the_app_shows_control_characters_and_never_sends_them(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    params = f"lr: 0.1\nnote: {json.dumps(PAYLOAD)}\n".encode()
    pipeline = b"stages:\n  train:\n    cmd: python train.py\n    params:\n    - lr\n    - note\n"
    hostile_experiment(
        project, "odd\u202ename", {"params.yaml": (FILE, params), "dvc.yaml": (FILE, pipeline)}
    )
    with exptui_in_a_terminal(str(project), "--no-mouse") as term:
        term.wait_for("odd")
        term.keys(b"j")
        screen = ""
        for _ in range(30):  # the details, full screen at 80 columns, once params loaded
            time.sleep(0.4)  # a lone ESC is told from a sequence by a short pause
            term.keys(b"\r")
            try:
                screen = term.wait_for("pwned", timeout=2)
                break
            except AssertionError:  # opened while "loading params and metrics…"
                term.keys(b"\x1b")
        assert "\\u001b]0;pwned" in screen and "odd\\u202ename" in screen
        assert not any(raw in term.received for raw in RAW_CONTROLS), term.received[-2000:]
        term.keys(b"\x1b")
        time.sleep(0.3)
        term.keys(b"q")
        assert term.exit_code() == 0


def test_a_commit_git_refuses_to_check_out_is_named_escaped(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """The refusal quotes the hostile path: quoted, it must not act on the terminal."""
    project = small_project(tmp_path)
    hostile_experiment(project, "evil", {"\x1b]0;pwned\x07/.git/config": (FILE, b"")})
    done = subprocess.run(
        ["python", "-m", "tui", "apply", "evil"], cwd=project, capture_output=True
    )
    assert done.returncode == 1 and b"Refusing to apply" in done.stderr
    assert not any(raw in done.stderr + done.stdout for raw in RAW_CONTROLS)


async def test_the_remote_pane_skips_hostile_refs_with_one_toast(
    remote_with_hostile_refs: tuple[Path, Path, str],
) -> None:
    from textual.message import Message

    from tests.helpers import rows, toasts_once_shown
    from tui.app import ExptuiApp

    project, remote, _sha = remote_with_hostile_refs
    git("remote", "add", "shared", str(remote), cwd=project)
    messages: list[Message] = []
    app = ExptuiApp(project, remote="shared")
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        toasts = await toasts_once_shown(pilot, messages)
        for _ in range(100):
            if rows(app.main.remote_tree):
                break
            await pilot.pause(0.05)
        assert list(rows(app.main.remote_tree)) and all(
            "good" in k for k in rows(app.main.remote_tree)
        )
        skipped = [t.message for t in toasts if "malformed experiment refs" in t.message]
        assert len(skipped) == 1 and "\x1b" not in skipped[0] and ": 6 (first: " in skipped[0]
