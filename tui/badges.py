"""Sync badges: a glyph and a colour per state, so state never rests on colour alone."""

from __future__ import annotations

from core.gitsync import SyncState

BADGES: dict[SyncState, tuple[str, str, str]] = {
    SyncState.IN_SYNC: ("✓", "bold green", "in sync with the remote"),
    SyncState.LOCAL_ONLY: ("↑", "bold yellow", "local only: push shares it"),
    SyncState.REMOTE_ONLY: ("↓", "bold cyan", "remote only: pull brings it"),
    SyncState.AHEAD: ("⇡", "bold yellow", "ahead: push fast-forwards the remote"),
    SyncState.BEHIND: ("⇣", "bold cyan", "behind: pull fast-forwards it here"),
    SyncState.DIVERGED: ("≠", "bold red", "diverged: same name, different commits"),
}
UNKNOWN = ("·", "dim", "no remote listing yet")


def badge(state: SyncState | None) -> tuple[str, str]:
    glyph, style, _ = BADGES.get(state, UNKNOWN) if state else UNKNOWN
    return glyph, style
