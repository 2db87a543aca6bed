"""The app's loading phases, off the UI thread: they end when the app does."""

from __future__ import annotations

from pathlib import Path


def test_reading_details_stops_once_the_app_has_quit(demo_dir: Path) -> None:
    """After q the process waited for every commit's details (seconds at 10,000): the
    reading now ends at the next commit once its worker is cancelled."""
    from tui.view import CommitStates, commits_to_read, load_groups, read_states

    commits = commits_to_read(load_groups(demo_dir).groups)
    asked: list[int] = []

    def stopped_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    states = read_states(demo_dir, commits, CommitStates(), stopped_after_two)
    assert len(commits) > 3 and len(states) == 2
    assert len(read_states(demo_dir, commits, CommitStates())) == len(commits)
