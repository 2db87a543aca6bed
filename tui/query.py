"""What ``/`` filters by and ``s`` sorts by: a small language over rows' names, params and
metrics, so a user can type ``acc>0.9 lr=0.01 drop`` and see only those experiments.

A query is words that must all match. A word with an operator (``>= <= != > < = ~``)
compares a field: ``name``, ``sha``, or a param or metric by its dotted key, by a
unique last part of it (``lr`` for ``train.lr``), or by a unique prefix (``acc`` for
``accuracy``); a field no row has gets a hint with the closest keys. Numbers compare as
numbers; ``~`` is "contains". A word without an operator must appear in the name
(case-insensitive).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from tui.view import ExpRow, GroupView, flat_metrics, flat_params

_TERM = re.compile(r"^([^<>=!~]+?)\s*(>=|<=|!=|>|<|=|~)\s*(.*)$")


class QueryError(ValueError):
    """A word the filter cannot use; the message says which and why."""


@dataclass(frozen=True)
class Term:
    field: str | None  # None: a plain word, matched against the name
    operator: str
    value: str


def parse(text: str) -> list[Term]:
    """Words of a query; an operator without a field or a value is an error."""
    terms = []
    for word in text.split():
        match = _TERM.match(word)
        if match is None:
            if word[0] in "<>=!~":
                raise QueryError(f"'{word}' compares nothing: write e.g. acc>0.9")
            terms.append(Term(None, "~", word))
            continue
        field, operator, value = match.groups()
        if not value:
            raise QueryError(f"'{word}' needs a value after '{operator}'")
        terms.append(Term(field, operator, value))
    return terms


def fields(row: ExpRow) -> dict[str, object]:
    """Everything a query can name on a row: metrics win over params of the same key."""
    values: dict[str, object] = {"name": row.exp.name, "sha": row.exp.sha}
    if row.state is not None:
        values.update(flat_params(row.state))
        values.update(flat_metrics(row.state))
    return values


def lookup(values: dict[str, object], field: str) -> object:
    """A field's value by the key :func:`resolve` finds, else None."""
    key = resolve(values.keys(), field)
    return values[key] if key is not None else None


def resolve(keys: Iterable[str], field: str) -> str | None:
    """The key ``field`` names: the full dotted key, else the one key whose last part is
    ``field`` (``lr`` for train.lr), else the one key whose last part or whole starts
    with it (``acc`` for accuracy). Ambiguous or unknown: None."""
    keys = list(keys)
    if field in keys:
        return field
    for found in (
        [k for k in keys if k.rsplit(".", 1)[-1] == field],
        [k for k in keys if k.rsplit(".", 1)[-1].startswith(field) or k.startswith(field)],
    ):
        if len(found) == 1:
            return found[0]
        if found:
            return None  # ambiguous: several keys fit, none is chosen for the user
    return None


def unknown_fields(terms: list[Term], keys: Iterable[str]) -> list[str]:
    """One hint per field no row has, with the closest keys that exist, e.g.
    "no field 'acuracy' (closest: accuracy)"; an ambiguous prefix lists what it fits."""
    keys = sorted(set(keys))
    hints = []
    for term in terms:
        if term.field is None or resolve(keys, term.field) is not None:
            continue
        fits = [k for k in keys if k.rsplit(".", 1)[-1].startswith(term.field)]
        if len(fits) > 1:
            hints.append(f"'{term.field}' fits {', '.join(fits[:4])}: type more")
            continue
        tails = {k.rsplit(".", 1)[-1]: k for k in keys}
        close = difflib.get_close_matches(term.field, list(tails) + keys, n=3, cutoff=0.5)
        named = list(dict.fromkeys(tails.get(c, c) for c in close))
        hints.append(
            f"no field '{term.field}'" + (f" (closest: {', '.join(named)})" if named else "")
        )
    return hints


def matches(row: ExpRow, terms: list[Term]) -> bool:
    values = fields(row) if any(t.field for t in terms) else {}
    return all(_holds(row, values, term) for term in terms)


def _holds(row: ExpRow, values: dict[str, object], term: Term) -> bool:
    if term.field is None:
        return term.value.lower() in row.exp.name.lower()
    actual = lookup(values, term.field)
    if actual is None:
        return False
    if term.operator == "~":
        return term.value.lower() in str(actual).lower()
    left, right = _number(actual), _number(term.value)
    if left is None or right is None:  # text: only equality makes sense
        same = str(actual) == term.value
        return same if term.operator == "=" else (not same if term.operator == "!=" else False)
    return {
        ">=": left >= right,
        "<=": left <= right,
        "!=": left != right,
        ">": left > right,
        "<": left < right,
        "=": left == right,
    }[term.operator]


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def shape(
    groups: Iterable[GroupView], terms: list[Term], sort_by: str | None = None
) -> list[GroupView]:
    """Groups with only their matching rows (empty groups dropped when filtering), rows
    ordered by ``sort_by`` (highest first, rows without it last) or left as they were.
    Unshaped, the groups themselves come back: copies would not see details loaded
    into the originals later."""
    if not terms and sort_by is None:
        return list(groups)
    shaped = []
    for group in groups:
        rows = [row for row in group.rows if matches(row, terms)] if terms else list(group.rows)
        if terms and not rows:
            continue
        shaped.append(replace(group, rows=sort_rows(rows, sort_by)))
    return shaped


def sort_rows(rows: list[ExpRow], sort_by: str | None) -> list[ExpRow]:
    if sort_by is None:
        return list(rows)

    def key(row: ExpRow) -> tuple[int, float, str]:
        value = _number(lookup(fields(row), sort_by))
        return (value is None, -(value or 0.0), row.exp.name)

    return sorted(rows, key=key)
