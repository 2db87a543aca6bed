"""The user's settings file: today, the keymap (binding id -> keys), as in lazygit or k9s.

Read from ``$EXPTUI_CONFIG_FILE``, else ``$XDG_CONFIG_HOME/exptui/config.yaml`` (by
default ``~/.config/exptui/config.yaml``)::

    keymap:
      push: ctrl+u      # binding ids are listed by ? (help)
      mark: x,space

A missing file is no error; a broken one, an unknown binding id, a key Textual cannot
deliver or a key another binding already answers to is reported once as a warning and
otherwise ignored (the binding keeps its default), so a typo never stops the app from
starting and never silently takes over another key.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from textual.binding import Binding
from textual.keys import Keys, _character_to_key, key_to_character


@dataclass
class Settings:
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def settings_path() -> Path:
    explicit = os.environ.get("EXPTUI_CONFIG_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "exptui" / "config.yaml"


MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
RESERVED = {"ctrl+p": "the command palette", "ctrl+q": "quit", "ctrl+c": "copy"}


def load_settings(bindings: Sequence[Binding], path: Path | None = None) -> Settings:
    """The keymap for ``bindings`` (every binding active on the main screen), each entry
    checked: a known id, keys Textual can deliver, and no key another binding answers
    to. A refused entry is named in ``problems`` and the binding keeps its default."""
    path = path or settings_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return Settings(problems=[f"{path}: cannot read it ({str(exc).splitlines()[0]})"])
    settings = Settings()
    keymap = (data or {}).get("keymap", {}) if isinstance(data, dict) else None
    if not isinstance(keymap, dict):
        settings.problems.append(f"{path}: 'keymap' should map binding ids to keys")
        return settings
    binding_ids = {b.id for b in bindings if b.id}
    for binding_id, keys in keymap.items():
        if binding_id not in binding_ids:
            known = ", ".join(sorted(binding_ids))
            settings.problems.append(f"{path}: no binding '{binding_id}' (known: {known})")
        elif not isinstance(keys, str) or not keys.strip():
            settings.problems.append(f"{path}: keys for '{binding_id}' should be text like 'x'")
        elif bad := [k for k in _keys(keys) if not is_key(k)]:
            settings.problems.append(
                f"{path}: '{bad[0]}' for '{binding_id}' is not a key name (e.g. x, P, "
                "ctrl+u, f5, question_mark); it keeps its default"
            )
        else:
            settings.keymap[binding_id] = ",".join(_keys(keys))
    settings.problems += _drop_conflicts(settings.keymap, bindings, path)
    return settings


def _keys(keys: str) -> list[str]:
    return [k for k in keys.replace(" ", "").split(",") if k]


def is_key(key: str) -> bool:
    """A key Textual can deliver: a printable character or a key name, with modifiers."""
    *modifiers, base = key.split("+")
    if not base or not set(modifiers) <= MODIFIERS:
        return False
    if len(base) == 1:
        return base.isprintable()
    names = {k.value for k in Keys}
    return base in names or key_to_character(base) is not None


def _drop_conflicts(keymap: dict[str, str], bindings: Sequence[Binding], path: Path) -> list[str]:
    """Refuse a remapped key another binding answers to (``push: q`` took over quit):
    the remap is dropped and both bindings are named."""
    problems = []
    for binding_id in list(keymap):
        taken = _owners(keymap, bindings, exclude=binding_id)
        for key in _keys(keymap[binding_id]):
            other = taken.get(_normal(key))
            if other is not None:
                problems.append(
                    f"{path}: '{key}' for '{binding_id}' is already {other}'s key; "
                    f"'{binding_id}' keeps its default"
                )
                del keymap[binding_id]
                break
    return problems


def _owners(keymap: dict[str, str], bindings: Sequence[Binding], exclude: str) -> dict[str, str]:
    """Every key in use, the keymap applied, and who answers to it."""
    owners = dict(RESERVED)
    for binding in bindings:
        if binding.id == exclude:
            continue
        keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
        for key in _keys(keys):
            owners.setdefault(_normal(key), binding.id or binding.description or binding.action)
    return owners


def _normal(key: str) -> str:
    """``?`` and ``question_mark`` are one key."""
    return _character_to_key(key) if len(key) == 1 else key
