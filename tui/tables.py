"""The tables of ``exptui show`` and ``exptui diff``, as values: one shape rendered as a
rich table on a terminal, JSON, CSV or Markdown, like ``dvc exp show`` / ``dvc exp diff``.

Columns are metrics then params, named by key, or ``file:key`` when the table holds more
than one file of that kind (so a column means the same thing on every row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.project.dvcfiles import ProjectState, flatten
from tui.format import NumberColumn, format_value, shown

INFO = ("Experiment", "rev", "Created")


@dataclass(frozen=True)
class Table:
    columns: list[str]
    kinds: list[str]  # per column: "info", "metric" or "param"
    rows: list[list[Any]]  # raw values; None where a row has none

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def fitted(self, width: int) -> tuple[Table, int]:
        """The leading columns that fit ``width`` terminal cells whole (the info columns
        always), and how many were left out: a cut-off value reads as another number."""
        kept: list[int] = []
        used = 0
        for index, column in enumerate(self.columns):
            cells = [len(_plain(row[index])) for row in self.rows]
            need = max([len(shown(column)), *cells]) + (2 if kept else 0)
            if self.kinds[index] != "info" and used + need > width:
                break
            kept.append(index)
            used += need
        table = Table(
            [self.columns[i] for i in kept],
            [self.kinds[i] for i in kept],
            [[row[i] for i in kept] for row in self.rows],
        )
        return table, len(self.columns) - len(kept)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([shown(c) for c in self.columns])
        writer.writerows([["" if v is None else _plain(v) for v in row] for row in self.rows])
        return out.getvalue()

    def to_markdown(self) -> str:
        def cell(value: Any) -> str:
            return "" if value is None else _plain(value).replace("|", "\\|")

        aligned = ["---:" if kind != "info" else ":---" for kind in self.kinds]
        lines = ["| " + " | ".join(cell(shown(c)) for c in self.columns) + " |"]
        lines.append("|" + "|".join(aligned) + "|")
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


def _plain(value: Any) -> str:
    """A cell as text: values as the app shows them, booleans lower-case like YAML."""
    return format_value(value)


def value_columns(states: Iterable[ProjectState], kind: str) -> dict[str, tuple[str, str]]:
    """Column name -> (file, dotted key) for every value of ``kind`` in ``states``, first
    seen first."""
    found: dict[tuple[str, str], None] = {}
    for state in states:
        for file, values in getattr(state, kind).items():
            keys = flatten(values) if isinstance(values, Mapping) else {"": values}
            found.update(dict.fromkeys((file, key) for key in keys))
    several = len({file for file, _ in found}) > 1
    return {_column(file, key, several): (file, key) for file, key in found}


def _column(file: str, key: str, several: bool) -> str:
    if not key:  # a file holding one value is its own column
        return file
    return f"{file}:{key}" if several else key


def cell(state: ProjectState | None, kind: str, where: tuple[str, str]) -> Any:
    if state is None:
        return None
    values = getattr(state, kind).get(where[0])
    if not isinstance(values, Mapping):
        return values if not where[1] else None
    return flatten(values).get(where[1])


def show_table(rows: list[tuple[str, str, str, ProjectState | None]]) -> Table:
    """``rows``: (experiment label, rev, created, state) in display order."""
    states = [state for *_, state in rows if state is not None]
    metrics, params = value_columns(states, "metrics"), value_columns(states, "params")
    columns = [*INFO, *metrics, *params]
    kinds = ["info"] * len(INFO) + ["metric"] * len(metrics) + ["param"] * len(params)
    body = [
        [
            name,
            rev,
            created,
            *(cell(state, "metrics", where) for where in metrics.values()),
            *(cell(state, "params", where) for where in params.values()),
        ]
        for name, rev, created, state in rows
    ]
    return Table(columns, kinds, body)


def diff_table(old: ProjectState, new: ProjectState, every: bool = False) -> Table:
    """What ``dvc exp diff`` prints: per changed metric and param, both values and, for
    numbers, the change; ``every`` keeps the unchanged ones too."""
    body: list[list[Any]] = []
    for kind in ("metrics", "params"):
        for where in value_columns([old, new], kind).values():
            before, after = cell(old, kind, where), cell(new, kind, where)
            if before == after and not every:
                continue
            change = _change(before, after)
            body.append([kind[:-1], where[0], where[1] or where[0], before, after, change])
    return Table(
        ["Type", "Path", "Key", "Old", "New", "Change"],
        ["info", "info", "info", "metric", "metric", "metric"],
        body,
    )


def _change(before: Any, after: Any) -> Any:
    numbers = (int, float)
    if isinstance(before, bool) or isinstance(after, bool):
        return None
    if isinstance(before, numbers) and isinstance(after, numbers):
        return after - before
    return None


def table_renderable(table: Table) -> Any:
    """A rich table for a terminal: info columns left, values right-aligned on their
    decimal point with one precision per column, metrics before params as the app's
    trees show them; missing values as ``-`` (dvc shows the same)."""
    from rich.table import Table as RichTable
    from rich.text import Text

    styles = {"info": "", "metric": "bold", "param": "cyan"}
    shown_table = RichTable(box=None, header_style="bold dim", pad_edge=False)
    for column, kind in zip(table.columns, table.kinds, strict=True):
        shown_table.add_column(
            shown(column),  # names come from someone's files: control characters escaped
            justify="left" if kind == "info" else "right",
            style=styles[kind],
            no_wrap=True,  # one line per experiment
        )
    formats = [
        NumberColumn.fit(row[index] for row in table.rows) if kind != "info" else None
        for index, kind in enumerate(table.kinds)
    ]
    for row in table.rows:
        shown_table.add_row(
            *(
                Text("-" if v is None else (form(v) if form else _plain(v)))
                for v, form in zip(row, formats, strict=True)
            )
        )
    return shown_table
