"""Key hints that name the key the user actually has.

Hints such as "z cancels" were written into the widgets, so a user who remapped cancel in
the settings file read the wrong key. :func:`live_key` asks the running app (its keymap
applied); :func:`screen_keys` reads a modal's own bindings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen


def live_key(node: DOMNode, binding_id: str, default: str) -> str:
    """The key bound to ``binding_id`` now, as the footer shows it."""
    display: Callable[[str], str] | None = getattr(node.app, "key_display", None)
    return display(binding_id) if display is not None else default


def screen_keys(screen: Screen[Any], action: str) -> str:
    """A modal's keys for ``action``, e.g. ``y / ⏎``."""
    keys = [
        key.strip()
        for binding in screen.BINDINGS
        if isinstance(binding, Binding) and binding.action == action
        for key in binding.key.split(",")
    ]
    return " / ".join(screen.app.get_key_display(Binding(key, action)) for key in keys)
