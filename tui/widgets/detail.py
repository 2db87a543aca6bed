"""The detail panel: one experiment's params and metrics beside its baseline's, its outputs
with sizes, and where it lives (ref, commit, author, time)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.project.listing import iso_time
from tui.badges import badge
from tui.format import format_age, format_size, format_value, shown
from tui.keys import live_key
from tui.view import ExpRow, GroupView, flat_metrics, flat_params

CHANGED = "bold yellow"


def describe(
    row: ExpRow, group: GroupView | None, now: float, refresh_key: str = "R"
) -> RenderableType:
    """Everything known about ``row`` as one renderable (also used by the full screen)."""
    head = Table.grid(padding=(0, 1))
    head.add_column(style="dim", no_wrap=True)
    head.add_column(overflow="fold")
    head.add_row("experiment", Text(shown(row.exp.name), style="bold"))
    if group is not None:
        head.add_row("baseline", Text(f"{shown(group.group.label)} ({group.key[:7]})"))
    head.add_row("commit", Text(row.exp.sha))
    head.add_row("ref", Text(shown(row.key)))
    if row.sync is not None:
        glyph, style = badge(row.sync)
        head.add_row("sync", Text.assemble((glyph, style), f" {row.sync.value}"))
    if row.data is not None:
        remote = f"DVC remote '{shown(row.data.remote_name)}' {row.data.remote.value}"
        head.add_row("data", Text(f"local cache {row.data.local.value} · {remote}"))
    info = row.info
    if info is not None:
        head.add_row("author", Text(shown(info.author)))
        age = format_age(max(0.0, now - info.timestamp))
        head.add_row("created", Text(f"{iso_time(info.timestamp, info.tz_offset)} ({age} ago)"))
    parts: list[RenderableType] = [head]
    if info is None:
        parts.append(
            Text(
                f"\nnot fetched yet: {refresh_key} refreshes the remote and peeks at it",
                style="italic dim",
            )
        )
        return Group(*parts)
    if row.state is None:
        parts.append(Text("\nloading params and metrics…", style="italic dim"))
        return Group(*parts)
    base = group.state if group is not None else None
    base_metrics = flat_metrics(base) if base is not None else None
    base_params = flat_params(base) if base is not None else None
    parts.append(compare_values("metrics", flat_metrics(row.state), base_metrics))
    parts.append(compare_values("params", flat_params(row.state), base_params))
    parts.append(_outputs(row))
    if row.state.unresolved:
        lines = ["outputs unknown: push, pull and apply refuse it", *row.state.unresolved]
        parts.append(Text("\n" + "\n".join(map(shown, lines)), style="bold red"))
    if row.state.warnings:
        parts.append(Text("\n" + "\n".join(map(shown, row.state.warnings)), style="yellow"))
    return Group(*parts)


def compare_values(
    title: str,
    values: dict[str, object],
    baseline: dict[str, object] | None,
    headers: tuple[str, str] = ("value", "baseline"),
    only_changed: bool = False,
) -> RenderableType:
    """``values`` beside ``baseline``, changed ones highlighted (only those if asked: the
    way ``dvc exp diff`` shows two experiments)."""
    table = Table(title=title, title_justify="left", title_style="bold", expand=True, box=None)
    table.add_column("name", style="dim", overflow="fold")
    table.add_column(headers[0], justify="right", no_wrap=True)
    table.add_column(headers[1], justify="right", style="dim", no_wrap=True)
    names = list(values) + [n for n in baseline or {} if n not in values]
    if only_changed:
        names = [n for n in names if values.get(n) != (baseline or {}).get(n)]
    if not names:
        table.add_row(Text("no differences" if only_changed else "none", style="italic"), "", "")
    for name in names:
        value, before = values.get(name), (baseline or {}).get(name)
        changed = baseline is not None and before != value
        table.add_row(
            Text(shown(name)),
            Text(format_value(value), style=CHANGED if changed else ""),
            Text(format_value(before) if baseline is not None else ""),
        )
    return table


def _outputs(row: ExpRow) -> RenderableType:
    assert row.state is not None
    table = Table(title="outputs", title_justify="left", title_style="bold", expand=True, box=None)
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("", style="dim", no_wrap=True)
    for out in row.state.outputs:
        kind = "git" if not out.cache else (f"{out.nfiles} files" if out.is_dir else "cached")
        if out.cache and not out.push:
            kind += ", no push"
        if out.remote:
            kind += f", remote {shown(out.remote)}"
        table.add_row(Text(shown(out.path)), format_size(out.size), kind)
    table.add_row(Text("shared data", style="bold"), format_size(row.state.data_size), "")
    return table


class DetailPanel(VerticalScroll):
    """Shows :func:`describe` for the highlighted experiment, or a baseline summary."""

    DEFAULT_CSS = """
    DetailPanel { padding: 0 1; }
    """

    def __init__(self, clock: Callable[[], float] = time.time, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self._body = Static(Text("Highlight an experiment to see its details.", style="dim"))

    def compose(self):
        yield self._body

    def show_row(self, row: ExpRow, group: GroupView | None) -> None:
        self._body.update(describe(row, group, self.clock(), live_key(self, "refresh", "R")))

    def show_group(self, group: GroupView) -> None:
        lines = Text()
        lines.append(f"{shown(group.group.label)} ", style="bold")
        lines.append(f"{group.key}\n", style="dim")
        if group.info is not None:
            lines.append(shown(group.info.message.strip().splitlines()[0]) + "\n")
        lines.append(f"{len(group.rows)} experiments\n", style="dim")
        parts: list[RenderableType] = [lines]
        if group.state is not None:
            parts.append(compare_values("metrics", flat_metrics(group.state), None))
            parts.append(compare_values("params", flat_params(group.state), None))
        self._body.update(Group(*parts))
