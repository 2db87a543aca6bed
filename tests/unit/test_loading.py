"""The app's loading phases, off the UI thread: they end when the app does."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_reading_details_stops_once_the_app_has_quit(demo_dir: Path) -> None:
    """After q the process waited for every commit's details (seconds at 10,000): the
    reading now ends at the next commit once its worker is cancelled."""
    from tui.view import CommitStates, commits_to_read, load_groups, read_details

    commits = commits_to_read(load_groups(demo_dir).groups)
    asked: list[int] = []

    def stopped_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2

    details = read_details(demo_dir, commits, CommitStates(), stopped_after_two)
    assert len(commits) > 3 and len(details.states) == 2
    assert len(read_details(demo_dir, commits, CommitStates()).states) == len(commits)


def test_the_first_screen_reads_only_the_first_rows_commit_headers(
    demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10,000 commit headers took a second before the first screen showed a row: phase
    one reads those of the first rows shown, phase two the rest, and the rows get them."""
    import tui.view as view

    monkeypatch.setattr(view, "HEADERS_AT_ONCE", 2)
    local = view.load_groups(demo_dir)
    rows = [row for group in local.groups for row in group.rows]
    assert len(rows) > 2 and all(row.present for row in rows)
    assert [row.info is not None for row in rows] == [True, True] + [False] * (len(rows) - 2)
    details = view.read_details(demo_dir, view.commits_to_read(local.groups), view.CommitStates())
    view.apply_details(local.groups, details)
    assert all(row.info is not None and row.info.sha == row.exp.sha for row in rows)
    assert all(row.state is not None for row in rows)


def test_a_fresh_listing_keeps_the_cached_rows_only_if_it_lays_out_the_same(
    fresh_demo: Path,
) -> None:
    """The second start draws the cached listing, then lists the remote again; the rows
    stand only when the fresh listing would draw exactly them."""
    from dataclasses import replace

    from tui.view import cached_remote, fetch_listing, still_current

    listing, error = fetch_listing(fresh_demo, "origin")  # peeks and saves the listing
    cached = cached_remote(fresh_demo, "origin")
    assert cached is not None and error is None
    assert still_current(cached, listing, error)
    assert not still_current(cached, listing, "peeking failed: the remote hung up")
    fewer = replace(listing, refs=dict(list(listing.refs.items())[1:]))
    assert not still_current(cached, fewer, None)
    moved = replace(listing, refs={ref: "0" * 40 for ref in listing.refs})
    assert not still_current(cached, moved, None)
    assert not still_current(cached, replace(listing, skipped=["refs/exps/bad"]), None)
    cached.groups[0].rows[0].present = False  # a commit peeking had not brought
    assert not still_current(cached, listing, None)
