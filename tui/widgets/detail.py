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
from tui.format import NumberColumn, format_age, format_size, shown
from tui.keys import live_key
from tui.view import ExpRow, GroupView, flat_metrics, flat_params

CHANGED = "bold yellow"
SIDE_BY_SIDE_FROM = 100  # metrics and params tables next to each other from this width
NAME_MIN = 16  # a value's name folds only past this width


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
    if not row.present:
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


def summary(row: ExpRow, group: GroupView | None, now: float, width: int) -> RenderableType:
    """The highlighted experiment in the room a short tree leaves: who, when, where its
    data is, and its metrics and params beside the baseline's, side by side when
    ``width`` allows, else metrics first."""
    line = Text.assemble((shown(row.exp.name), "bold"), (f" {row.exp.sha[:7]}", "dim"))
    if row.sync is not None:
        glyph, style = badge(row.sync)
        line.append_text(Text.assemble("  ", (glyph, style), f" {row.sync.value}"))
    if row.info is not None:
        age = format_age(max(0.0, now - row.info.timestamp))
        line.append(f"  {shown(row.info.author)}, {age} ago", style="dim")
    parts: list[RenderableType] = [line]
    if row.data is not None:
        parts.append(
            Text(
                f"data: local cache {row.data.local.value} · DVC remote "
                f"'{shown(row.data.remote_name)}' {row.data.remote.value}",
                style="dim",
            )
        )
    if row.state is None:
        parts.append(Text("params and metrics not loaded yet", style="italic dim"))
        return Group(*parts)
    base = group.state if group is not None else None
    tables = (
        compare_values("metrics", flat_metrics(row.state), flat_metrics(base) if base else None),
        compare_values("params", flat_params(row.state), flat_params(base) if base else None),
    )
    if width >= SIDE_BY_SIDE_FROM:
        side = Table.grid(padding=(0, 3))
        side.add_row(*tables)
        parts.append(side)
    else:
        parts += tables
    if row.state.unresolved:
        parts.append(Text("outputs unknown: push, pull and apply refuse it", style="bold red"))
    return Group(*parts)


def compare_values(
    title: str,
    values: dict[str, object],
    baseline: dict[str, object] | None,
    headers: tuple[str, str] = ("value", "baseline"),
    only_changed: bool = False,
) -> RenderableType:
    """``values`` beside ``baseline`` and the change, changed ones highlighted (only those
    if asked: the way ``dvc exp diff`` shows two experiments). A compact table, numbers
    aligned on their decimal point, so a value sits next to its name at any width."""
    table = Table(title=title, title_justify="left", title_style="bold", box=None, pad_edge=False)
    before_all = baseline or {}
    names = list(values) + [n for n in before_all if n not in values]
    if only_changed:
        names = [n for n in names if values.get(n) != before_all.get(n)]
    longest = max((len(shown(n)) for n in names), default=4)
    table.add_column("name", style="dim", overflow="fold", min_width=min(longest, NAME_MIN))
    table.add_column(headers[0], justify="right", no_wrap=True)
    if baseline is not None:
        table.add_column(headers[1], justify="right", style="dim", no_wrap=True)
        table.add_column("change", justify="right", no_wrap=True)
    if not names:
        table.add_row(Text("no differences" if only_changed else "none", style="italic"))
    numbers = NumberColumn.fit(
        [*(values.get(n) for n in names), *(before_all.get(n) for n in names)]
    )
    for name in names:
        value, before = values.get(name), before_all.get(name)
        cells = [Text(shown(name)), Text(numbers(value))]
        if baseline is not None:
            changed = before != value
            cells[1].stylize(CHANGED if changed else "")
            change = numbers.change(before, value) if changed else ""
            if changed and not change:
                change = "new" if name not in before_all else "changed"
            cells += [Text(numbers(before)), Text(change, style=CHANGED)]
        table.add_row(*cells)
    return table


def _outputs(row: ExpRow) -> RenderableType:
    assert row.state is not None
    table = Table(
        title="outputs", title_justify="left", title_style="bold", box=None, pad_edge=False
    )
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
    shared = [o for o in row.state.outputs if o.is_shared]
    manifests = sum(1 for o in shared if o.is_dir)
    # The files' total from the lock; a push or pull also moves each directory's
    # manifest, which is why its plan can say a little more: said, not hidden.
    note = f"+ {manifests} manifest{'s' if manifests != 1 else ''}" if manifests else ""
    table.add_row(Text("shared data", style="bold"), format_size(row.state.data_size), note)
    return table


class DetailPanel(VerticalScroll):
    """Shows :func:`describe` for the highlighted experiment, or a baseline summary."""

    DEFAULT_CSS = """
    DetailPanel { padding: 0 1; }
    """

    def __init__(
        self, clock: Callable[[], float] = time.time, compact: bool = False, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.compact = compact  # the summary under short trees rather than everything
        self._body = Static(Text("Highlight an experiment to see its details.", style="dim"))
        self._row: tuple[ExpRow, GroupView | None] | None = None  # shown now, if a row

    def on_resize(self) -> None:
        """The summary lays its tables out for the width: redo it when that changes."""
        if self.compact and self._row is not None:
            self.show_row(*self._row)

    def compose(self):
        yield self._body

    def show_row(self, row: ExpRow, group: GroupView | None) -> None:
        self._row = (row, group)
        if self.compact:
            self._body.update(summary(row, group, self.clock(), self.size.width))
        else:
            self._body.update(describe(row, group, self.clock(), live_key(self, "refresh", "R")))

    def show_group(self, group: GroupView) -> None:
        self._row = None
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
