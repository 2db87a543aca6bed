"""DVC plots of one commit, as ``dvc plots show`` resolves them: definitions and points.

Definitions come from each resolved ``dvc.yaml`` (DVC's ``repo/plots``): top-level
``plots:`` entries (a data file, a directory whose every file becomes its own plot, or
a named plot whose ``y`` (and ``x``) map data files to columns, relative to that
``dvc.yaml``), and stage outputs listed under a stage's ``plots:``. Points follow DVC's
vega converter: a file's datapoints are its first list of records (JSON/YAML) or its
rows (CSV/TSV, values kept as the text DVC keeps), ``y`` defaults to the last column,
``x`` to the row index (``step``), and several ``y`` columns or files make one series
each. Images are listed with their sizes, never decoded.

Data files are someone else's bytes: each is parsed within :mod:`core.bounded`'s limits
and a plot keeps at most :data:`MAX_POINTS` points per series.
"""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from core.bounded import MAX_VALUES_BYTES, check_size, parse_within_limits
from core.errors import ExptuiError
from core.project.yaml12 import load_yaml12

PLOT_PROPS = ("x", "y", "template", "title", "x_label", "y_label", "header")
IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
DATA_SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".tsv")
INDEX = "step"  # DVC's x when none is given: the row's position
MAX_POINTS = 100_000
MAX_DATA_BYTES = 8 * MAX_VALUES_BYTES  # a long training history is larger than a metric


@dataclass(frozen=True)
class PlotDef:
    """A plot as declared: DVC's id (the data path for a path plot, else its name), the
    dvc.yaml it comes from, its properties (data paths repo-relative) and the paths it
    reads (files or directories)."""

    id: str
    config: str
    props: Mapping[str, Any]
    sources: tuple[str, ...]

    @property
    def named(self) -> bool:
        """A named plot (``y`` maps files to columns) rather than one per data file."""
        return isinstance(self.props.get("y"), Mapping)


@dataclass(frozen=True)
class Series:
    """One line: ``y`` of ``file`` against ``x``, as (x, y) pairs in file order."""

    file: str
    x: str
    y: str
    points: tuple[tuple[Any, Any], ...]


