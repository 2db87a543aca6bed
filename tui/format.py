"""Human-sized numbers and times for a terminal cell, and untrusted text made safe to show."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# What a terminal would act on rather than show: C0 controls (ESC starts every escape
# sequence), DEL, C1 controls (0x9b is a one-byte CSI on some terminals), and the Unicode
# marks that reorder or hide text (bidi overrides and isolates, line separators). Shown as
# ``\u001b``: readable, and a valid escape inside a JSON string as well as a Python one.
_MARKS = "\\x7f-\\x9f\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069"
_CONTROL = re.compile(f"[\\x00-\\x1f{_MARKS}]")
_CONTROL_BUT_LINES = re.compile(f"[\\x00-\\x08\\x0b-\\x1f{_MARKS}]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def shown(text: str, lines: bool = False) -> str:
    """``text`` (a name, value, message or path from a repository or remote) with every
    control character made visible, so it can never move the cursor, retitle the window
    or clear the screen. With ``lines``, newlines and tabs are kept."""
    pattern = _CONTROL_BUT_LINES if lines else _CONTROL
    return pattern.sub(_escape, text)


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_size(size: int | None) -> str:
    """``1536`` -> ``1.5 KiB``; unknown sizes show as ``?``."""
    if size is None:
        return "?"
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_age(seconds: float) -> str:
    """Compact age: ``now``, ``42s``, ``5m``, ``3h``, ``2d``, ``6w``, ``1y``."""
    if seconds < 5:
        return "now"
    for limit, unit, span in (
        (60, "s", 1),
        (3600, "m", 60),
        (86400, "h", 3600),
        (86400 * 14, "d", 86400),
        (86400 * 365, "w", 86400 * 7),
    ):
        if seconds < limit:
            return f"{int(seconds // span)}{unit}"
    return f"{int(seconds // (86400 * 365))}y"


def format_value(value: Any) -> str:
    """Metric and param values: floats trimmed to 4 significant decimals, the rest as text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "-"
    return shown(str(value))


MAX_DECIMALS = 6
SIGNIFICANT = 4


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decimals(value: float) -> int | None:
    """The decimals ``value`` needs at four significant digits (``0.167`` -> 3, ``0.01``
    -> 2, ``42.0`` -> 0); None when it only reads well in exponent form."""
    if not math.isfinite(value):
        return 0
    text = f"{value:.{SIGNIFICANT}g}"
    if "e" in text:
        return None
    return len(text.partition(".")[2])


def _extremes(numbers: list[Any]) -> list[Any]:
    return [min(numbers), max(numbers)] if numbers else []


@dataclass(frozen=True)
class NumberColumn:
    """One column's way of showing its values: every float with the same number of
    decimals and every integer padded where its point would be, so right-justified cells
    line up on the decimal point (``0.1670`` over ``0.1856``, not ``0.167`` over
    ``0.1856``). Fitted to the column's values with :meth:`fit`."""

    decimals: int = 0
    width: int = 1  # the widest cell, so a caller can size the column

    @classmethod
    def fit(cls, values: Iterable[object]) -> NumberColumn:
        """The decimals the column's floats need and its widest cell. Each distinct value
        is looked at once, and numbers shown in fixed point are measured at their
        extremes only (a cell's length grows with the number's magnitude): 10,000 rows
        took 58 ms of the UI thread, each time values arrived."""
        floats: dict[float, None] = {}
        ints: dict[int, None] = {}
        others: list[object] = []  # text, booleans, lists: measured one by one
        negative_zero = False
        for value in values:
            if isinstance(value, float):
                floats[value] = None
                negative_zero = negative_zero or (not value and math.copysign(1.0, value) < 0)
            elif isinstance(value, int) and not isinstance(value, bool):
                ints[value] = None
            elif value is not None:
                others.append(value)
        if negative_zero:  # equal to 0.0 as a key, yet "-0.00" is a character wider
            floats.pop(-0.0)
            floats[-0.0] = None
        needs = {value: _decimals(value) for value in floats}
        decimals = min(MAX_DECIMALS, max([n for n in needs.values() if n is not None], default=0))
        fixed = [v for v, n in needs.items() if n is not None and math.isfinite(v)]
        measured = [v for v, n in needs.items() if n is None or not math.isfinite(v)] + others
        measured += _extremes(fixed) + _extremes(list(ints))
        plain = cls(decimals)
        return cls(decimals, max([len(plain(v)) for v in measured], default=1))

    def __call__(self, value: object) -> str:
        """``value`` as this column shows it; text and booleans as :func:`format_value`."""
        if isinstance(value, float) and _decimals(value) is not None and math.isfinite(value):
            return f"{value:.{self.decimals}f}"
        if isinstance(value, int) and not isinstance(value, bool) and self.decimals:
            return f"{value}" + " " * (self.decimals + 1)
        return format_value(value)

    def change(self, before: object, after: object) -> str:
        """``after - before`` signed, in this column's precision; blank when either is
        not a number or nothing changed."""
        if not (_is_number(before) and _is_number(after)) or before == after:
            return ""
        delta = after - before  # type: ignore[operator]
        if isinstance(delta, int):
            return f"{delta:+d}" + (" " * (self.decimals + 1) if self.decimals else "")
        decimals = self.decimals if _decimals(delta) is not None else None
        return f"{delta:+.{decimals}f}" if decimals is not None else f"{delta:+.2g}"
