"""The experiment tree: baselines as parents, experiments as leaves, with marks and columns.

A ``Tree`` rather than a ``DataTable``: it groups, and its line API keeps cursor moves and
marks O(1) however many experiments there are (TUI_GUIDE §2.1). Labels are ``Text`` built
here, never markup, so an experiment called ``exp[bold]`` shows as typed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from tui.badges import badge, data_badge
from tui.format import NumberColumn, format_age, shown
from tui.view import HEADERS_AT_ONCE, ExpRow, GroupView, distinct_states


@dataclass(frozen=True)
class MoreRows:
    """The last line of a group shown in part: how many rows are not in the tree yet."""

    group: GroupView
    shown: int

    @property
    def key(self) -> str:
        return f"{self.group.key}#more"

    @property
    def left(self) -> int:
        return len(self.group.rows) - self.shown


NodeData = ExpRow | GroupView | MoreRows
MARKED, UNMARKED = "● ", "○ "
NAME_WIDTH = 16
AGE_WIDTH = 4
MIN_VALUE_WIDTH = 6  # a column fits its widest value and its title, within these
MAX_VALUE_WIDTH = 12
GAP = "  "  # between metric columns: aligned numbers still read as separate columns
TREND_WIDTH = 17  # a 10-bar sparkline and the last value
EAGER_LIMIT = HEADERS_AT_ONCE  # expand every group when the whole tree is this small
ROW_PAGE = 2000  # rows a group adds to the tree at a time: the Tree redraws every line
_DRAWN_LATER = Text()  # a row's stored label: render_label builds the real one


class ExpTree(Tree[NodeData]):
    """Experiments grouped by baseline; ``space`` marks, ``enter`` opens details."""

    BINDINGS = [
        Binding("enter", "select_cursor", "Details", id="details"),
        Binding("space", "toggle_mark", "Mark", id="mark"),
        Binding("v", "mark_range", "Mark range", show=False, id="mark_range"),
        Binding("a", "mark_group", "Mark group", show=False, id="mark_group"),
        Binding("u", "clear_marks", "Clear marks", show=False, id="clear_marks"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g,home", "scroll_home", "First", show=False),
        Binding("G,end", "scroll_end", "Last", show=False),
        Binding("l,right", "expand_group", "Expand", show=False),
        Binding("h,left", "collapse_group", "Collapse", show=False),
    ]

    DEFAULT_CSS = """
    ExpTree { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    ExpTree > .exp-tree--mark { color: ansi_cyan; text-style: bold; }
    ExpTree > .exp-tree--name { text-style: bold; }
    ExpTree > .exp-tree--sha { text-style: dim; }
    ExpTree > .exp-tree--age { text-style: italic; }
    ExpTree > .exp-tree--trend { color: ansi_bright_cyan; }
    """
    COMPONENT_CLASSES = {
        "exp-tree--mark",
        "exp-tree--name",
        "exp-tree--sha",
        "exp-tree--age",
        "exp-tree--trend",
    }

    _batched = False  # nodes being added: one invalidation at the end (set before __init__ runs)

    show_sync: var[bool] = var(False)
    """Sync and data badges in front of each name (once a remote is listed)."""
    wanted_columns: var[list[str]] = var(list)
    """The metric columns asked for; :attr:`columns` are those that fit."""

    class MarksChanged(Message):
        """The marked set changed; the status line shows the count."""

        def __init__(self, tree: ExpTree) -> None:
            super().__init__()
            self.tree = tree

        @property
        def control(self) -> ExpTree:
            return self.tree

    def __init__(self, clock: Callable[[], float] = time.time, **kwargs: object) -> None:
        super().__init__("experiments", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.auto_expand = False
        self.guide_depth = 3
        self.clock = clock
        self.marked: set[str] = set()
        self._restoring: str | None = None  # the row a reload returns the cursor to
        self._part_styles: dict[str, Style] = {}
        self.name_width = NAME_WIDTH
        self.statuses: dict[str, tuple[str, str]] = {}  # ref -> (inline status, style)
        self.range_start: str | None = None  # the last row marked with space: where v starts
        self.row_count = 0  # experiments shown (after the app's filter)
        self.formats: dict[str, NumberColumn] = {}  # per metric column, fitted to its rows
        self._row_width: int | None = None  # every row's, until the layout changes
        self.trend: tuple[str, dict[str, str]] | None = None  # (metric, commit -> cell)

    # -- content -------------------------------------------------------------------------

    def show_groups(self, groups: Iterable[GroupView], columns: list[str]) -> None:
        """Replace the content; small trees open fully, large ones open HEAD's group only."""
        groups = list(groups)
        self.wanted_columns = columns
        names = [len(shown(r.exp.name)) for g in groups for r in g.rows]
        self.name_width = max([NAME_WIDTH, *names]) if names else NAME_WIDTH
        self.row_count = sum(len(g.rows) for g in groups)
        eager = self.row_count <= EAGER_LIMIT
        here = self._restoring or (
            self.cursor_node.data.key if self.cursor_node and self.cursor_node.data else None
        )
        self.clear()
        with self._adding():
            for group in groups:
                node = self.root.add(self.group_label(group), data=group, allow_expand=True)
                if eager or group.group.is_head:
                    self._fill(node)
                    node.expand()
        self._fit_columns()
        self.cursor_line = 0
        if here is not None:  # a reload keeps the cursor on the same row
            # Remembered until it lands: a second reload before the first one's refresh
            # (the watch and a listing back to back) would otherwise keep row 0.
            self._restoring = here
            self.call_after_refresh(self._move_to, here)

    def _move_to(self, key: str) -> None:
        self._restoring = None
        self._page_in(key)
        for node in self._all_nodes():
            if node.data is not None and node.data.key == key:
                self.move_cursor(node)
                return

    def _page_in(self, key: str) -> None:
        """Add the pages of an open group up to the row ``key``, so a reload returns the
        cursor to a row past the first page (it went back to the top)."""
        for group in self.root.children:
            last = group.children[-1] if group.children else None
            if last is None or not isinstance(last.data, MoreRows):
                continue
            keys = [row.key for row in last.data.group.rows]
            if key in keys:
                end = keys.index(key) + 1
                while isinstance(last.data, MoreRows) and last.data.shown < end:
                    self.show_more(last)
                    last = group.children[-1]
                return

    @property
    def columns(self) -> list[str]:
        """The metric columns that fit the tree's width (all of them before layout)."""
        if not self.size.width:
            return self.wanted_columns
        room = self.size.width - self.guide_depth - len(UNMARKED) - (3 if self.show_sync else 0)
        room -= self.name_width + 8 + AGE_WIDTH + 2  # sha, age, scrollbar
        room -= len(GAP) + TREND_WIDTH if self.trend is not None else 0  # asked for: kept
        fitting: list[str] = []
        for name in self.wanted_columns:
            room -= self.column_width(name) + len(GAP)
            if room < 0:
                break
            fitting.append(name)
        return fitting

    def column_width(self, name: str) -> int:
        """As wide as the column's widest value or its title, within bounds."""
        fitted = self.formats.get(name)
        width = max(len(shown(name)), fitted.width if fitted else 0)
        return max(MIN_VALUE_WIDTH, min(MAX_VALUE_WIDTH, width))

    def _fit_columns(self) -> None:
        """Each metric column's precision and width from every row it holds (drawn or
        not, so scrolling never changes them): one pass when values arrive, not per row."""
        self._row_width = None
        groups = [g.data for g in self.root.children if isinstance(g.data, GroupView)]
        rows = distinct_states(row for group in groups for row in group.rows)
        self.formats = {
            name: NumberColumn.fit(row.metric(name) for row in rows) for name in self.wanted_columns
        }

    def watch_show_sync(self) -> None:
        self.refresh_labels()

    def watch_wanted_columns(self) -> None:
        self.refresh_labels()

    def clear_statuses(self) -> None:
        """Drop every inline status (a batch ended, or the user refreshed)."""
        if self.statuses:
            self.statuses.clear()
            self.redraw_rows()

    def refresh_labels(self) -> None:
        """Redraw every label, e.g. once metrics have loaded. Rows build their label when
        drawn (:meth:`render_label`), so only the visible ones do any work: relabelling
        2,000 rows one by one took 0.2 s of the first screen."""
        self._fit_columns()
        for group in self.root.children:
            if isinstance(group.data, GroupView):
                label = self.group_label(group.data)
                if label != group.label:
                    group.set_label(label)
        self._invalidate()  # column widths may have changed: the tree's width with them

    def redraw_rows(self) -> None:
        """Drop the tree's cached lines: rows' labels come from their data when drawn,
        which the Tree's line cache cannot see change. Marks and statuses change no
        row's width, so the lines themselves (a walk over every row) are kept."""
        self._clear_line_cache()
        self.refresh()

    def set_statuses(self, updates: dict[str, tuple[str, str]]) -> None:
        """Inline row statuses during a batch: only rows whose status changed are
        relabelled, so a 4 Hz tick costs nothing for the rest of a large tree."""
        changed = {key for key, value in updates.items() if self.statuses.get(key) != value}
        if not changed:
            return
        self.statuses.update({key: updates[key] for key in changed})
        for node in self._all_nodes():
            if isinstance(node.data, ExpRow) and node.data.key in changed:
                node.refresh()

    def _all_nodes(self) -> Iterable[TreeNode[NodeData]]:
        for group in self.root.children:
            yield group
            yield from group.children

    def _fill(self, node: TreeNode[NodeData]) -> None:
        if node.children or not isinstance(node.data, GroupView):
            return
        self._add_page(node, node.data, 0)

    def _add_page(self, node: TreeNode[NodeData], group: GroupView, start: int) -> None:
        """Rows ``start`` to ``start + ROW_PAGE`` of a group, then a line saying how many
        are left. Textual's Tree lays out every line again on each change, so a group of
        100,000 rows added at once held the app (and q) for seconds, and again each time
        values arrived; a filter (/) finds any row whatever the page."""
        end = start + ROW_PAGE
        with self._adding():
            for row in group.rows[start:end]:
                node.add_leaf(_DRAWN_LATER, data=row)
            if end < len(group.rows):
                more = MoreRows(group, end)
                node.add_leaf(self._more_label(more), data=more)

    def _more_label(self, more: MoreRows) -> Text:
        page = min(ROW_PAGE, more.left)
        return Text(f"… {more.left} more: enter shows {page}, / filters", style="dim italic")

    def show_more(self, node: TreeNode[NodeData]) -> None:
        """enter on a group's last line: its next page of rows, the cursor staying there."""
        more, parent = node.data, node.parent
        if not isinstance(more, MoreRows) or parent is None:
            return
        line = self.cursor_line
        with self._adding():
            node.remove()
            self._add_page(parent, more.group, more.shown)
        self.cursor_line = line

    @contextmanager
    def _adding(self) -> Iterator[None]:
        """Add many nodes, then invalidate the tree once: each ``add`` invalidates it, and
        marking the widget dirty 10,000 times was half a second of a large first screen."""
        if self._batched:
            yield
            return
        self._batched = True
        try:
            yield
        finally:
            self._batched = False
            self._invalidate()

    def _invalidate(self) -> None:
        if not self._batched:
            super()._invalidate()

    def group_label(self, group: GroupView) -> Text:
        count = len(group.rows)
        noun = "experiment" if count == 1 else "experiments"
        label = shown(group.group.label)
        sha = "" if label == group.key[:7] else f" {group.key[:7]}"  # no "dd00f3b dd00f3b"
        return Text.assemble(
            (label, "bold"),
            (sha, "dim"),
            (" (HEAD)" if group.group.is_head else "", "bold cyan"),
            (f" · {count} {noun}", "dim"),
        )

    def row_label(self, row: ExpRow) -> Text:
        return Text.assemble(*self._row_parts(row))

    def _row_parts(self, row: ExpRow) -> list[tuple[str, str | Style]]:
        """The label's (text, style) pieces: assembled when drawn, measured for width."""
        age = _age(row, self.clock())
        parts: list[tuple[str, str | Style]] = []
        if self.show_sync:
            parts.append(badge(row.sync))
            glyph, style = data_badge(row.data)
            parts.append((f"{glyph} ", style))
        parts += [
            (shown(row.exp.name).ljust(self.name_width), self._part_style("name")),
            (f" {row.exp.sha[:7]}", self._part_style("sha")),
            (f" {age:>{AGE_WIDTH}}", self._part_style("age")),
        ]
        for name in self.columns:
            value, width = row.metric(name), self.column_width(name)
            fitted = self.formats.get(name) or NumberColumn.fit([value])
            shown_value = fitted(value) if value is not None else ""
            parts.append((f"{GAP}{shown_value:>{width}}", ""))
        if self.trend is not None:
            cell = self.trend[1].get(row.exp.sha, "")
            parts.append((f"{GAP}{cell:<{TREND_WIDTH}}", self._part_style("trend")))
        if row.key in self.statuses:
            status, style = self.statuses[row.key]
            parts.append((f" {status}", style))
        return parts

    def header(self) -> Text:
        """Column titles aligned with the leaves' labels."""
        indent = " " * (self.guide_depth + len(UNMARKED) + (3 if self.show_sync else 0))
        title = f"{indent}{'experiment'.ljust(self.name_width)} {'sha':7} {'age':>{AGE_WIDTH}}"
        text = Text(title)
        for name in self.columns:
            width = self.column_width(name)
            text.append(f"{GAP}{_clip(shown(name), width):>{width}}")
        if self.trend is not None:
            text.append(f"{GAP}{_clip(shown(self.trend[0]) + ' trend', TREND_WIDTH)}")
        text.stylize("bold dim")
        return text

    def render_label(self, node: TreeNode[NodeData], base_style: Style, style: Style) -> Text:
        row = node.data
        if not isinstance(row, ExpRow):
            return super().render_label(node, base_style, style)
        label = self.row_label(row)
        label.stylize(style)
        glyph = MARKED if row.key in self.marked else UNMARKED
        return Text.assemble((glyph, self._part_style("mark") if glyph == MARKED else ""), label)

    def _part_style(self, part: str) -> Style | str:
        """A label part's style from the ``exp-tree--<part>`` component class, so a theme
        or the app's CSS can restyle rows; plain text before the widget is styled. Kept
        until the styles change: every row's width is measured from its parts."""
        if not self.is_mounted:
            return ""
        if part not in self._part_styles:
            self._part_styles[part] = self.get_component_rich_style(
                f"exp-tree--{part}", partial=True
            )
        return self._part_styles[part]

    def notify_style_update(self) -> None:
        self._part_styles = {}
        super().notify_style_update()

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        """Every row is laid out in the same columns, so one width serves them all: the
        Tree asks for every line's width on each rebuild, drawn or not, and measuring
        10,000 rows' labels for that was half of a large tree's first screen. (An inline
        status can run past it; the tree clips rather than scrolls sideways.)"""
        if isinstance(node.data, ExpRow):
            if self._row_width is None:
                self._row_width = self.row_width()
            return self._row_width
        return super().get_label_width(node)

    def row_width(self) -> int:
        """The cells of an experiment's label, mark to last column."""
        width = len(UNMARKED) + (3 if self.show_sync else 0) + self.name_width
        width += 8 + 1 + AGE_WIDTH  # " sha", " age"
        width += sum(self.column_width(name) + len(GAP) for name in self.columns)
        return width + (len(GAP) + TREND_WIDTH if self.trend is not None else 0)

    def show_trend(self, trend: tuple[str, dict[str, str]] | None) -> None:
        """A column of one step metric's sparkline and last value per row, or none."""
        self.trend = trend
        self._row_width = None
        self._invalidate()

    def on_resize(self) -> None:
        self._row_width = None  # the columns that fit may change

    def process_label(self, label: str | Text) -> Text:
        """Rows are added with one shared placeholder that is never drawn: copying and
        splitting it for each of 10,000 rows was a fifth of a large tree's first screen."""
        return label if label is _DRAWN_LATER else super().process_label(label)

    # -- actions -------------------------------------------------------------------------

    @property
    def current_row(self) -> ExpRow | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, ExpRow) else None

    @property
    def current_group(self) -> GroupView | None:
        node = self.cursor_node
        if node is None:
            return None
        if isinstance(node.data, GroupView):
            return node.data
        parent = node.parent
        return parent.data if parent is not None and isinstance(parent.data, GroupView) else None

    def action_toggle_mark(self) -> None:
        row = self.current_row
        if row is None:
            return
        self.marked.symmetric_difference_update({row.key})
        self.range_start = row.key
        if self.cursor_node is not None:
            self.cursor_node.refresh()
        self.post_message(self.MarksChanged(self))
        self.action_cursor_down()

    def action_mark_range(self) -> None:
        """v: mark every visible row from the last one marked with space to the cursor."""
        row = self.current_row
        if row is None:
            return
        keys = [n.data.key for n in self._visible_leaves()]  # type: ignore[union-attr]
        start = keys.index(self.range_start) if self.range_start in keys else keys.index(row.key)
        end = keys.index(row.key)
        low, high = sorted((start, end))
        self._set_marks(keys[low : high + 1], True)

    def action_mark_group(self) -> None:
        """a: mark the whole baseline group under the cursor, or unmark it if all are."""
        group = self.current_group
        if group is None:
            return
        keys = [r.key for r in group.rows]
        self._set_marks(keys, not set(keys) <= self.marked)

    def _set_marks(self, keys: list[str], on: bool) -> None:
        if on:
            self.marked.update(keys)
        else:
            self.marked.difference_update(keys)
        self.redraw_rows()
        self.post_message(self.MarksChanged(self))

    def _visible_leaves(self) -> list[TreeNode[NodeData]]:
        return [
            leaf
            for group in self.root.children
            if group.is_expanded
            for leaf in group.children
            if isinstance(leaf.data, ExpRow)
        ]

    def first_row(self) -> bool:
        """Put the cursor on the first experiment shown; False when there is none."""
        for group in self.root.children:
            self._fill(group)
            if group.children:
                group.expand()
                self.call_after_refresh(self.move_cursor, group.children[0])
                return True
        return False

    def action_clear_marks(self) -> None:
        self.marked.clear()
        self.redraw_rows()
        self.post_message(self.MarksChanged(self))

    def action_expand_group(self) -> None:
        node = self.cursor_node
        if node is not None and isinstance(node.data, GroupView):
            self._fill(node)
            node.expand()

    def action_collapse_group(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if not isinstance(node.data, GroupView) and node.parent is not None:
            self.move_cursor(node.parent)
            node = node.parent
        node.collapse()

    def toggle_group(self, node: TreeNode[NodeData]) -> None:
        self._fill(node)
        node.toggle()


def _age(row: ExpRow, now: float) -> str:
    """The row's age; "…" while its header is being read, "?" for a commit not here."""
    if row.info is not None:
        return format_age(max(0.0, now - row.info.timestamp))
    return "…" if row.present else "?"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]
