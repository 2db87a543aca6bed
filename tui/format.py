"""Human-sized numbers and times for a terminal cell."""

from __future__ import annotations

from typing import Any

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
    return str(value)
