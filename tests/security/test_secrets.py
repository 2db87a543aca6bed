"""A password in a remote URL is used, never shown or written down: every output channel
and every file exptui writes is searched for it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.message import Message
from textual.widgets import OptionList

from tests.helpers import git, toasts_once_shown
from tests.servers import free_port, http_git
from tui.app import ExptuiApp

SECRET = "hunter2-s3cret"


def run(project: Path, *args: str) -> str:
    """One exptui command; everything it printed, both streams."""
    done = subprocess.run(
        [sys.executable, "-m", "tui", *args], cwd=project, capture_output=True, text=True
    )
    return done.stdout + done.stderr


def written_since(root: Path, start: float, skip: set[Path]) -> dict[Path, bytes]:
    """Every file below ``root`` changed since ``start``, except the user's own configs."""
    return {
        path: path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and path.stat().st_mtime >= start
        and path not in skip
    }


@pytest.mark.slow
def test_passwords_in_remote_urls_never_reach_output_or_disk(fresh_demo: Path) -> None:
    start = time.time() - 1
    dvc_local = fresh_demo / ".dvc" / "config.local"
    dead = free_port()
    dvc_local.write_text(f"['remote \"box\"']\n    url = ssh://bob:{SECRET}@127.0.0.1:{dead}/st\n")
    outputs = []
    with http_git(fresh_demo.parent, users={"alice": SECRET}) as (base, _state):
        url = base.replace("http://", f"http://alice:{SECRET}@") + "/origin.git"
        git("remote", "set-url", "origin", url, cwd=fresh_demo)
        for args in (
            ["list", "origin", "-A"],
            ["list", "origin", "-A", "--json", "--peek"],
            ["push", "origin", "quick-test", "--dry-run"],
            ["push", "origin", "quick-test", "--dry-run", "--json"],
            ["pull", "origin", "alice-drop", "--json"],
            ["push", "origin", "quick-test", "-r", "box"],
        ):
            outputs.append(run(fresh_demo, *args))
    assert "alice-drop" in outputs[1] and "http://alice:***@127.0.0.1" in outputs[3]
    assert "ssh://bob:***@127.0.0.1" in outputs[5]  # the unreachable DVC remote, named
    git("remote", "set-url", "origin", f"https://{SECRET}@127.0.0.1:{dead}/x.git", cwd=fresh_demo)
    outputs.append(run(fresh_demo, "list", "origin"))
    assert "https://***@127.0.0.1" in outputs[-1]
    for printed in outputs:
        assert SECRET not in printed, printed
    user_configs = {fresh_demo / ".git" / "config", dvc_local}
    files = written_since(fresh_demo.parent, start, user_configs)
    assert any("exptui" in str(p) for p in files)  # the listing cache was written
    assert not [p for p, data in files.items() if SECRET.encode() in data]


async def test_the_app_never_shows_a_password(fresh_demo: Path) -> None:
    url = f"http://alice:{SECRET}@127.0.0.1:{free_port()}/x.git"
    git("remote", "set-url", "origin", url, cwd=fresh_demo)
    messages: list[Message] = []
    app = ExptuiApp(fresh_demo)
    async with app.run_test(size=(130, 36), message_hook=messages.append) as pilot:
        toasts = await toasts_once_shown(pilot, messages)
        assert toasts and all(SECRET not in t.message + t.title for t in toasts)
        assert "alice:***@" in " ".join(t.message for t in toasts)
        await pilot.press("r")  # the remote picker lists URLs
        await pilot.pause(0.2)
        picker = app.screen.query_one(OptionList)
        shown = [str(picker.get_option_at_index(i).prompt) for i in range(picker.option_count)]
        assert any("alice:***@" in text for text in shown)
        assert not any(SECRET in text for text in shown)


def test_a_malformed_config_local_is_reported_without_quoting_its_secret(
    fresh_demo: Path,
) -> None:
    """configobj quotes the line it cannot parse; in config.local that is a password."""
    local = f"['remote \"box\"']\n    url = ssh://bob@host/st\n    password {SECRET}\n"
    (fresh_demo / ".dvc" / "config.local").write_text(local)  # '=' missing: line 3
    printed = run(fresh_demo, "push", "origin", "quick-test", "-r", "box", "--dry-run")
    assert "Cannot parse DVC config" in printed and "at line 3" in printed
    assert SECRET not in printed
