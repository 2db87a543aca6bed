"""Sync badges: a glyph and a colour per state, so state never rests on colour alone."""

from __future__ import annotations

from core.data.datastate import DataState, DataStatus
from core.git.sync import SyncState

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


DATA_BADGES: dict[DataState, tuple[str, str, str]] = {
    DataState.COMPLETE: ("■", "green", "data complete on the DVC remote"),
    DataState.PARTIAL: ("◧", "yellow", "data partly on the DVC remote"),
    DataState.MISSING: ("□", "bold red", "data missing on the DVC remote (half-shared)"),
    DataState.NONE: (" ", "", "no cached outputs"),
    DataState.UNKNOWN: ("?", "dim", "DVC remote not checked or unreachable"),
}


DATA_PENDING = ("·", "dim", "data not checked yet")


def data_badge(status: DataStatus | None) -> tuple[str, str]:
    if status is None:
        return DATA_PENDING[0], DATA_PENDING[1]
    glyph, style, _ = DATA_BADGES[status.remote]
    return glyph, style