@dataclass
class PlotData:
    """A plot's points, resolved for one commit."""

    id: str
    props: Mapping[str, Any]
    series: list[Series] = field(default_factory=list)
    images: dict[str, int | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def x_label(self) -> str:
        label = self.props.get("x_label")
        return str(label) if label else (self.series[0].x if self.series else INDEX)

    @property
    def y_label(self) -> str:
        label = self.props.get("y_label")
        if label:
            return str(label)
        fields = {s.y for s in self.series}
        return fields.pop() if len(fields) == 1 else "y"


def as_number(value: Any) -> float | None:
    """A point's value as a finite number (CSV cells are text), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


# -- definitions --------------------------------------------------------------------------


def pipeline_plots(
    plots: list[Any], stages: Mapping[str, Mapping[str, Any]], base: str, config: str
) -> list[PlotDef]:
    """The plots one resolved ``dvc.yaml`` at ``config`` (in directory ``base``) declares."""
    found = [_top_level(name, props, base, config) for name, props in _named(plots)]
    for stage in stages.values():
        wdir = _join(base, str(stage.get("wdir") or "."))
        for path, props in _named(stage.get("plots") or []):
            data = _join(wdir or "", path) if wdir is not None else None
            if data is not None:
                kept = {k: v for k, v in (props or {}).items() if k in PLOT_PROPS}
                found.append(PlotDef(data, "", kept, (data,)))
    return [plot for plot in found if plot is not None]


def with_dvc_ids(plots: list[PlotDef]) -> list[PlotDef]:
    """Named plots as ``dvc plots show`` names them: by name, or ``<dvc.yaml>::<name>``
    when another dvc.yaml has a plot of the same name."""
    names = [p.id for p in plots if p.named]
    clashing = {name for name in names if names.count(name) > 1}
    return [
        replace(p, id=f"{p.config}::{p.id}") if p.named and p.id in clashing else p for p in plots
    ]


def _named(entries: Any) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
    """``[path, {name: props}]`` as (name, props or None), as DVC reads both forms."""
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            yield entry, None
        elif isinstance(entry, Mapping) and entry:
            name, props = next(iter(entry.items()))
            yield str(name), props if isinstance(props, Mapping) else None


def _top_level(
    name: str, props: Mapping[str, Any] | None, base: str, config: str
) -> PlotDef | None:
    props = dict(props or {})
    if not isinstance(props.get("y"), Mapping):  # a path plot: the name is its data
        data = _join(base, name)
        return PlotDef(data, config, props, (data,)) if data is not None else None
    rebased = dict(props)
    for axis in ("x", "y"):
        value = props.get(axis)
        if isinstance(value, Mapping):
            rebased[axis] = {
                _join(base, str(f)): v for f, v in value.items() if _join(base, str(f))
            }
    x = rebased.get("x")
    sources = tuple(dict.fromkeys([*rebased["y"], *(x if isinstance(x, Mapping) else {})]))
    return PlotDef(name, config, rebased, sources)


def _join(base: str, path: str) -> str | None:
    """``path`` from ``base``, normalised; None when it climbs out of the repository."""
    joined = posixpath.normpath(posixpath.join(base, path))
    return None if joined.startswith("../") or joined == ".." or joined.startswith("/") else joined


# -- data ---------------------------------------------------------------------------------


def resolve(definition: PlotDef, documents: Mapping[str, Any]) -> list[PlotData]:
    """Points of ``definition`` from the parsed ``documents`` (data path -> parsed file,
    or the bytes of an image). A path plot over a directory is one plot per file in it,
    as DVC shows it."""
    if definition.named:
        mine = {path: documents[path] for path in definition.sources if path in documents}
        return [_points(definition.id, definition.props, mine)]
    source = definition.sources[0]
    files = [p for p in documents if p == source or p.startswith(source + "/")]
    return [_points(path, definition.props, {path: documents[path]}) for path in sorted(files)]


def _points(plot_id: str, props: Mapping[str, Any], documents: Mapping[str, Any]) -> PlotData:
    plot = PlotData(plot_id, props)
    records: dict[str, list[dict[str, Any]]] = {}
    for path, document in documents.items():
        if path.lower().endswith(IMAGE_SUFFIXES):
            plot.images[path] = len(document) if isinstance(document, bytes) else None
        elif isinstance(document, ExptuiError):
            plot.problems.append(f"{path}: {document.message}")
        else:
            records[path] = datapoints(document)
    if plot.images and not records:
        return plot
    try:
        plot.series = _series(plot_id, props, records)
    except _NoField as exc:
        plot.problems.append(str(exc))
    return plot


class _NoField(Exception):
    pass


def _series(
    plot_id: str, props: Mapping[str, Any], records: Mapping[str, list[dict[str, Any]]]
) -> list[Series]:
    ys = _y_columns(plot_id, props.get("y"), records)
    x = props.get("x")
    xs = list(_columns(x)) if isinstance(x, Mapping) else []
    series = []
    for index, (y_file, y_field) in enumerate(ys):
        if y_file not in records:
            continue  # not read (a problem says why): no line rather than an empty one
        rows = records[y_file]
        _check(rows, y_file, y_field)
        if isinstance(x, str):
            x_file, x_field = y_file, x
        elif xs:
            x_file, x_field = xs[index] if len(xs) > 1 else xs[0]
        else:
            x_file, x_field = None, INDEX
        if x_file is None:
            x_values: list[Any] = list(range(len(rows)))
        else:
            x_rows = records.get(x_file, [])
            _check(x_rows, x_file, x_field)
            if len(x_rows) != len(rows):
                raise _NoField(
                    f"cannot join '{x_field}' from '{x_file}' and '{y_field}' from "
                    f"'{y_file}': they have different lengths"
                )
            x_values = [row.get(x_field) for row in x_rows]
        points = tuple((xv, row.get(y_field)) for xv, row in zip(x_values, rows, strict=False))
        series.append(Series(y_file, x_field, y_field, points[:MAX_POINTS]))
    return series


def _y_columns(
    plot_id: str, y: Any, records: Mapping[str, list[dict[str, Any]]]
) -> list[tuple[str, str]]:
    if y is None:  # DVC: the last column of the plot's own file
        rows = records.get(plot_id) or []
        return [(plot_id, list(rows[0])[-1])] if rows and rows[0] else []
    if not isinstance(y, Mapping):
        y = {plot_id: y}
    return list(_columns(y))


def _columns(axis: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for file, value in axis.items():
        for column in value if isinstance(value, list) else [value]:
            yield str(file), str(column)


def _check(rows: list[dict[str, Any]], file: str, column: str) -> None:
    if rows and column not in rows[0]:
        found = ", ".join(map(str, rows[0]))
        raise _NoField(f"{file}: no field '{column}' (its fields: {found})")


def datapoints(document: Any) -> list[dict[str, Any]]:
    """A parsed data file's records as DVC's converter finds them: every list of
    same-keyed records in it, merged by position."""
    result: list[dict[str, Any]] = []
    for records in _lists(document):
        if not records or not all(isinstance(r, Mapping) for r in records):
            continue
        if set(records[0]) != set().union(*records):
            continue  # records with different keys: DVC leaves them out too
        for index, record in enumerate(records[:MAX_POINTS]):
            if len(result) <= index:
                result.append({})
            result[index].update(record)
    return result


def _lists(document: Any) -> Iterator[list[Any]]:
    if isinstance(document, list):
        yield document
    elif isinstance(document, Mapping):
        for value in document.values():
            if isinstance(value, Mapping):
                yield from _lists(value)
            elif isinstance(value, list):
                yield value


def parse_data(path: str, data: bytes, header: bool = True) -> Any:
    """A plot data file by its extension, bounded: CSV/TSV rows as text (DVC keeps
    them so), JSON and YAML as parsed; raises :class:`ExptuiError` with the reason."""
    try:
        return _parse_data(path, data, header)
    except json.JSONDecodeError as exc:
        raise ExptuiError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    except yaml.MarkedYAMLError as exc:
        line = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise ExptuiError(f"not valid YAML: {exc.problem or exc.context}{line}") from exc
    except (ValueError, yaml.YAMLError, csv.Error) as exc:  # a limit, or the rest
        raise ExptuiError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


def _parse_data(path: str, data: bytes, header: bool) -> Any:
    check_size(data, MAX_DATA_BYTES)
    suffix = posixpath.splitext(path)[1].lower()
    if suffix not in DATA_SUFFIXES:
        raise ExptuiError(f"not a plot data file ({suffix or 'no extension'})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExptuiError("not UTF-8 text") from exc
    if suffix in (".csv", ".tsv"):
        return _rows(text, "\t" if suffix == ".tsv" else ",", header)
    if suffix == ".json":
        return parse_within_limits(lambda: json.loads(text))
    return parse_within_limits(lambda: load_yaml12(data))


def _rows(text: str, delimiter: str, header: bool) -> list[dict[str, str]]:
    if header:
        reader: Iterable[dict[str, str]] = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    else:
        first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        names = [str(i) for i in range(len(first))]
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter, fieldnames=names)
    return [dict(row) for _, row in zip(range(MAX_POINTS), reader, strict=False)]
