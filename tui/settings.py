"""The user's settings file: today, the keymap (binding id -> keys), as in lazygit or k9s.

Read from ``$EXPTUI_CONFIG_FILE``, else ``$XDG_CONFIG_HOME/exptui/config.yaml`` (by
default ``~/.config/exptui/config.yaml``)::

    keymap:
      push: ctrl+u      # binding ids are listed by ? (help)
      mark: x,space

A missing file is no error; a broken one, or an unknown binding id, is reported once as a
warning and otherwise ignored, so a typo never stops the app from starting.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import yaml


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


def load_settings(binding_ids: Collection[str], path: Path | None = None) -> Settings:
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
    for binding_id, keys in keymap.items():
        if binding_id not in binding_ids:
            known = ", ".join(sorted(binding_ids))
            settings.problems.append(f"{path}: no binding '{binding_id}' (known: {known})")
        elif not isinstance(keys, str) or not keys.strip():
            settings.problems.append(f"{path}: keys for '{binding_id}' should be text like 'x'")
        else:
            settings.keymap[binding_id] = keys.replace(" ", "")
    return settings
