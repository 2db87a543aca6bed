"""Limits on documents from commits and remotes: size before parsing, depth and expanded
size after.

A params file is someone else's bytes. Without limits, a 100 MB file took a minute and
4 GB to parse, a YAML "billion laughs" (aliases of aliases) parsed small and then expanded
to gigabytes when shown or written as JSON, and deep nesting raised ``RecursionError``
from every parser. Each limit is far above any real DVC file (a 20,000-stage ``dvc.lock``
is 2 MiB) and turns the attack into one "skipped" note for that file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from core.errors import DocumentTooLargeError

MIB = 1 << 20
MAX_PIPELINE_BYTES = 8 * MIB  # dvc.yaml, dvc.lock, .dvc files
MAX_VALUES_BYTES = 2 * MIB  # params and metrics files
MAX_DEPTH = 100
MAX_NODES = 500_000  # counted as expanded: an alias counts each time it is used

_T = TypeVar("_T")


def check_size(data: bytes, limit: int) -> bytes:
    if len(data) > limit:
        raise DocumentTooLargeError(
            f"too large ({len(data) / MIB:.1f} MiB, the limit is {limit // MIB} MiB), skipped"
        )
    return data


def parse_within_limits(parse: Callable[[], _T]) -> _T:
    """Run ``parse`` and check what it built: no deeper than :data:`MAX_DEPTH`, no more
    than :data:`MAX_NODES` values once aliases are expanded (cycles included)."""
    try:
        document = parse()
    except RecursionError as exc:
        raise DocumentTooLargeError(
            f"nested too deeply (over {MAX_DEPTH} levels), skipped"
        ) from exc
    _check_shape(document)
    return document


def _check_shape(document: Any) -> None:
    """An iterative walk that stops at the first limit, so its cost is bounded too."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise DocumentTooLargeError(
                f"too many values once expanded (over {MAX_NODES:,}), skipped"
            )
        if depth > MAX_DEPTH:
            raise DocumentTooLargeError(f"nested too deeply (over {MAX_DEPTH} levels), skipped")
        if isinstance(value, Mapping):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((child, depth + 1) for child in value)
